from __future__ import annotations

import itertools
import os
import shutil
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / "data"
REALDATA = REPO.parent / "shared" / "realdata"
SAMPLE = REPO / "sources" / "sample.docx"
SAMPLE_GLOSSARY = REPO / "glossaries" / "sample.csv"  # 13 approved terms for the sample
# What a translator writes where a tiny model's draft is garbage or nothing: a sentence of the
# file's own language (publishing refuses a translation in another language).
FILLER = {"ar": "لم تكن هناك ترجمة لهذه الجملة بعد.", "ur": "اس جملے کا ابھی ترجمہ نہیں ہوا۔",
          "en": "There was no translation of this sentence yet.", "fr": "Cette phrase n'avait pas encore de traduction."}


def approve_every_sentence(root: Path, book: str, lang: str, who: str = "test") -> int:
    """A translator's pass over a book drafted by a tiny model (random weights: its drafts are
    in no language): every sentence approved, as FILLER, through the PO files and ``review import``."""
    import polib

    from tarjoman.project import Project
    from tarjoman.queue import import_reviews

    for path in sorted((Path(root) / "outputs" / book / "review").glob(f"*/{lang}.po")):
        catalog = polib.pofile(str(path))
        for entry in catalog:
            if entry.msgid and not entry.obsolete:
                entry.msgstr = FILLER[lang]
                entry.flags = [f for f in entry.flags if f != "fuzzy"]
        catalog.save(str(path))
    result = import_reviews(Project(Path(root)), book, [lang], who=who)
    assert not result.problems, result.problems
    return result.applied

def drafted_sample(root: Path, model: str | None, langs=("ar", "en", "fr", "ur")):
    """The bundled sample (with its YAML) extracted into a project at ``root`` and, with a ``model``
    (a tiny one: random weights), drafted into ``langs``; returns the Project."""
    from tarjoman.book import draft_book
    from tarjoman.engines import GenerationSettings, load_engine
    from tarjoman.manuscript import extract
    from tarjoman.project import Project

    (root / "sources").mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE, root / "sources" / "sample.docx")
    shutil.copy(REPO / "sources" / "sample.yaml", root / "sources" / "sample.yaml")
    project = Project(root)
    extract(root / "sources" / "sample.docx", project, book="sample")
    if model:
        draft_book(project, "sample", list(langs), load_engine(model, settings=GenerationSettings(num_beams=1, max_new_tokens=8)))
    return project


sys.path.insert(0, str(TESTS))

from pg_cluster import postgres_cluster  # noqa: E402,F401  (a throwaway PostgreSQL server, once per session)
from desk_harness import browser, desk_drafted, desk_root, desk_server  # noqa: E402,F401  (the desk, served and in Chromium)


# Prefect's own default (30 s) for its temporary API server to answer is too short on a loaded CI
# machine: the server process imports all of Prefect and migrates a fresh database first.
PREFECT_STARTUP_TIMEOUT_S = 240
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(PREFECT_STARTUP_TIMEOUT_S))  # flows run by the CLI


@pytest.fixture(scope="module")
def prefect_harness():
    """Flows run against a temporary Prefect API server (with its own database), once per module."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_TIMEOUT_S):
        yield


@pytest.fixture
def project(tmp_path):
    """An empty project folder (sources/, glossaries/, outputs/) under tmp_path."""
    from tarjoman.project import Project

    for name in ("sources", "glossaries", "outputs"):
        (tmp_path / name).mkdir()
    return Project(tmp_path)


@pytest.fixture(scope="session")
def sample_manuscript(tmp_path_factory):
    """The bundled sample memoir, extracted once per session (read-only for tests)."""
    from tarjoman.manuscript import extract
    from tarjoman.project import Project

    root = tmp_path_factory.mktemp("sample-project")
    (root / "sources").mkdir()
    shutil.copy(SAMPLE, root / "sources" / "sample.docx")
    shutil.copy(REPO / "sources" / "sample.yaml", root / "sources" / "sample.yaml")
    return extract(root / "sources" / "sample.docx", Project(root), book="sample")


def require_realdata():
    if not REALDATA.is_dir():
        pytest.skip(f"real-world test data not found at {REALDATA}")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Tiny NLLB, mBART-50 and Marian models (random weights), built once per test session."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from make_model import make

    root = tmp_path_factory.mktemp("models")
    models = {}
    for family in ("nllb", "mbart50"):
        models[family] = str(make(root / family, family, "tiny"))
    marian = root / "marian"
    from make_model import corpus

    from tarjoman.engines.tiny import build_model

    lines = corpus()
    for pair in ("fa-en", "en-ar"):  # no fa-ar: Arabic goes through English
        build_model(marian / pair, family="marian", lines=lines)
    models["marian"] = str(marian)
    return models


@pytest.fixture(autouse=True)
def _ct2_cache(tmp_path_factory, monkeypatch):
    """Converted CTranslate2 models go to a per-session folder, never the user's cache."""
    monkeypatch.setenv("TARJOMAN_CACHE", str(tmp_path_factory.getbasetemp() / "tarjoman-cache"))


_store_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A fresh, empty review store: an SQLite file, then a database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tarjoman.sqlite'}"
    from pg_cluster import create_database

    return create_database(request.getfixturevalue("postgres_cluster"), f"store_{next(_store_names)}")
