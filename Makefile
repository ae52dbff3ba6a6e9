# make test   set up .venv (first time: about a minute) and run the test suite
# make demo   set up .venv and run the pipeline on the bundled sample memoir
# make bench  run the benchmarks in benchmarks/
# make ace    install Ace by DAISY (the EPUB accessibility checker) from tools/ace's lockfile; needs npm

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: test demo demo-model bench sample clean ace

# Ace by DAISY, pinned in tools/ace/package-lock.json; run with the system's Chromium (its own
# browser download is skipped: these machines cannot fetch one). `make test` installs it when
# npm is there; without it the accessibility tests skip (outside CI) and publish claims no conformance.
ACE := tools/ace/node_modules/.bin/ace-cli
$(ACE): tools/ace/package-lock.json
	cd tools/ace && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

ace: $(ACE)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@rm -f $(VENV)/.installed-*
	# torch first and pinned: any other torch pulls gigabytes of CUDA packages (see STACK notes).
	$(PY) -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]" "torch==2.13.0" "fastapi<0.151"
	@touch $@

test: $(STAMP) $(if $(shell command -v npm),$(ACE))
	$(PY) -m pytest -q

# The demo runs the Prefect pipeline twice on the sample (no server, no internet):
#   1. extract, draft with the demo model (sources/demo-model: a small NLLB-architecture
#      model that knows only this sample; see `make demo-model`), then wait for review;
#   2. sources/demo_approve.py stands in for translators and accepts every draft unread;
#   3. the pipeline again: nothing is drafted twice; all four books are published, each as an
#      EPUB, a print-ready PDF and a Word manuscript.
DEMO_MODEL := sources/demo-model

demo: $(STAMP)
	$(VENV)/bin/tarjoman run sources/sample.docx --book sample --model $(DEMO_MODEL) --beams 1
	$(PY) sources/demo_approve.py sample
	$(VENV)/bin/tarjoman run sources/sample.docx --book sample --model $(DEMO_MODEL) --beams 1 --format all
	@echo "The four books:" && ls -1 outputs/sample/epub/*.epub outputs/sample/pdf/*.pdf outputs/sample/docx/*.docx
	@echo "Open the demo book in the desk (a user first, once; it asks for a password):"
	@echo "  $(VENV)/bin/tarjoman user add $${USER:-admin} --role admin"
	@echo "  $(VENV)/bin/tarjoman serve    # then http://127.0.0.1:8765/books/sample/chapters/ch01/ar"

# Rebuild the demo model from the repository alone: random weights of the demo shape and a
# vocabulary of the sample and its references, then `tarjoman adapt` from scratch on the
# team's reference translations (sources/sample.references.yaml) and the sample glossary's terms,
# in a scratch project (never the demo's own review files, which hold unread machine drafts).
# About 10 minutes on 2 cores.
demo-model: $(STAMP)
	rm -rf .cache/demo-base .cache/demo-project && $(PY) benchmarks/make_model.py .cache/demo-base --family nllb --size demo
	mkdir -p .cache/demo-project/glossaries && cp glossaries/sample.csv .cache/demo-project/glossaries/
	$(VENV)/bin/tarjoman --root .cache/demo-project adapt sample --references sources/sample.references.yaml --base .cache/demo-base \
	  --from-scratch --holdout 0 --epochs 80 --eval-every 20 --patience 100 --lr 1e-3 --batch-size 32 \
	  --label-smoothing 0 --dropout 0 --half --out $(CURDIR)/$(DEMO_MODEL)

bench: $(STAMP)
	$(PY) benchmarks/extract_speed.py
	$(PY) benchmarks/draft_speed.py --size half
	$(PY) benchmarks/orchestration_overhead.py
	$(PY) benchmarks/glossary_adherence.py
	$(PY) benchmarks/adaptation_gain.py
	$(PY) benchmarks/review_store.py
	$(PY) benchmarks/desk_load.py
	$(PY) benchmarks/tm.py
	$(PY) benchmarks/language_id.py
	$(PY) benchmarks/llm_draft.py --continuous-batching

# Regenerate the sample manuscript and the tiny test fixtures from their scripts.
sample: $(STAMP)
	$(PY) sources/make_sample.py sources/sample.docx
	$(PY) tests/data/make_fixtures.py

clean:
	rm -rf $(VENV) outputs/*/ tarjoman.sqlite tarjoman.sqlite-wal tarjoman.sqlite-shm
