# posekit course: `make lab` to study, `make test` to run everything CI runs.
# Both create .venv and install on first use (and again whenever pyproject.toml changes).

PYTHON      ?= python3
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0
MEDIAPIPE   ?= mediapipe==0.10.14
EXTRAS      ?= sparse,real,dev
JOBS        ?= 2
CELL_TIMEOUT ?= 180

BIN   := $(VENV)/bin
PIP   := $(BIN)/python -m pip
STAMP := $(VENV)/.posekit-installed

# CI and quick previews: small data, one thread per notebook kernel, no display.
TEST_ENV := POSEKIT_QUICK=1 MPLBACKEND=Agg OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE POSEKIT_THREADS=1 PYTHONHASHSEED=0
NBVAL    := -p no:cacheprovider --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) -n $(JOBS) --dist loadscope

.PHONY: help setup lab test lint course-check strip-check unit nbval-solutions nbval-notebooks \
        course doctor doctor-strict clean

help:
	@echo "make lab     install (first time) and start JupyterLab on notebooks/"
	@echo "make test    install (first time) and run everything CI runs"
	@echo "make course  rebuild notebooks/ from solutions/"
	@echo "make doctor  print versions and what works"

setup: $(STAMP)

# torch first, pinned: an unpinned torch would make pip pull gigabytes of CUDA wheels.
# mediapipe last, without its dependencies: they would pull jax, jaxlib and
# opencv-contrib-python (which fights opencv-python over cv2); the `real` extra lists
# what it really needs at run time.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH_SPEC)"
	$(PIP) install --quiet -e ".[$(EXTRAS)]"
	$(PIP) install --quiet --no-deps "$(MEDIAPIPE)"
	touch $@

# --allow-root only where JupyterLab would otherwise refuse (containers run as root).
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(LAB_FLAGS)

test: $(STAMP) doctor-strict lint course-check strip-check unit nbval-solutions nbval-notebooks
	@echo "make test: all stages passed"

lint: $(STAMP)
	$(BIN)/ruff check posekit tests data_scripts solutions notebooks
	$(BIN)/ruff format --check posekit tests data_scripts

course-check: $(STAMP)
	$(BIN)/posekit course check

strip-check: $(STAMP)
	@nbs=$$(ls solutions/*.ipynb notebooks/*.ipynb 2>/dev/null); \
	if [ -n "$$nbs" ]; then $(BIN)/nbstripout --verify $$nbs && echo "nbstripout: clean"; \
	else echo "nbstripout: no notebooks yet"; fi

unit: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest tests -n $(JOBS) -p no:cacheprovider

# pytest exits 5 when a folder has no notebook yet: that is not a failure.
nbval-solutions: $(STAMP)
	$(TEST_ENV) POSEKIT_CHECK_MODE=strict $(BIN)/python -m pytest $(NBVAL) solutions; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "solutions/: no notebooks yet"; exit 0; fi; exit $$rc

nbval-notebooks: $(STAMP)
	$(TEST_ENV) POSEKIT_CHECK_MODE=expect-todo $(BIN)/python -m pytest $(NBVAL) notebooks; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "notebooks/: no notebooks yet"; exit 0; fi; exit $$rc

course: $(STAMP)
	$(BIN)/posekit course build

doctor: $(STAMP)
	$(BIN)/posekit doctor

# spconv and mediapipe (without jax) must really work, not just import.
doctor-strict: $(STAMP)
	$(BIN)/posekit doctor --strict

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
