"""The LLM engine against a real OpenAI-compatible server: ``transformers serve`` (see
``tests/llm_server.py``) serving a tiny chat model built here, offline, that has memorised the
team's reference answers to some of the sample's requests (the front matter in every language,
one Arabic passage). Those come back through real server software and pass every check; the
tiny model's answers to the rest are garbage, which the checks refuse, twice, and the sentences
are left for a translator. Then the book is reviewed and published."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polib
import pytest
import yaml

from conftest import REPO, drafted_sample
from llm_server import ServedModel, build_chat_model

REFERENCES = {r["fa"]: r for r in yaml.safe_load((REPO / "sources" / "sample.references.yaml").read_text(encoding="utf-8"))}
LANGS = ("ar", "en", "fr", "ur")
SETTINGS = "llm:\n  unit_tokens: 1000\n  max_tokens: 300\n  concurrency: 2\n"
KEY = "sk-served-planted-9876543210"


def new_project(root: Path):
    project = drafted_sample(root, None)
    (root / "tarjoman.yaml").write_text(SETTINGS, encoding="utf-8")
    return project


def planned(project, lang: str):
    """The requests a first draft of ``lang`` sends, as Tarjoman builds them."""
    from tarjoman.engines.llm import LLMEngine, LLMSettings, brief_text, messages_for, project_llm
    from tarjoman.glossary import TermBinder
    from tarjoman.llm_drafting import plan
    from tarjoman.queue import BookSegments
    from tarjoman.store.cache import DraftCache

    settings = LLMSettings(base_url="http://127.0.0.1:9/v1", model="m").merged(project_llm(project.root))
    engine = LLMEngine(settings)
    data = BookSegments.load(project, "sample")
    try:
        found = plan(data.manuscript, lang, engine, DraftCache(data.store), binder=TermBinder(lang, {}), memory={}, current={})
        brief = brief_text(data.manuscript.metadata)
        return [(p.request, messages_for(p.request, settings, brief)) for p in found.requests]
    finally:
        data.store.close()
        engine.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The tiny model, taught the reference answers of five requests, behind ``transformers serve``."""
    project = new_project(tmp_path_factory.mktemp("plan") / "project")
    pairs, taught = [], {}
    for lang in LANGS:
        requests = planned(project, lang)
        for index in (0, 4) if lang == "ar" else (0,):
            request, messages = requests[index]
            reply = {number: REFERENCES[text][lang] for number, (_, text) in request.segments.items()}
            pairs.append((messages, json.dumps(reply, ensure_ascii=False)))
            taught.update({(lang, text): reply[number] for number, (_, text) in request.segments.items()})
    folder = tmp_path_factory.mktemp("chat-model")
    built = build_chat_model(folder, pairs, max_seconds=300)
    assert built["reproduced"] == len(pairs), built
    with ServedModel(folder, tmp_path_factory.mktemp("serve-logs")) as server:
        server.taught = taught
        yield server


def cli(root: Path, *args: str, env: dict | None = None) -> tuple[int, str, str]:
    import os

    run = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(root), *args], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, timeout=600)
    return run.returncode, run.stdout, run.stderr


def draft_args(served, *more: str) -> list[str]:
    return ["draft", "sample", "--engine", "llm", "--base-url", served.base_url, "--llm-model", served.model, *more]


def entries(root: Path, lang: str):
    for path in sorted((root / "outputs" / "sample" / "review").glob(f"*/{lang}.po")):
        catalog = polib.pofile(str(path))
        yield path, catalog


def test_four_languages_through_the_server_reviewed_and_published(served, tmp_path):
    from tarjoman.finishing import finish

    root = tmp_path / "project"
    project = new_project(root)
    expected_requests = {lang: len(planned(project, lang)) for lang in LANGS}
    before = served.requests()
    code, out, err = cli(root, *draft_args(served, "--stream"), env={"TARJOMAN_LLM_API_KEY": KEY})
    assert code == 0, err
    sent = served.requests() - before
    # One request per planned unit, and one more for each refused answer (every unit it was not taught).
    taught_units = 5
    units = sum(expected_requests.values())
    assert sent == units + (units - taught_units), (sent, out)
    assert f"{units - taught_units} answers refused and asked again" in out
    drafted = left = 0
    for lang in LANGS:
        for path, catalog in entries(root, lang):
            for entry in catalog:
                if (lang, entry.msgid) in served.taught:
                    assert entry.msgstr == finish(served.taught[(lang, entry.msgid)], lang), (lang, entry.msgid)
                    drafted += 1
                elif entry.msgid and entry.msgstr == "":
                    assert "draft: the language model's answer was refused" in entry.comment + entry.tcomment
                    left += 1
    assert drafted == len(served.taught) and left > 250
    # The reviewers: every sentence approved, the machine's as they stand, the rest from the team's translations.
    for lang in LANGS:
        for path, catalog in entries(root, lang):
            for entry in catalog:
                if entry.msgid and not entry.obsolete:
                    entry.msgstr = entry.msgstr or finish(REFERENCES[entry.msgid][lang], lang)
                    entry.flags = [f for f in entry.flags if f != "fuzzy"]
            catalog.save(str(path))
    code, out, err = cli(root, "review", "import", "sample", "--by", "reviewer")
    assert code == 0, err
    # Approved sentences are the memory's now: drafting again asks the server nothing.
    before = served.requests()
    code, out, err = cli(root, *draft_args(served), env={"TARJOMAN_LLM_API_KEY": KEY})
    assert code == 0, err
    assert served.requests() == before
    code, out, err = cli(root, "publish", "sample")  # EPUBCheck runs inside; refuses a book with errors
    assert code == 0, err
    books = sorted((root / "outputs").rglob("*.epub"))
    assert len(books) == 4
    found = [p for p in root.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert not found and KEY not in served.log_path.read_text(encoding="utf-8", errors="replace")


def test_a_killed_run_resumes_without_asking_for_finished_units(served, tmp_path):
    root = tmp_path / "project"
    project = new_project(root)
    plans = {lang: planned(project, lang) for lang in ("ar", "en")}
    before = served.requests()
    process = subprocess.Popen([sys.executable, "-m", "tarjoman", "--root", str(root), *draft_args(served, "--lang", "ar,en", "--concurrency", "1")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while served.requests() - before < 9 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)  # Arabic's taught passage (its fifth unit) answered by then: 4 garbage units × 2 + 1 + 1
    process.send_signal(signal.SIGKILL)
    process.wait()
    first = served.requests() - before
    with sqlite3.connect(root / "tarjoman.sqlite") as db:
        cached = {(lang, source) for lang, source in db.execute("select target_lang, source from draft_cache")}
    assert cached, "nothing was committed before the kill"
    # What the next run must ask: every planned unit with a sentence not committed; a taught one once, the others twice.
    expected = 0
    for lang, requests in plans.items():
        for request, _ in requests:
            texts = [text for _, text in request.segments.values()]
            if any((lang, text) not in cached for text in texts):
                expected += 1 if (lang, texts[0]) in served.taught else 2
    before = served.requests()
    code, out, err = cli(root, *draft_args(served, "--lang", "ar,en", "--concurrency", "1"))
    assert code == 0, err
    assert served.requests() - before == expected, (first, expected, sorted(cached))
    assert expected < 2 * sum(len(r) for r in plans.values())


def test_concurrent_requests_against_the_server(served, tmp_path):
    root = tmp_path / "project"
    project = new_project(root)
    units = len(planned(project, "fr"))
    before = served.requests()
    started = time.monotonic()
    code, out, err = cli(root, *draft_args(served, "--lang", "fr", "--concurrency", "4"))
    assert code == 0, err
    assert served.requests() - before == units + (units - 1)
    assert time.monotonic() - started < 300
    shutil.rmtree(root)
