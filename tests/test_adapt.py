"""Adaptive drafting: fine-tuning on approved translations, provenance, the flow, refusals."""

import json
import re
import shutil
import subprocess
import sys

import polib
import pytest
import yaml
from conftest import SAMPLE, SAMPLE_GLOSSARY

from tarjoman.adapt import AdaptOptions, adapt_books, approved_pairs, reference_pairs, split_heldout, with_terms
from tarjoman.book import draft_book
from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.errors import EngineError, ProjectError
from tarjoman.glossary import load_termbase
from tarjoman.manuscript import extract

REFERENCES = SAMPLE.parent / "sample.references.yaml"


def approve_with_references(project, langs, chapters=None):
    """Stand in for translators: each entry gets the team's reference translation, approved and imported."""
    refs = {(e["fa"], lang): e[lang] for e in yaml.safe_load(REFERENCES.read_text()) for lang in langs if e.get(lang)}
    count = 0
    for path in sorted((project.book_dir("sample") / "review").glob("*/*.po")):
        if path.stem not in langs or (chapters and path.parent.name not in chapters):
            continue
        catalog = polib.pofile(str(path), wrapwidth=0)
        for entry in catalog:
            if (entry.msgid, path.stem) in refs:
                entry.msgstr = refs[(entry.msgid, path.stem)]
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
                count += 1
        catalog.save(str(path))
    from tarjoman.queue import import_reviews

    assert not import_reviews(project, "sample").problems
    return count


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory, tiny_models):
    """The sample drafted into English and French, every entry approved with its reference."""
    from tarjoman.project import Project

    root = tmp_path_factory.mktemp("adapt")
    for name in ("sources", "glossaries", "outputs"):
        (root / name).mkdir()
    shutil.copy(SAMPLE, root / "sources" / "sample.docx")
    shutil.copy(SAMPLE_GLOSSARY, root / "glossaries" / "sample.csv")
    project = Project(root)
    extract(root / "sources" / "sample.docx", project, book="sample")
    engine = load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=8))
    draft_book(project, "sample", ["en", "fr"], engine)
    assert approve_with_references(project, ["en", "fr"]) > 150
    return project


def test_approved_pairs_and_the_held_out_split(reviewed):
    pairs = approved_pairs(reviewed, "sample", ["en"])
    assert len(pairs) >= 80 and all(p.lang == "en" and p.target for p in pairs)
    assert any(p.source_lang == "ar" for p in pairs)  # the Quranic verse is learned as Arabic
    assert {p.source for p in pairs if "\n" in p.source} == set()  # the couplet, line by line
    train, held = split_heldout(pairs, 0.2)
    assert not {p.source for p in train} & {p.source for p in held}
    assert split_heldout(pairs, 0.2) == (train, held)  # the same sentences every run
    taught = with_terms(train, load_termbase(reviewed, "sample"))
    extra = taught[len(train):]
    # each extra pair is an English pair again, its source now holding the approved renderings
    assert extra and all(p.origin.endswith("+terms") and re.search("[A-Za-z]", p.source) for p in extra)
    assert any("Khorramshahr" in p.source for p in extra)


def test_fine_tuning_raises_held_out_chrf(reviewed, tiny_models, tmp_path):
    """The tiny random model, fine-tuned on 80 % of the sample's approved English sentences,
    drafts the other 20 % (never seen) closer to their approved translations."""
    options = AdaptOptions(epochs=25, learning_rate=5e-3, batch_size=16, holdout=0.2, patience=5, eval_every=5, seed=3)
    first = adapt_books(reviewed, ["sample"], tiny_models["nllb"], tmp_path / "a", langs=["en"], options=options)
    assert first.heldout_pairs >= 10 and first.train_pairs > 60
    before, after = first.before["en"].chrf, first.after["en"].chrf
    assert after >= before + 5, (before, after)
    provenance = json.loads((tmp_path / "a" / "TARJOMAN_ADAPTED.json").read_text())
    assert provenance["base"]["model"] == tiny_models["nllb"] and provenance["data"]["books"] == ["sample"]
    assert provenance["scores"]["after"]["en"]["chrf"] == after and provenance["settings"]["learning_rate"] == 5e-3
    assert provenance["data"]["heldout_pairs"] == first.heldout_pairs


def test_fine_tuning_is_deterministic_and_leaves_the_base_model_alone(reviewed, tiny_models, tmp_path):
    options = AdaptOptions(epochs=2, learning_rate=5e-3, holdout=0.2, seed=5)
    base = load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=8))
    sentence = ["روز ۴ آبان ۱۳۵۹ خرمشهر سقوط کرد."]
    drafted_before = base.translate(sentence, "fa", "en")
    runs = [adapt_books(reviewed, ["sample"], tiny_models["nllb"], tmp_path / name, langs=["en"], options=options) for name in "ab"]
    assert runs[0].history == runs[1].history and runs[0].after == runs[1].after
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    assert base.translate(sentence, "fa", "en") == drafted_before  # the loaded base model was not trained in place


def test_drafting_with_the_adapted_model(reviewed, tiny_models, tmp_path):
    options = AdaptOptions(epochs=1, learning_rate=1e-3, holdout=0.1, seed=0)
    result = adapt_books(reviewed, ["sample"], tiny_models["nllb"], tmp_path / "adapted", langs=["fr"], options=options)
    engine = load_engine(str(result.out), settings=GenerationSettings(num_beams=1, max_new_tokens=8))
    assert str(result.out) in engine.signature_text()
    report = draft_book(reviewed, "sample", ["fr"], engine).reports[0]
    assert report.counts["memory"] == report.units - report.counts["carried"]  # approved entries stay approved


def test_adapt_refuses_what_it_cannot_learn_from(project, tiny_models, tmp_path):
    with pytest.raises(ProjectError, match="no review files"):
        adapt_books(project, ["nothing"], tiny_models["nllb"], tmp_path / "x")
    pairs = reference_pairs(REFERENCES, ["en", "fr"])
    from tarjoman.adapt import adapt_model

    with pytest.raises(EngineError, match="Marian model, which translates one pair; pass --lang with one language"):
        adapt_model(str(tiny_models["marian"]) + "/fa-en", tmp_path / "m", pairs, [], AdaptOptions(epochs=1))
    english = [p for p in pairs if p.lang == "en"][:20]
    result = adapt_model(str(tiny_models["marian"]) + "/fa-en", tmp_path / "m", english, [], AdaptOptions(epochs=1, learning_rate=1e-3))
    assert result.train_pairs == 20 and (tmp_path / "m" / "TARJOMAN_ADAPTED.json").is_file()  # one Marian pair: adapted
    result = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(project.root), "adapt", "nothing", "--base", tiny_models["nllb"]],
                            capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "no review files" in result.stderr
    assert not (tmp_path / "x").exists()


def test_adapt_flow(prefect_harness, reviewed, tiny_models, tmp_path):
    from flows.adapt import adapt_flow

    summary = adapt_flow(["sample"], tiny_models["nllb"], out=str(tmp_path / "flowed"), langs="en", epochs=1, learning_rate=1e-3, root=str(reviewed.root))
    assert summary["scores"][0]["lang"] == "en" and (tmp_path / "flowed" / "TARJOMAN_ADAPTED.json").is_file()
