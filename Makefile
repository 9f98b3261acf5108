# Developer entry points. `make run` and `make test` install what they need
# first: a virtualenv in .venv, the npm packages, the compiled catalogs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CATALOGS := $(patsubst %.po,%.mo,$(wildcard imflask/translations/*/LC_MESSAGES/messages.po))

.PHONY: install run test translations extract-messages clean

install: $(VENV)/.installed node_modules/.installed translations

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
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

run: install
	IMFLASK_DEMO=1 $(BIN)/python wsgi.py

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) node_modules $(CATALOGS)
