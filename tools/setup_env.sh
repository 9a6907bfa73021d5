#!/usr/bin/env bash
# Build (or reuse) the segssl environment from nothing: venv, torch, mmcv, mmseg, detectron2 0.6's
# Python package (from the pb1-detectron2 sdist, without its C++ sources). Two stacks:
#   SEGSSL_STACK=pinned  (default) requirements/stack.txt: torch 2.1.2, numpy 1, full mmcv 2.1.0
#                        with its ops, built here from its sdist once (~7-14 min on 2 cores)
#   SEGSSL_STACK=current requirements/stack-current.txt: torch 2.14, numpy 2, mmcv-lite; nothing
#                        is compiled (~2-3 min)
#
# The venv lives outside the clone, keyed by a hash of the stack file and STACK_REVISION, so a
# repeat run (CI on the same machine, a second clone) reuses it. Prints the venv path last.
# Environment:
#   SEGSSL_STACK   pinned | current (default pinned)
#   SEGSSL_CACHE   where venvs and built wheels live (default ~/.cache/segssl)
#   PYTHON         the interpreter to build the venv from (default python3.11, else python3)
#   MAX_JOBS       parallel jobs for the mmcv build (default: number of cores)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_NAME="${SEGSSL_STACK:-pinned}"
case "$STACK_NAME" in
  pinned) STACK="$ROOT/requirements/stack.txt" ;;
  current) STACK="$ROOT/requirements/stack-current.txt" ;;
  *) echo "[setup_env] ERROR: SEGSSL_STACK=$STACK_NAME: expected pinned or current" >&2; exit 2 ;;
esac
CACHE="${SEGSSL_CACHE:-$HOME/.cache/segssl}"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
# Bump STACK_REVISION when a change to this script changes what ends up in the venv.
STACK_REVISION=1
KEY="$( (cat "$STACK"; echo "revision $STACK_REVISION") | sha256sum | cut -c1-12)"
VENV="$CACHE/venv-$KEY"
WHEELS="$CACHE/wheels"
MMCV_VERSION=2.1.0
D2_SDIST=pb1-detectron2==0.6

log() { echo "[setup_env] $*" >&2; }
die() { echo "[setup_env] ERROR: $*" >&2; exit 1; }
step() {  # step NAME CMD... : run a step, print its wall time, fail loudly
  local name="$1"; shift; local t0=$SECONDS
  log "step '$name' ..."
  "$@" >&2 || die "step '$name' failed (command: $*)"
  log "step '$name' done in $((SECONDS - t0)) s"
}
pin() { grep -E "^$1==" "$STACK" | head -1 || die "no pin for $1 in $STACK"; }
section() {  # the pins between '# --- step: NAME' and the next section
  awk -v n="$1" '/^# --- step:/{on=index($0, n)>0; next} on && /^[^#[:space:]]/{print}' "$STACK"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.setup.lock"            # one build at a time per cache (parallel clones, CI)
flock 9 || die "could not lock $CACHE/.setup.lock"

if [[ -f "$VENV/.complete" ]]; then
  log "reusing $VENV (pins unchanged)"
else
  T0=$SECONDS
  [[ -x "$PY" ]] || die "no python interpreter found (set PYTHON=...)"
  "$PY" -c 'import sys; assert sys.version_info[:2] >= (3, 8) and sys.version_info[:2] <= (3, 11), sys.version' \
    || [[ "$STACK_NAME" == current ]] \
    || die "$PY is not Python 3.8-3.11 (torch 2.1.2 wheels need one of those)"
  rm -rf "$VENV"; mkdir -p "$CACHE" "$WHEELS"
  PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
  step venv "$PY" -m venv "$VENV"
  step build-tools "${PIP[@]}" install -q "setuptools<70" wheel ninja
  mapfile -t TORCH < <(section torch)
  step torch "${PIP[@]}" install -q "${TORCH[@]}"

  # mmcv 2.1.0 has no wheel for torch 2.1 on the index: build it once, keep the wheel. The
  # current stack takes mmcv-lite from its OpenMMLab section instead.
  MMCV_WHEEL="$(ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -1 || true)"
  if [[ "$STACK_NAME" == current ]]; then
    MMCV_WHEEL=()
  elif [[ -z "$MMCV_WHEEL" ]]; then
    export MAX_JOBS="${MAX_JOBS:-$(nproc)}"
    TMPW="$(mktemp -d "$WHEELS/.build.XXXX")"
    step "mmcv build (about 14 min on 2 cores)" env MMCV_WITH_OPS=1 FORCE_CUDA=0 \
      "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$TMPW" "mmcv==$MMCV_VERSION"
    mv "$TMPW"/mmcv-*.whl "$WHEELS/" && rm -rf "$TMPW"   # rename into place: no half wheel
    MMCV_WHEEL="$(ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl | head -1)"
  else
    log "reusing built $MMCV_WHEEL"
  fi
  mapfile -t REST < <(section OpenMMLab; section detectron2; section tests)
  step "mmcv + mmseg + detectron2 deps" "${PIP[@]}" install -q "${MMCV_WHEEL[@]}" "${REST[@]}" \
    "$(pin torch)" "$(pin torchvision)" "$(pin numpy)"

  # detectron2 0.6: the index's pb1-detectron2 sdist has the official Python sources but no
  # csrc/, so install only its pure-Python package; segssl.detectron2 stands in for _C.
  D2TMP="$(mktemp -d)"
  # its setup.py imports torch: prepare its metadata in this venv, not an isolated one
  step "detectron2 sdist download" "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation -d "$D2TMP" "$D2_SDIST"
  step "detectron2 unpack" tar -xzf "$(ls "$D2TMP"/*.tar.gz | head -1)" -C "$D2TMP"
  D2SRC="$(dirname "$(ls -d "$D2TMP"/*/detectron2/__init__.py | head -1)")"
  [[ -f "$D2SRC/model_zoo/__init__.py" ]] || die "unexpected layout of $D2_SDIST: no detectron2/model_zoo"
  SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  step "detectron2 install (Python package only)" cp -r "$D2SRC" "$SITE/detectron2"
  if [[ ! -d "$SITE/detectron2/model_zoo/configs" ]]; then
    [[ -d "$(dirname "$D2SRC")/configs" ]] || die "$D2_SDIST has no model-zoo configs"
    cp -r "$(dirname "$D2SRC")/configs" "$SITE/detectron2/model_zoo/configs"
  fi
  rm -rf "$D2TMP"
  # mmseg.models and detectron2.modeling are imported through segssl, which stands in for the
  # compiled extensions the stack lacks (mmcv-lite's mmcv._ext, detectron2._C).
  step "check imports" env PYTHONPATH="$ROOT/plugins" "$VENV/bin/python" -c "
import os, torch, mmcv, mmengine, mmseg, pycocotools, numpy, PIL
pins = dict(l.strip().lower().split('==') for l in open('$STACK') if '==' in l and not l.startswith('#'))
assert torch.__version__.split('+')[0] == pins['torch'].split('+')[0], (torch.__version__, pins['torch'])
assert numpy.__version__ == pins['numpy'], numpy.__version__
assert mmcv.__version__ == '$MMCV_VERSION', mmcv.__version__
import segssl.mmseg, segssl.detectron2, mmseg.models, detectron2, detectron2.modeling
assert segssl.mmseg.USING_MMCV_PLACEHOLDER == ('$STACK_NAME' == 'current')
assert os.path.isfile(os.path.join(os.path.dirname(detectron2.__file__), 'model_zoo', 'configs', 'COCO-InstanceSegmentation', 'mask_rcnn_R_50_FPN_1x.yaml'))
print('stack $STACK_NAME: torch', torch.__version__, 'numpy', numpy.__version__, 'mmcv', mmcv.__version__, 'mmseg', mmseg.__version__, 'detectron2', detectron2.__version__)
"
  touch "$VENV/.complete"
  log "environment built in $((SECONDS - T0)) s: $VENV"
fi
# segssl itself: editable, re-pointed at this clone on every run (seconds). Without PYTHONPATH:
# with segssl already on it (the Makefile puts plugins/ there), setuptools' develop install
# drops the venv's .pth entry instead of writing it.
step "segssl (editable)" env -u PYTHONPATH "$VENV/bin/python" -m pip --disable-pip-version-check install -q \
  --no-deps --no-build-isolation -e "$ROOT"
step "check segssl resolves to this checkout" env -u PYTHONPATH "$VENV/bin/python" -c "
import os, segssl
here = os.path.realpath(os.path.join('$ROOT', 'plugins', 'segssl'))
assert os.path.dirname(os.path.realpath(segssl.__file__)) == here, (segssl.__file__, here)"
echo "$VENV"
