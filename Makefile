# The README's commands. Each target creates .venv and installs what it needs first.
# python3.11 where there is one, else python3 (checked to be 3.11 or newer when the venv is made).
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# HOST and PORT are passed to `serve` only when given, so MOCKSERVER_HOST/MOCKSERVER_PORT work too.
HOST ?=
PORT ?=
PYTEST_ARGS ?=
# The one version: mockserver/__init__.py's __version__ (setup.cfg reads it too).
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' mockserver/__init__.py)
# The image's source label: the checkout's remote, when it has one.
SOURCE ?= $(shell git config --get remote.origin.url 2>/dev/null)

.PHONY: run test browser bench bench-peers fuzz lint docs docs-serve dist smoke screenshots clean install

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found (set PYTHON=...)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "make: $(PYTHON) is older than 3.11 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# An editable install has no bytecode, and PYTHONDONTWRITEBYTECODE=1 keeps Python from writing it:
	@# compiled here, as pip compiles an installed package, a start does not compile every module.
	$(BIN)/python -m compileall -q mockserver
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/mockserver serve$(if $(HOST), --host $(HOST))$(if $(PORT), --port $(PORT))

# Debian's Chromium for the dashboard's tests: installed when missing (as root), else a one-line stop.
test: lint browser
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

browser:
	@.ci/browser

# The architecture's contracts (pyproject.toml), mypy --strict, ruff's lint and format, hadolint on the
# Dockerfile, and the documentation site built strictly (a broken link or a missing page fails).
lint: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/ruff check mockserver tests bench docs
	$(BIN)/ruff format --check mockserver tests bench docs
	$(BIN)/hadolint Dockerfile
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site-check

# The documentation site, offline, into site/ (open site/index.html); docs-serve rebuilds it as pages change.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# The sdist and the wheel in dist/, checked as PyPI would.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# Build the image with docker (or podman), run it, check health, the non-root user and a clean stop
# (.ci/container-smoke's header lists its settings, e.g. CONTAINER_ENGINE and SMOKE_RUN_ARGS).
smoke:
	SMOKE_IMAGE=mockserver:$(VERSION) SMOKE_BUILD_ARGS="--build-arg VERSION=$(VERSION) --build-arg SOURCE=$(SOURCE) $(SMOKE_BUILD_ARGS)" .ci/container-smoke

# The docs' pictures of the dashboard, from the distribution's Chromium (apt-get install chromium).
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

# The property tests of tests/test_fuzz_*.py with a larger budget (make test runs them small).
FUZZ_EXAMPLES ?= 1000
fuzz: $(STAMP)
	MOCKSERVER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -n auto tests/test_fuzz_openapi.py tests/test_fuzz_schemas.py $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-peers: $(STAMP)
	$(BIN)/python bench/peers.py

clean:
	rm -rf $(VENV) build dist site *.egg-info
