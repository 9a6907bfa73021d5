#!/usr/bin/env bash
# `make gpu-check`: the GPU acceptance check (tools/gpu_check.py) with what this machine has.
#   - mmseg and detectron2 import with $PYTHON (a segssl venv, a user's own install): tiers 1 + 2;
#   - else, with a wheelhouse folder (tools/gpu_wheelhouse.sh, carried to a GPU machine without a
#     package index): the wheelhouse installed with --no-index into a folder in /tmp put on
#     PYTHONPATH after the machine's own packages are found (its torch, numpy, scipy, opencv stay
#     as they are: --no-deps), tiers 1 + 2;
#   - else tier 1 only (torch + numpy), saying why.
# Environment: PYTHON (default python3), WHEELHOUSE (default work_dirs/gpu_wheelhouse),
# GPU_CHECK_ARGS (more arguments for tools/gpu_check.py, e.g. "--iters 10").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
WH="${WHEELHOUSE:-$ROOT/work_dirs/gpu_wheelhouse}"
log() { echo "[gpu-check] $*" >&2; }
EXTRA=""                               # where the wheelhouse is installed, if it is
has_stack() { PYTHONPATH="$ROOT/plugins$EXTRA" "$1" -c "import segssl.mmseg, segssl.detectron2" >/dev/null 2>&1; }
TIERS=(1 2)
if has_stack "$PY"; then
  log "mmseg and detectron2 import with $PY"
elif [[ -d "$WH" ]]; then
  TARGET="${TMPDIR:-/tmp}/segssl_gpu_check_site"
  T0=$SECONDS
  rm -rf "$TARGET"
  "$PY" -m pip install -q --no-index --no-deps --target "$TARGET" "$WH"/*.whl
  tar -xzf "$WH/detectron2-0.6-python.tar.gz" -C "$TARGET"
  log "installed $WH into $TARGET in $((SECONDS - T0)) s"
  EXTRA=":$TARGET"
  has_stack "$PY" || { log "the wheelhouse install does not import:"
                       PYTHONPATH="$ROOT/plugins$EXTRA" "$PY" -c "import segssl.mmseg, segssl.detectron2"; exit 1; }
else
  log "no mmseg/detectron2 for $PY and no wheelhouse at $WH (tools/gpu_wheelhouse.sh): tier 1 only"
  TIERS=(1)
fi
cd "$ROOT"
exec env PYTHONPATH="$ROOT/plugins$EXTRA" "$PY" tools/gpu_check.py --tier "${TIERS[@]}" ${GPU_CHECK_ARGS:-}
