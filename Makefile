# posekit course: `make lab` to study, `make test` to run everything CI runs.
# Both create .venv and install on first use (and again whenever pyproject.toml changes).

PYTHON      ?= python3
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
MEDIAPIPE   ?= mediapipe==0.10.14
EXTRAS      ?= sparse,real,dev,grade
JOBS        ?= 2
CELL_TIMEOUT ?= 180

BIN   := $(VENV)/bin
PIP   := $(BIN)/python -m pip
STAMP := $(VENV)/.posekit-installed

# CI and quick previews: small data, one thread per notebook kernel, no display.
TEST_ENV := POSEKIT_QUICK=1 MPLBACKEND=Agg OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE POSEKIT_THREADS=1 PYTHONHASHSEED=0
NBVAL    := -p no:cacheprovider --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) -n $(JOBS) --dist loadscope

.PHONY: help setup lab test lint course-check strip-check unit nbval-solutions nbval-notebooks \
        browser-test chromium course doctor doctor-strict torch-index clean weights

help:
	@echo "make lab     install (first time) and start JupyterLab on notebooks/"
	@echo "make test    install (first time) and run everything CI runs"
	@echo "make course  rebuild notebooks/ from solutions/"
	@echo "make doctor  print versions and what works"
	@echo "make browser-test  run every lesson in JupyterLab in headless chromium"

setup: $(STAMP)

# Where torch comes from. pip configured with its own index or wheel folder (a mirror, or a
# machine's local CPU wheel): that, untouched. Otherwise on Linux PyTorch's CPU wheel index,
# because PyPI's Linux torch is the CUDA build (gigabytes of nvidia wheels); macOS's is CPU
# already. A TORCH_SPEC naming its own index (GPU users) gets nothing added.
TORCH_INDEX ?= $(if $(findstring index-url,$(TORCH_SPEC)),,$(shell \
	if $(PYTHON) -m pip config list 2>/dev/null | grep -qE '\.(index-url|extra-index-url|find-links)='; \
	then :; elif [ "$$(uname -s)" = Linux ]; then echo "--index-url $(TORCH_CPU_INDEX)"; fi))

torch-index:
	@echo "$(TORCH_INDEX)"

# torch first, pinned: an unpinned torch would make pip pull gigabytes of CUDA wheels.
# mediapipe last, without its dependencies: they would pull jax, jaxlib and
# opencv-contrib-python (which fights opencv-python over cv2); the `real` extra lists
# what it really needs at run time. mediapipe has wheels for Python <= 3.12 only.
# JupyterLab's settings (no news pop-up) go into the environment.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH_SPEC) $(TORCH_INDEX)
	$(PIP) install --quiet -e ".[$(EXTRAS)]"
	@if $(BIN)/python -c 'import sys; sys.exit(sys.version_info >= (3, 13))'; then \
	  echo "$(PIP) install --quiet --no-deps $(MEDIAPIPE)"; \
	  $(PIP) install --quiet --no-deps "$(MEDIAPIPE)"; \
	else echo "skipped: mediapipe needs Python <= 3.12 (the lessons use hand-placed keypoints)"; fi
	$(BIN)/python -c "from posekit import launch; print('JupyterLab settings:', launch.install_overrides())"
	touch $@

# Root (containers) gets --allow-root added to whatever LAB_FLAGS says, never replacing it.
LAB_FLAGS ?=

lab: $(STAMP)
	@$(BIN)/posekit lab --folder notebooks $(LAB_FLAGS)

test: $(STAMP) doctor-strict lint course-check strip-check unit weights nbval-solutions \
      nbval-notebooks browser-test
	@echo "make test: all stages passed ($$(date +%T))"

lint: $(STAMP)
	@echo "== $@ started $$(date +%T)"
	$(BIN)/ruff check posekit tests data_scripts solutions notebooks
	$(BIN)/ruff format --check posekit tests data_scripts

course-check: $(STAMP)
	@echo "== $@ started $$(date +%T)"
	$(BIN)/posekit course check

strip-check: $(STAMP)
	@echo "== $@ started $$(date +%T)"
	@nbs=$$(ls solutions/*.ipynb notebooks/*.ipynb 2>/dev/null); \
	if [ -n "$$nbs" ]; then $(BIN)/nbstripout --verify $$nbs && echo "nbstripout: clean"; \
	else echo "nbstripout: no notebooks yet"; fi

unit: $(STAMP)
	@echo "== $@ started $$(date +%T)"
	$(TEST_ENV) $(BIN)/python -m pytest tests -n $(JOBS) -p no:cacheprovider --ignore=tests/browser

# The authors' released EfficientPose models (lesson 05), fetched and converted once into
# $$POSEKIT_DATA/efficientpose. EFFICIENTPOSE_FROM: a folder with local copies of the files (CI's
# .ci/run passes the one it keeps); without it, lesson 05 downloads them itself or, offline, says
# so and skips the released models.
EFFICIENTPOSE_FROM ?=

weights: $(STAMP)
	@echo "== $@ started $$(date +%T)"
	@if [ -n "$(EFFICIENTPOSE_FROM)" ]; then \
	  $(BIN)/python data_scripts/download_efficientpose.py --from "$(EFFICIENTPOSE_FROM)" --no-progress \
	    | tail -n 4; \
	else echo "no local copy of the EfficientPose files: lesson 05 fetches them when online"; fi

# pytest exits 5 when a folder has no notebook yet: that is not a failure.
nbval-solutions: $(STAMP)
	@echo "== $@ started $$(date +%T)"
	$(TEST_ENV) POSEKIT_CHECK_MODE=strict $(BIN)/python -m pytest $(NBVAL) solutions; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "solutions/: no notebooks yet"; exit 0; fi; exit $$rc

nbval-notebooks: $(STAMP)
	@echo "== $@ started $$(date +%T)"
	$(TEST_ENV) POSEKIT_CHECK_MODE=expect-todo $(BIN)/python -m pytest $(NBVAL) notebooks; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "notebooks/: no notebooks yet"; exit 0; fi; exit $$rc

# Every lesson run in JupyterLab in a real browser: Debian's chromium driven by Playwright
# (never `playwright install`, which downloads a browser). Screenshots: build/browser/.
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's chromium (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium missing and apt-get unavailable (or not root): the browser test will skip"; fi

browser-test: $(STAMP) chromium
	@echo "== $@ started $$(date +%T)"
	$(TEST_ENV) $(BIN)/python -m pytest tests/browser -p no:cacheprovider -v

course: $(STAMP)
	$(BIN)/posekit course build

doctor: $(STAMP)
	$(BIN)/posekit doctor

# spconv and mediapipe (without jax) must really work, not just import.
doctor-strict: $(STAMP)
	@echo "== $@ started $$(date +%T)"
	$(BIN)/posekit doctor --strict

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
