# Developer entry points. `make run` and `make test` install what they need
# first: a virtualenv in .venv, the npm packages, the compiled catalogs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CATALOGS := $(patsubst %.po,%.mo,$(wildcard imflask/translations/*/LC_MESSAGES/messages.po))

.PHONY: install run test translations extract-messages clean chromium screenshots

install: $(VENV)/.installed node_modules/.installed translations

# The example plugin is installed too, so its test proves discovery through its entry point.
$(VENV)/.installed: setup.cfg pyproject.toml examples/imflask-wordfilter/setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet -e examples/imflask-wordfilter
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

translations: $(CATALOGS)

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

# Refresh the .po catalogs after changing user-facing strings.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o imflask/translations/messages.pot .
	$(BIN)/pybabel update -i imflask/translations/messages.pot -d imflask/translations --no-fuzzy-matching

# exec: the shell that make starts becomes the server, so a signal sent to it reaches the server.
run: install
	IMFLASK_DEMO=1 exec $(BIN)/python wsgi.py

test: install chromium
	$(BIN)/python -m pytest

# The browser tests drive Debian's chromium through Playwright, which cannot
# download a browser of its own here. Install it when it is missing; without
# apt-get the browser tests skip themselves.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	    if command -v apt-get >/dev/null; then $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; \
	    else echo "No /usr/bin/chromium and no apt-get: the browser tests will skip (IMFLASK_TEST_CHROMIUM names another binary)."; fi; \
	fi

# Take the screenshots in docs/screenshots again, from the browser tests.
screenshots: install chromium
	IMFLASK_SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest -q tests/test_browser_*.py

clean:
	rm -rf $(VENV) node_modules $(CATALOGS)
