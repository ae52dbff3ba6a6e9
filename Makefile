# make test   set up .venv (first time: about a minute) and run the test suite
# make demo   set up .venv and run the pipeline on the bundled sample memoir
# make bench  run the benchmarks in benchmarks/

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: test demo bench sample clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@rm -f $(VENV)/.installed-*
	# torch first and pinned: any other torch pulls gigabytes of CUDA packages (see STACK notes).
	$(PY) -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]" "torch==2.13.0" "fastapi<0.151"
	@touch $@

test: $(STAMP)
	$(PY) -m pytest -q

# The demo runs the Prefect pipeline twice on the sample (no server, no internet):
#   1. extract, draft (a tiny random-weight NLLB-architecture model built offline by
#      benchmarks/make_model.py: real code path, nonsense words), then wait for review;
#   2. sources/demo_approve.py stands in for translators and accepts every draft unread;
#   3. the pipeline again: nothing is drafted twice, all four EPUBs are published.
DEMO_MODEL := .cache/demo-model/nllb

demo: $(STAMP)
	@test -f $(DEMO_MODEL)/config.json || $(PY) benchmarks/make_model.py $(DEMO_MODEL) --family nllb --size tiny
	$(VENV)/bin/tarjoman run sources/sample.docx --book sample --model $(DEMO_MODEL) --beams 1
	$(PY) sources/demo_approve.py sample
	$(VENV)/bin/tarjoman run sources/sample.docx --book sample --model $(DEMO_MODEL) --beams 1
	@echo "The four books:" && ls -1 outputs/sample/epub/*.epub

bench: $(STAMP)
	$(PY) benchmarks/extract_speed.py
	$(PY) benchmarks/draft_speed.py --size half
	$(PY) benchmarks/orchestration_overhead.py

# Regenerate the sample manuscript and the tiny test fixtures from their scripts.
sample: $(STAMP)
	$(PY) sources/make_sample.py sources/sample.docx
	$(PY) tests/data/make_fixtures.py

clean:
	rm -rf $(VENV) outputs/*/
