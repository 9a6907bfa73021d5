#!/usr/bin/env bash
# Gather what tier 2 of the GPU check (tools/gpu_check.py) needs beyond a GPU machine's own torch,
# numpy, torchvision, scipy, matplotlib, opencv and pytest, into ONE folder that travels with the
# working tree to a machine without a package index: the pure-Python OpenMMLab stack (mmengine,
# mmcv-lite, mmsegmentation), detectron2 0.6's Python package, and their small dependencies, as
# wheels for that machine's Python. Run it here (with the index); `make gpu-check` there installs
# from the folder with --no-index into a venv that sees the machine's own torch.
#
#   bash tools/gpu_wheelhouse.sh [OUT] [PYTHON_VERSION]    (default work_dirs/gpu_wheelhouse 3.12)
#
# It builds (or reuses) the current stack's venv (SEGSSL_STACK=current tools/setup_env.sh, ~2.5 min
# the first time) for detectron2's sdist, whose setup.py imports torch; D2_PYTHON=... names another
# interpreter with torch instead.
# The folder must stay well under the 64 MiB the device tool carries (it prints its size).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/work_dirs/gpu_wheelhouse}"
PYV="${2:-3.12}"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
LIMIT_MIB=48
# Exact versions: requirements/stack-current.txt's where it has them (the stack tested here).
pin() { grep -E "^$1==" "$ROOT/requirements/stack-current.txt" | head -1; }
WHEELS=(
  "$(pin mmengine)" "$(pin mmcv-lite)" "$(pin mmsegmentation)" "$(pin ftfy)" "$(pin regex)"
  "$(pin pycocotools)" "$(pin fvcore)" "$(pin iopath)" "$(pin omegaconf)" "$(pin hydra-core)"
  "$(pin yacs)" "$(pin tabulate)" "$(pin termcolor)" "$(pin cloudpickle)" "$(pin tqdm)"
  addict yapf rich markdown-it-py mdurl pygments prettytable wcwidth platformdirs pyyaml
  portalocker "setuptools==80.9.0"
)
SDISTS=(antlr4-python3-runtime==4.9.3)     # omegaconf's parser runtime
D2_SDIST=pb1-detectron2==0.6

log() { echo "[gpu_wheelhouse] $*" >&2; }
rm -rf "$OUT.partial" && mkdir -p "$OUT.partial"
log "wheels for Python $PYV (manylinux x86_64) -> $OUT"
# A package published as an sdist only (fvcore, antlr4 ...) is pure Python: build its wheel here.
for req in "${WHEELS[@]}"; do
  "$PY" -m pip download -q --no-deps --only-binary :all: --python-version "$PYV" \
    --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 -d "$OUT.partial" "$req" 2>/dev/null || SDISTS+=("$req")
done
log "built from sdists (pure Python): ${SDISTS[*]}"
"$PY" -m pip wheel -q --no-deps -w "$OUT.partial" "${SDISTS[@]}"
for w in "$OUT.partial"/*.whl; do              # a compiled wheel must be for the target Python
  case "$(basename "$w")" in *-py3-none-any.whl|*-py2.py3-none-any.whl|*-cp${PYV/./}-*|*-abi3-*) ;;
    *) log "ERROR: $(basename "$w") is not for Python $PYV"; exit 1 ;; esac
done
# detectron2: its sdist's Python package, without the C++ sources (as tools/setup_env.sh installs it).
# Reading the sdist's metadata runs its setup.py, which imports torch: use the current stack's venv.
D2_PY="${D2_PYTHON:-$(SEGSSL_STACK=current bash "$ROOT/tools/setup_env.sh")/bin/python}"
TMP="$(mktemp -d)"
"$D2_PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d "$TMP" "$D2_SDIST"
tar -xzf "$(ls "$TMP"/*.tar.gz | head -1)" -C "$TMP"
D2SRC="$(dirname "$(ls -d "$TMP"/*/detectron2/__init__.py | head -1)")"
[[ -d "$D2SRC/model_zoo/configs" ]] || cp -r "$(dirname "$D2SRC")/configs" "$D2SRC/model_zoo/configs"
tar -czf "$OUT.partial/detectron2-0.6-python.tar.gz" -C "$(dirname "$D2SRC")" detectron2
rm -rf "$TMP"
SIZE_MIB=$(( $(du -sk "$OUT.partial" | cut -f1) / 1024 ))
if (( SIZE_MIB > LIMIT_MIB )); then
  log "ERROR: $SIZE_MIB MiB is over the $LIMIT_MIB MiB kept for it of the 64 MiB carried"; exit 1
fi
rm -rf "$OUT" && mv "$OUT.partial" "$OUT"
log "$(ls "$OUT" | wc -l) files, $SIZE_MIB MiB in $OUT; carry it: run(carry=['work_dirs/gpu_wheelhouse'], command='make gpu-check')"
