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

# The demo drafts with a tiny random-weight NLLB-architecture model built offline
# (benchmarks/make_model.py): real code path, nonsense words, until a trained demo model lands.
DEMO_MODEL := .cache/demo-model/nllb

demo: $(STAMP)
	$(VENV)/bin/tarjoman extract sources/sample.docx --book sample
	@test -f $(DEMO_MODEL)/config.json || $(PY) benchmarks/make_model.py $(DEMO_MODEL) --family nllb --size tiny
	$(VENV)/bin/tarjoman draft sample --lang all --model $(DEMO_MODEL) --beams 1
	$(VENV)/bin/tarjoman publish sample --lang all --draft

bench: $(STAMP)
	$(PY) benchmarks/extract_speed.py
	$(PY) benchmarks/draft_speed.py --size half

# Regenerate the sample manuscript and the tiny test fixtures from their scripts.
sample: $(STAMP)
	$(PY) sources/make_sample.py sources/sample.docx
	$(PY) tests/data/make_fixtures.py

clean:
	rm -rf $(VENV) outputs/*/
