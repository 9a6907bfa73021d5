#!/usr/bin/env bash
# A real install, outside the cached venv (issue #18 item 3): each extra of setup.py installed
# from a freshly built segssl wheel into its own fresh venv, under the tested pins of one stack,
# then checked from a folder outside the clone:
#   mmseg (pinned) / mmseg-lite (current)  `import segssl.mmseg, mmseg.models`; a user's config
#       that inherits `segssl::custom/...` parses; the wheel ships every file of configs/;
#       `segssl-convert --help` runs
#   detectron2  every module segssl.detectron2 imports is there except detectron2 itself, which
#       no index serves as a wheel (README, "detectron2 without its compiled extension")
#   test        pytest imports
# Usage: bash tools/check_install.sh [pinned|current]   (default: SEGSSL_STACK, else pinned)
# Reuses pip's download cache and the mmcv wheel tools/setup_env.sh built (SEGSSL_CACHE); each
# venv is deleted after its check. About 2-4 min per extra on 2 cores with a warm pip cache.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Nothing of the checkout on the path: `make` puts plugins/ on PYTHONPATH, where the editable
# install's segssl.egg-info would make pip take segssl as installed and skip the wheel.
unset PYTHONPATH
STACK_NAME="${1:-${SEGSSL_STACK:-pinned}}"
case "$STACK_NAME" in
  pinned) PINS="$ROOT/requirements/stack.txt"; MMSEG_EXTRA=mmseg ;;
  current) PINS="$ROOT/requirements/stack-current.txt"; MMSEG_EXTRA=mmseg-lite ;;
  *) echo "check_install: error: stack '$STACK_NAME': expected pinned or current" >&2; exit 2 ;;
esac
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
WHEELS="${SEGSSL_CACHE:-$HOME/.cache/segssl}/wheels"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
log() { echo "[check_install $STACK_NAME] $*" >&2; }
die() { echo "check_install: error: $*" >&2; exit 1; }

# Constraints: the stack's pins (comments and the mmcv pin, which the built wheel satisfies).
grep -E '^[A-Za-z0-9_.-]+==' "$PINS" > "$WORK/constraints.txt"
T0=$SECONDS
# from a copy of what git tracks (and untracked files it does not ignore): a build/ folder left
# in the checkout by an earlier build must not put stale modules into the wheel
mkdir -p "$WORK/src"
(cd "$ROOT" && git ls-files -co --exclude-standard -z \
   | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$WORK/src") \
  || die "copying the checkout to build from failed"
"$PY" -m pip --disable-pip-version-check wheel -q --no-deps -w "$WORK/dist" "$WORK/src" >&2 \
  || die "building the segssl wheel failed"
WHEEL="$(ls "$WORK"/dist/segssl-*.whl)"
log "built $(basename "$WHEEL") in $((SECONDS - T0)) s"

check_extra() {  # check_extra EXTRA PYTHON-CHECK
  local extra="$1" check="$2" t0=$SECONDS venv="$WORK/venv-$1"
  "$PY" -m venv "$venv"
  local pip=("$venv/bin/python" -m pip --disable-pip-version-check)
  local links=(); [[ -d "$WHEELS" ]] && links=(--find-links "$WHEELS")
  "${pip[@]}" install -q -c "$WORK/constraints.txt" "${links[@]}" "$WHEEL[$extra]" >&2 \
    || die "pip install segssl[$extra] (constraints: $PINS) failed"
  (cd "$WORK" && "$venv/bin/python" -c "$check" "$ROOT") \
    || die "segssl[$extra]: the check after a fresh install failed (above)"
  rm -rf "$venv"
  log "segssl[$extra]: installed and checked in $((SECONDS - t0)) s"
}

check_extra "$MMSEG_EXTRA" "
import os, sys, subprocess
import segssl, segssl.mmseg, mmseg.models
from mmengine.config import Config
root = sys.argv[1]
assert 'site-packages' in segssl.__file__, segssl.__file__   # the wheel, not the clone
from segssl.mmseg.config_scope import configs_dir
def files(top):
    return sorted(os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(top) for f in fs
                  if not f.endswith('.pyc') and '__pycache__' not in d)
shipped, repo = files(configs_dir()), files(os.path.join(root, 'configs'))
assert shipped == repo, ('configs missing from the wheel', sorted(set(repo) - set(shipped)))
open('my_config.py', 'w').write(
    \"_base_ = ['segssl::custom/supervised_deeplabv2_r18-d8_custom-128x128.py']\n\"
    'optim_wrapper = dict(optimizer=dict(lr=0.0123))\n')
os.makedirs('mydata', exist_ok=True)
open('mydata/classes.txt', 'w').write('background\nthing\nstuff\n')
os.environ['SEGSSL_DATA_ROOT'] = 'mydata'
cfg = Config.fromfile('my_config.py')
assert cfg.optim_wrapper.optimizer.lr == 0.0123 and cfg.model.decode_head.num_classes == 3, cfg.model.decode_head
assert cfg.model._scope_ == 'segssl', cfg.model.get('_scope_')
from mmseg.registry import MODELS
from mmengine.registry import init_default_scope
init_default_scope('mmseg')
model = MODELS.build(cfg.model)
assert type(model).__name__ == 'EncoderDecoder', type(model)
subprocess.run([os.path.join(os.path.dirname(sys.executable), 'segssl-convert'), '--help'], check=True,
               stdout=subprocess.DEVNULL)
print('segssl[mmseg]: imports, segssl:: config parsed and built, configs shipped:', len(shipped))
"

check_extra detectron2 "
import ast, importlib.util, os, sys
import segssl
pkg = os.path.join(os.path.dirname(segssl.__file__), 'detectron2')
needed = set()
for path in [os.path.join(d, f) for d, _, fs in os.walk(pkg) for f in fs if f.endswith('.py')]:
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.Import):
                needed |= {a.name.split('.')[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                needed.add(node.module.split('.')[0])
missing = [m for m in sorted(needed - {'detectron2', 'segssl'}) if importlib.util.find_spec(m) is None]
assert not missing, ('segssl.detectron2 imports these, which segssl[detectron2] does not install', missing)
print('segssl[detectron2]: every module segssl.detectron2 imports is installed except detectron2:', sorted(needed))
"

check_extra test "
import pytest, segssl.core, torch
print('segssl[test]: pytest', pytest.__version__, 'and segssl.core on torch', torch.__version__)
"
log "all extras checked in $((SECONDS - T0)) s"
