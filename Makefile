# Two commands do all the set-up:  `make demo`  and  `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test eval bench clean office

# Debian packages some tests need (installed when missing and we are root):
# LibreOffice + CJK fonts for the draft -> PDF test
OFFICE_PKGS := libreoffice-writer-nogui fonts-noto-cjk fonts-arphic-ukai

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/fazhi analyze examples/seed-004.txt --format table
	$(BIN)/fazhi check examples/seed-004.txt --html out/demo-card.html

office:
	@if { ! command -v soffice >/dev/null || ! fc-list | grep -q ukai; } && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $(OFFICE_PKGS) (Debian) for the draft PDF test…" >&2; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends $(OFFICE_PKGS) >/dev/null; \
	fi

test: $(STAMP) office
	scripts/with-postgres.sh $(BIN)/python -m pytest

eval: $(STAMP)
	$(BIN)/fazhi eval tests/data/dev/gold tests/data/dev

bench: $(STAMP)
	$(BIN)/python bench/bench_analyze.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
