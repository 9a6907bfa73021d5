#!/usr/bin/env bash
# The lint step (.ci/run runs it before the tests; `make lint`): isort and yapf check the
# formatting, flake8 the code, over plugins/ tools/ benchmarks/ tests/ and setup.py. configs/ is
# left out: mmengine configs hold {{$VAR:default}} templates that are not Python until parsed.
# The tools come from requirements/lint.txt, in a small venv cached beside the stacks' (seconds
# after the first run). `bash tools/lint.sh --fix` rewrites the files instead of checking them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SEGSSL_CACHE:-$HOME/.cache/segssl}"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
KEY="$(sha256sum "$ROOT/requirements/lint.txt" | cut -c1-12)"
VENV="$CACHE/lint-$KEY"
if [[ ! -f "$VENV/.complete" ]]; then
  rm -rf "$VENV"; mkdir -p "$CACHE"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip --disable-pip-version-check install -q -r "$ROOT/requirements/lint.txt" >&2
  touch "$VENV/.complete"
fi
cd "$ROOT"
PATHS=(plugins tools benchmarks tests setup.py)
YAPF=(-r -p -e '*/.mim/*')   # settings: setup.cfg [yapf]
if [[ "${1:-}" == --fix ]]; then
  "$VENV/bin/isort" -q "${PATHS[@]}"
  "$VENV/bin/yapf" -i "${YAPF[@]}" "${PATHS[@]}"
else
  "$VENV/bin/isort" --check-only -q "${PATHS[@]}" || { echo "lint: error: isort would reorder the imports above: run bash tools/lint.sh --fix" >&2; exit 1; }
  "$VENV/bin/yapf" --diff "${YAPF[@]}" "${PATHS[@]}" || { echo "lint: error: yapf would reformat the code above: run bash tools/lint.sh --fix" >&2; exit 1; }
fi
"$VENV/bin/flake8" "${PATHS[@]}" || { echo "lint: error: flake8 found the problems above" >&2; exit 1; }
echo "lint: isort, yapf and flake8 pass on ${PATHS[*]}" >&2
