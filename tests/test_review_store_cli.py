"""The five ways the file-based review lost translators' work, tried again through the CLI as a
user meets them; with the review store, none loses anything."""

import shutil
import subprocess
import sys

import polib
import pytest
from conftest import SAMPLE

from tarjoman.store import Store
from tarjoman.store.core import require_book, segments, translations


def tarjoman(root, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(root), *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def drafted_once(tmp_path_factory, tiny_models):
    root = tmp_path_factory.mktemp("store-cli") / "project"
    (root / "sources").mkdir(parents=True)
    shutil.copy(SAMPLE, root / "sources" / "sample.docx")
    assert tarjoman(root, "extract", str(root / "sources" / "sample.docx"), "--book", "sample").returncode == 0
    result = tarjoman(root, "draft", "sample", "--lang", "fr,en", "--model", tiny_models["nllb"], "--beams", "1")
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def root(drafted_once, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(drafted_once, copy)
    return copy


def po(root, chapter="ch01", lang="fr"):
    return root / "outputs" / "sample" / "review" / chapter / f"{lang}.po"


def approve_in_file(path, count, prefix="Approuvé"):
    """What a translator does in Poedit: rewrite and approve the first ``count`` entries; returns them."""
    catalog = polib.pofile(str(path), wrapwidth=0)
    done = {}
    for i, entry in enumerate([e for e in catalog if not e.obsolete][:count]):
        entry.msgstr = f"{prefix} {i}: phrase revue."
        entry.flags = [f for f in entry.flags if f != "fuzzy"]
        done[entry.msgid] = entry.msgstr
    catalog.save(str(path))
    return done


def store_texts(root, lang="fr"):
    store = Store.for_root(root)
    try:
        with store.read() as session:
            book = require_book(session, "sample")
            sources = {s.uid: s.source for s in segments(session, book, obsolete=None)}
            return {sources[u]: t for u, t in translations(session, book, lang).items()}
    finally:
        store.close()


def test_a_draft_takes_in_what_a_translator_saved_before_rewriting_her_file(root, tiny_models):
    approved = approve_in_file(po(root), 4)  # saved, never imported
    result = tarjoman(root, "draft", "sample", "--lang", "fr", "--model", tiny_models["nllb"], "--beams", "2")
    assert result.returncode == 0, result.stderr
    entries = {e.msgid: e for e in polib.pofile(str(po(root)))}
    for msgid, text in approved.items():
        assert entries[msgid].msgstr == text and not entries[msgid].fuzzy
        assert store_texts(root)[msgid].approved


def test_a_translator_saving_an_old_copy_after_a_draft_loses_nothing_and_reverts_nothing(root, tiny_models):
    """Her editor held the file from before the draft; she approves two entries and saves over the new file."""
    old = po(root).read_bytes()
    result = tarjoman(root, "draft", "sample", "--lang", "fr", "--model", tiny_models["nllb"], "--beams", "2")
    assert result.returncode == 0, result.stderr
    redrafted = store_texts(root)
    po(root).write_bytes(old)
    approved = approve_in_file(po(root), 2, prefix="Elle")
    result = tarjoman(root, "review", "import", "sample")
    assert result.returncode == 0 and "0 conflicts" in result.stdout, result.stdout + result.stderr
    after = store_texts(root)
    for msgid, t in after.items():
        if msgid in approved:
            assert t.text == approved[msgid] and t.approved
        elif msgid in redrafted:
            assert t.text == redrafted[msgid].text  # the new drafts were not put back to the old ones


@pytest.mark.parametrize("damage", ["header-only", "cut-short", "emptied"])
def test_a_file_cut_short_removes_nothing_and_is_reported(root, damage, tiny_models):
    approved = approve_in_file(po(root, "ch02"), 5)
    assert tarjoman(root, "review", "import", "sample").returncode == 0
    text = po(root, "ch02").read_text(encoding="utf-8")
    header = text.split("\n\n")[0] + "\n"
    po(root, "ch02").write_text({"header-only": header, "cut-short": "\n\n".join(text.split("\n\n")[:4]) + "\n",
                                 "emptied": ""}[damage], encoding="utf-8")
    result = tarjoman(root, "review", "import", "sample")
    assert result.returncode == 1 and "ch02/fr.po" in result.stderr and "Traceback" not in result.stderr
    after = store_texts(root)
    assert all(after[m].text == t and after[m].approved for m, t in approved.items())
    # the next draft still has every approval; the damaged file is not written over
    result = tarjoman(root, "draft", "sample", "--lang", "fr", "--model", tiny_models["nllb"], "--beams", "1")
    assert result.returncode == 1 and "ch02/fr.po" in result.stderr
    assert all(store_texts(root)[m].approved for m in approved)


def test_a_deleted_file_comes_back_from_the_store_with_its_approvals(root, tiny_models):
    approved = approve_in_file(po(root, "ch03"), 3)
    assert tarjoman(root, "review", "import", "sample").returncode == 0
    po(root, "ch03").unlink()
    result = tarjoman(root, "review", "import", "sample")
    assert result.returncode == 0 and "ch03/fr.po is missing" in result.stderr
    assert tarjoman(root, "draft", "sample", "--lang", "fr", "--model", tiny_models["nllb"], "--beams", "1").returncode == 0
    entries = {e.msgid: e for e in polib.pofile(str(po(root, "ch03")))}
    assert all(entries[m].msgstr == t and not entries[m].fuzzy for m, t in approved.items())
    assert tarjoman(root, "review", "import", "sample").returncode == 0
    assert all(store_texts(root)[m].approved for m in approved)


@pytest.mark.parametrize("bad", ["", "\u200c\u200f ", "source"])
def test_an_unpublishable_approval_is_refused_on_import_and_publish_uses_nothing_of_the_file(root, bad):
    catalog = polib.pofile(str(po(root, "ch01", "en")), wrapwidth=0)
    entry = catalog[2]
    entry.msgstr, entry.flags = (entry.msgid if bad == "source" else bad), []
    if bad == "":
        entry.msgstr = "\u200b"  # a zero-width space: what an editor leaves when it 'empties' a cell
    catalog[3].msgstr, catalog[3].flags = "A good sentence in the same file.", []
    catalog.save(str(po(root, "ch01", "en")))
    result = tarjoman(root, "review", "import", "sample")
    assert result.returncode == 1 and "ch01/en.po:" in result.stderr and "approved translation refused" in result.stderr
    after = store_texts(root, "en")
    assert not after[catalog[3].msgid].approved  # nothing of the refused file was applied
    result = tarjoman(root, "publish", "sample", "--lang", "en")
    assert result.returncode == 1 and "not every sentence is approved" in result.stderr


def test_history_shows_who_changed_what(root):
    approve_in_file(po(root), 1)
    assert tarjoman(root, "review", "import", "sample", "--by", "Maryam").returncode == 0
    result = tarjoman(root, "history", "sample", "--lang", "fr")
    assert result.returncode == 0
    assert any("approve" in line and "Maryam" in line and "Approuvé 0: phrase revue." in line for line in result.stdout.splitlines())
