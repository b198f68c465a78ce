# Two commands do all the set-up:  `make demo`  and  `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test eval bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/fazhi analyze examples/seed-004.txt --format table
	$(BIN)/fazhi check examples/seed-004.txt --html out/demo-card.html

test: $(STAMP)
	scripts/with-postgres.sh $(BIN)/python -m pytest

eval: $(STAMP)
	$(BIN)/fazhi eval tests/data/dev/gold tests/data/dev

bench: $(STAMP)
	$(BIN)/python bench/bench_analyze.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
