# The developer's entry points. `make run` and `make test` set everything up
# (virtualenv, pinned dependencies, models) and are safe to re-run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
EXTRAS := ml,convert,local,infra,dev

.PHONY: install models run test test-fast bench synth lint clean

install: $(INSTALLED)

# The local stack's S3 server (s3rver) is an npm package, pinned by local/package-lock.json.
$(INSTALLED): pyproject.toml local/package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	npm ci --prefix local --no-audit --no-fund --loglevel=error
	touch $@

models: install
	$(VENV)/bin/cheese models fetch

run: models
	$(VENV)/bin/cheese run

test: models
	$(PY) -m pytest -q -rs $(PYTEST_ARGS)

bench: models
	$(PY) bench/run.py

# Formatting, lint rules and types (strict for the runtime layer and new functions).
LINT_PATHS := layers functions local infra tests bench
lint: install
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/mypy layers/runtime/cheese_runtime layers/ml/cheese_ml functions local/cheese_local infra

# Synthesise with cdk-nag (zero unsuppressed findings), then import every zip
# function's handler from exactly what its Lambda package and layer hold.
synth: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 $(PY) -m infra.synth_check
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 $(PY) -m infra.layer_check

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .hypothesis local/node_modules
