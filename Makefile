# Two commands do all the set-up:  `make demo`  and  `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test eval bench clean system-deps serve load-web bench-ocr fuzz

# Debian packages some tests need (installed when missing and we are root):
# LibreOffice (Writer, and Calc for the ledger template print test) + CJK fonts for the draft -> PDF test, Chromium for the browser tests
# (driven by Playwright through executable_path; never `playwright install`),
# a CJK font for the OCR test's rendered scan; Liberation Serif (metrics of Times New Roman) for the Latin text and digits of the draft PDF
SYSTEM_PKGS := libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk fonts-arphic-ukai fonts-wqy-zenhei fonts-liberation chromium poppler-utils

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,ocr]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/fazhi analyze examples/seed-004.txt --format table
	$(BIN)/fazhi check examples/seed-004.txt --html out/demo-card.html

system-deps:
	@if ! dpkg -s $(SYSTEM_PKGS) >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $(SYSTEM_PKGS) (Debian) for the PDF and browser tests…" >&2; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends $(SYSTEM_PKGS) >/dev/null; \
	fi

serve: $(STAMP)
	$(BIN)/fazhi serve

load-web: $(STAMP)
	$(BIN)/python bench/load_web.py

bench-ocr: $(STAMP) system-deps
	$(BIN)/python bench/ocr_eval.py

fuzz: $(STAMP)
	$(BIN)/python bench/fuzz_ingest.py

test: $(STAMP) system-deps
	scripts/with-postgres.sh $(BIN)/python -m pytest

eval: $(STAMP)
	$(BIN)/fazhi eval tests/data/dev/gold tests/data/dev

bench: $(STAMP)
	$(BIN)/python bench/bench_analyze.py
	$(BIN)/python bench/bench_cli.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
