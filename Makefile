# Medina — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PORT ?= 8000
# Links in emails follow the port `make run` serves on, unless MEDINA_BASE_URL says otherwise.
MEDINA_BASE_URL ?= http://127.0.0.1:$(PORT)
export MEDINA_BASE_URL
# Python keeps the bytecode it compiles (__pycache__/, git-ignored): a machine that sets PYTHONDONTWRITEBYTECODE
# (this one does) makes every process compile every module from source again, ~4 s a start, and the tests start
# dozens (workers, live servers, `medina` commands).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint typecheck messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# One pip run for the app and its test tools (a clean clone in CI builds the venv from scratch): the editable
# wheel is built once; modules are compiled when first imported, not all at install time (--no-compile).
$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --no-compile -e '.[test]'
	touch $(STAMP) $@

run: $(STAMP)
	$(BIN)/medina db upgrade
	$(BIN)/medina demo --if-empty
	@echo "Medina is on http://127.0.0.1:$(PORT) (Ctrl+C to stop)"
	$(BIN)/medina serve --port $(PORT)

# Two workers; the browser walks and the load test each run on one of them as a group (tests/conftest.py).
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)
	$(BIN)/mypy app

# Extract message ids into the catalogue template and merge them into each language's .po file.
messages: $(TEST_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o app/locales/messages.pot --ignore-dirs '.* __pycache__' --no-location --sort-output .
	for lang in fr en ar; do \
	  if [ -f app/locales/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update -i app/locales/messages.pot -d app/locales -l $$lang --no-fuzzy-matching --ignore-obsolete; \
	  else \
	    $(BIN)/pybabel init -i app/locales/messages.pot -d app/locales -l $$lang; \
	  fi; \
	done

clean:
	rm -rf $(VENV) var test-output .pytest_cache
