# The README's two commands: `make demo` and `make test`. Both build the environment first
# (tools/setup_env.sh: ~17 min on a fresh 2-core machine, seconds when its cached venv exists).
SHELL := /bin/bash
VENV = $$(bash tools/setup_env.sh)
# The cached venv is shared by every clone on the machine; its editable install points at the
# last one set up. Put this checkout first so tests and demo always run the code they ship with.
export PYTHONPATH := $(CURDIR)/plugins$(if $(PYTHONPATH),:$(PYTHONPATH))
PYTEST_ARGS ?=
# STACK=current (or SEGSSL_STACK=current): the second stack, current torch + numpy 2 + mmcv-lite
# (requirements/stack-current.txt); default: the pinned one (requirements/stack.txt).
ifdef STACK
export SEGSSL_STACK := $(STACK)
endif

.PHONY: setup test demo clean gpu-check check-install lint
setup:
	@bash tools/setup_env.sh

# The suite writes ~16 GB of temporary files (tmp_path); keep only the latest run's (pytest keeps
# three by default), so the two CI runs (.ci/run) do not add up. Not tmp_path_retention_policy:
# deleting a passed test's folder at once breaks the next test, whose mmengine runner reuses the
# previous one's global visualizer and writes into that folder.
test:
	@venv=$(VENV) && cd $(CURDIR) && "$$venv/bin/python" -m pytest -q -o tmp_path_retention_count=1 $(PYTEST_ARGS) tests

demo:
	@venv=$(VENV) && "$$venv/bin/python" tools/run_demo.py

# isort, black and flake8 over plugins/ tools/ benchmarks/ tests/ (tools/lint.sh, in a small
# cached venv of requirements/lint.txt); `bash tools/lint.sh --fix` rewrites the files.
lint:
	@bash tools/lint.sh

# Each extra of setup.py installed from a built wheel into a fresh venv and checked there
# (tools/check_install.sh; README, "A plain install"), on the chosen stack. Needs `make setup`'s
# mmcv wheel for the pinned stack.
check-install:
	@venv=$(VENV) && bash tools/check_install.sh

# The GPU acceptance check (tools/gpu_check.sh): benchmarks/results/gpu_check.md. Without a GPU it
# stops at once; GPU_CHECK_ARGS="--device cpu --quick" rehearses it on the CPU.
gpu-check:
	@bash tools/gpu_check.sh

clean:
	rm -rf work_dirs data/synthetic data/synthetic_64x128 data/synthetic-pool* .pytest_cache
