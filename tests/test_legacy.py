"""A project made by Tarjoman 0.1 (tests/data/legacy/project, built by that release's code; see
make_legacy_project.py there) opens in this one with nothing lost: every PO entry, good copy,
draft cache row and draft ledger entry is in the store, checked entry by entry."""

import json
import shutil
import sqlite3
import subprocess
import sys

import pytest
from conftest import DATA

from tarjoman.project import Project
from tarjoman.review import read_entries, syntax_errors
from tarjoman.store import Store
from tarjoman.store.core import require_book, segments, translations

LEGACY = DATA / "legacy" / "project"


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """The legacy project, copied, after one ordinary command (`tarjoman status`)."""
    root = tmp_path_factory.mktemp("legacy") / "project"
    shutil.copytree(LEGACY, root)
    before = {p: p.read_bytes() for p in (root / "outputs").rglob("*") if p.is_file()}
    result = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(root), "status", "sample", "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    store = Store.for_root(root)
    with store.read() as session:
        book = require_book(session, "sample")
        segs = {s.uid: s for s in segments(session, book, obsolete=None)}
        found = {lang: translations(session, book, lang) for lang in ("fr", "ur")}
    yield root, before, segs, found, json.loads(result.stdout), store
    store.close()


def legacy_entries(root, lang):
    """Every entry the previous release would have used: the working file when valid, else the good copy."""
    book_dir = root / "outputs" / "sample"
    for path in sorted((book_dir / "review").glob(f"*/{lang}.po")):
        source = path if not syntax_errors(path) else book_dir / "reviewed" / path.parent.name / f"{lang}.po"
        for entry in read_entries(source):
            if entry.msgstr:
                yield path.parent.name, entry


@pytest.mark.parametrize("lang", ["fr", "ur"])
def test_every_entry_is_in_the_store(opened, lang):
    root, _, segs, found, _, _ = opened
    by_source = {}
    for uid, t in found[lang].items():
        by_source.setdefault(segs[uid].source, []).append(t)
    checked = 0
    for chapter, entry in legacy_entries(LEGACY, lang):
        kept = by_source.get(entry.msgid)
        assert kept, f"{chapter}: «{entry.msgid}» lost"
        match = [t for t in kept if t.text == entry.msgstr]
        assert match, f"{chapter}: «{entry.msgid}»: {entry.msgstr!r} not in the store ({[t.text for t in kept]})"
        t = match[0]
        assert t.approved == (entry.approved or (entry.obsolete and not entry.fuzzy)), entry.msgid
        assert t.note == entry.tcomment
        checked += 1
    assert checked > 60


def test_the_broken_file_gives_way_to_its_good_copy_and_is_kept(opened):
    root, before, segs, found, _, _ = opened
    broken = root / "outputs" / "sample" / "review" / "ch03" / "fr.po"
    assert syntax_errors(broken) and broken.read_bytes() == before[broken]  # untouched, still reported on import
    approved = [t.text for uid, t in found["fr"].items() if segs[uid].chapter == "ch03" and t.approved]
    assert "Chapitre trois, phrase 0." in approved and "Approuvé dans le fichier cassé." not in approved


def test_translators_work_keeps_its_kind(opened):
    _, _, segs, found, status, _ = opened
    fr = {segs[u].source: t for u, t in found["fr"].items()}
    edited = next(t for t in fr.values() if t.text == "Brouillon corrigé, encore à relire.")
    assert edited.state == "draft" and edited.origin == "import"  # a person's draft: no machine replaces it
    machine = [t for t in fr.values() if t.origin == "machine"]
    assert machine and all("demo-model" in t.engine and "beams:1" in t.engine for t in machine)  # what made each draft
    obsolete = [segs[u] for u in found["fr"] if segs[u].obsolete]
    assert {s.source for s in obsolete} >= {"ما سلاح نداشتیم و بیشتر بچه‌ها حتی یک بار هم تیراندازی نکرده بودند."}
    rows = {(r["chapter"], r["lang"]): r for r in status}
    assert rows[("ch02", "ur")]["approved"] == rows[("ch02", "ur")]["total"]


def test_draft_cache_and_ledger_are_in_the_store(opened):
    root, _, _, found, _, store = opened
    cache = sqlite3.connect(LEGACY / "outputs" / "sample" / "drafts.sqlite")
    old = dict(cache.execute("SELECT key, draft FROM drafts"))
    from tarjoman.store.cache import DraftCache

    assert DraftCache(store).get_many(list(old)) == old
    ledger = json.loads((LEGACY / "outputs" / "sample" / "drafts" / "ch01.fr.json").read_text(encoding="utf-8"))
    machine = {t.machine_draft for t in found["fr"].values()}
    assert {v["draft"] for v in ledger.values()} <= machine


def test_a_second_command_imports_nothing_twice(opened):
    root, _, _, found, _, store = opened
    result = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(root), "status", "sample"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0
    with store.read() as session:
        again = translations(session, require_book(session, "sample"), "fr")
    assert {u: t.version for u, t in again.items()} == {u: t.version for u, t in found["fr"].items()}


def test_project_layout_is_unchanged(opened):
    root, before, *_ = opened
    assert Project(root).manuscript_path("sample").read_bytes() == before[Project(root).manuscript_path("sample")]
