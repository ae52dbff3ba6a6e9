"""How often drafts of the sample render approved glossary terms as approved.

    .venv/bin/python benchmarks/glossary_adherence.py [--model DIR] [--lang ar,en,fr,ur]

Drafts the sample memoir with the sample glossary (glossaries/sample.csv, 13
approved terms) twice, each time from a cold cache:

* inject: terms injected and repaired, no splitting; what the model does by itself;
* split (the default of ``tarjoman draft``): misses drafted again in pieces.

For each, every (review unit, approved term) pair of the drafts is counted:
``adherence`` is the share whose draft holds the approved rendering, ``flagged``
the share ``tarjoman qa`` flags (glossary or untranslated); every miss should be
flagged, so adherence + flagged = 1. The model is ``--model``, else the demo model
(sources/demo-model) when present, else a tiny random-weight NLLB model, which
renders nothing by itself: with it, the inject figure is a floor.
Last line: ``RESULT adherence=… flagged=… inject_adherence=… inject_flagged=…``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def measure(model_dir: str, langs: list[str], split: bool) -> tuple[int, int, int]:
    """(term uses, uses rendered as approved, uses flagged by QA) for one cold-cache draft of the sample."""
    from tarjoman.book import draft_book
    from tarjoman.drafting import DraftOptions
    from tarjoman.engines import GenerationSettings, load_engine
    from tarjoman.glossary import is_rendered, load_termbase
    from tarjoman.manuscript import extract
    from tarjoman.project import Project
    from tarjoman.queue import run_qa
    from tarjoman.review import read_entries

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("sources", "glossaries", "outputs"):
            (root / name).mkdir()
        shutil.copy(REPO / "sources" / "sample.docx", root / "sources")
        shutil.copy(REPO / "glossaries" / "sample.csv", root / "glossaries")
        project = Project(root)
        extract(root / "sources" / "sample.docx", project, book="sample")
        terms = load_termbase(project, "sample")
        engine = load_engine(model_dir, settings=GenerationSettings(num_beams=1))
        draft_book(project, "sample", langs, engine, options=DraftOptions(terms=terms, split_terms=split))
        findings = run_qa(project, "sample", langs)
        flagged_entries = {(f["chapter"], f["lang"], f["source"]) for f in findings if f["check"] in ("glossary", "untranslated")}
        uses = rendered = flagged = 0
        for path in sorted((project.book_dir("sample") / "review").rglob("*.po")):
            lang = path.stem
            for entry in read_entries(path):
                if entry.carried or entry.obsolete:
                    continue
                for _term, rendering in terms.binder(lang).applied(entry.msgid):
                    uses += 1
                    if is_rendered(rendering, entry.msgstr, lang):
                        rendered += 1
                    elif (path.parent.name, lang, entry.msgid) in flagged_entries:
                        flagged += 1
        return uses, rendered, flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the demo model, else a tiny random one)")
    parser.add_argument("--lang", default="ar,en,fr,ur")
    args = parser.parse_args()
    model = args.model
    if model is None and (REPO / "sources" / "demo-model" / "config.json").is_file():
        model = str(REPO / "sources" / "demo-model")
    if model is None:
        from make_model import make

        model = str(REPO / ".cache" / "bench-models" / "nllb-tiny")
        if not (Path(model) / "config.json").is_file():
            make(Path(model), "nllb", "tiny")
    langs = args.lang.split(",")
    print(f"model: {model}")
    figures = {}
    for label, split in (("inject", False), ("split", True)):
        uses, rendered, flagged = measure(model, langs, split)
        figures[label] = (rendered / uses, flagged / uses)
        print(f"{label:<7} term uses {uses:>4}  rendered as approved {rendered:>4} ({rendered / uses:6.1%})  "
              f"missed and flagged {flagged:>4} ({flagged / uses:6.1%})  missed, not flagged {uses - rendered - flagged}")
    (adherence, flagged), (inject_adherence, inject_flagged) = figures["split"], figures["inject"]
    print(f"RESULT adherence={adherence:.4f} flagged={flagged:.4f} inject_adherence={inject_adherence:.4f} inject_flagged={inject_flagged:.4f}")


if __name__ == "__main__":
    main()
