# Every target sets itself up: a fresh clone needs only python3 (>= 3.11) and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-slow lint bench results docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,docs]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/pepstep demo

# The CI suite: everything but the tests marked slow (minutes each: silver at N = 127,
# the t = 127 long-step certificate, N = 255 by constraint generation). `make test-slow` runs those.
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --out results

results: $(STAMP)
	$(BIN)/pepstep reproduce problems/*.toml --out results
	$(BIN)/pepstep figures --out results

# The documentation site, warnings as errors (a docstring that is not valid reStructuredText
# fails it). docs/conf.py generates the API pages, the CLI reference and the gallery.
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info
