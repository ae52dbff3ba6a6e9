"""The review store itself, on SQLite and on PostgreSQL: revisions, versions, conflicts, history.

Every test runs on both back-ends (a throwaway PostgreSQL cluster from tests/pg_cluster.py)."""

import threading

import docx
import pytest
from conftest import SAMPLE

from tarjoman.manuscript import extract
from tarjoman.store import DraftIn, Edit, Store
from tarjoman.store.core import require_book, segments, translations
from tarjoman.store.revision import sync_manuscript
from tarjoman.store.translations import apply_edits, conflicts, history, record_drafts, resolve

@pytest.fixture
def sample(project, store_url):
    """The sample, extracted, in a fresh store; machine drafts in French for every segment."""
    import shutil

    shutil.copy(SAMPLE, project.sources / "sample.docx")
    manuscript = extract(project.sources / "sample.docx", project, book="sample")
    store = Store(store_url)
    sync_manuscript(store, manuscript, "v1")
    uids = [s.uid for s in view(store)]
    record_drafts(store, "sample", "fr", [DraftIn(u, f"brouillon {u}", "machine", "engine-1") for u in uids])
    yield project, store, manuscript
    store.close()


def view(store, lang=None):
    with store.read() as session:
        book = require_book(session, "sample")
        return translations(session, book, lang) if lang else segments(session, book)


def test_a_person_edit_makes_a_version_and_a_history_row(sample):
    _, store, _ = sample
    uid = view(store)[3].uid
    outcome = apply_edits(store, "sample", {"fr": [Edit(uid, "Traduction revue.", "approved", 1, "ch01/fr.po:30")]}, who="alice")
    assert outcome.applied == 1 and not outcome.conflicts
    t = view(store, "fr")[uid]
    assert (t.text, t.state, t.version, t.origin, t.changed_by) == ("Traduction revue.", "approved", 2, "import", "alice")
    [drafted, approved] = history(store, "sample", uid=uid, lang="fr")
    assert (drafted.action, drafted.who, drafted.new_state) == ("draft", "machine", "draft")
    assert (approved.action, approved.old_text, approved.new_text, approved.why) == ("approve", f"brouillon {uid}", "Traduction revue.", "ch01/fr.po:30")


def test_an_edit_against_an_older_version_is_a_conflict_never_an_overwrite(sample):
    _, store, _ = sample
    uid = view(store)[4].uid
    apply_edits(store, "sample", {"fr": [Edit(uid, "Alice.", "approved", 1, "a.po:1")]}, who="alice")
    outcome = apply_edits(store, "sample", {"fr": [Edit(uid, "Bob.", "approved", 1, "b.po:9")]}, who="bob")
    assert outcome.applied == 0
    [conflict] = outcome.conflicts
    assert (conflict.current_text, conflict.theirs_text, conflict.where, conflict.base_version) == ("Alice.", "Bob.", "b.po:9", 1)
    assert view(store, "fr")[uid].text == "Alice."
    assert [c.id for c in conflicts(store, "sample")] == [conflict.id]
    resolved = resolve(store, "sample", conflict.id, take="theirs", who="editor")
    assert resolved.resolution == "theirs" and view(store, "fr")[uid].text == "Bob." and not conflicts(store, "sample")
    assert [c.action for c in history(store, "sample", uid=uid, lang="fr")] == ["draft", "approve", "conflict", "resolve"]


def test_an_unchanged_entry_from_an_old_file_changes_nothing(sample):
    """A translator's file written at version 1 still holds the old draft for an entry the store has moved on from."""
    _, store, _ = sample
    uid = view(store)[5].uid
    apply_edits(store, "sample", {"fr": [Edit(uid, "Alice.", "approved", 1, "a.po:1")]}, who="alice")
    outcome = apply_edits(store, "sample", {"fr": [Edit(uid, f"brouillon {uid}", "draft", 1, "old.po:7")]}, who="bob")
    assert (outcome.applied, outcome.unchanged, outcome.conflicts) == (0, 1, [])
    assert view(store, "fr")[uid].text == "Alice."


def test_a_file_saved_and_imported_again_is_its_own_base(sample):
    """A translator approves in her file and imports; later she puts the fuzzy flag back on that
    entry in the same file (its comments still say version 1): that is her change, applied."""
    _, store, _ = sample
    uid = view(store)[8].uid
    draft = f"brouillon {uid}"
    apply_edits(store, "sample", {"fr": [Edit(uid, draft, "approved", 1, "ch01/fr.po:40", source="ch01/fr.po")]}, who="alice")
    outcome = apply_edits(store, "sample", {"fr": [Edit(uid, draft, "draft", 1, "ch01/fr.po:40", known_version=2, source="ch01/fr.po")]},
                          who="alice")
    assert outcome.applied == 1 and view(store, "fr")[uid].state == "draft"


def test_an_old_copy_saved_over_a_newer_file_reverts_nothing(sample):
    """The file was rewritten at version 2 (a new machine draft); an editor saves her copy of
    version 1 over it, the entry untouched: the new draft stays."""
    _, store, _ = sample
    uid = view(store)[9].uid
    record_drafts(store, "sample", "fr", [DraftIn(uid, "nouveau", "machine", "engine-2")])
    outcome = apply_edits(store, "sample", {"fr": [Edit(uid, f"brouillon {uid}", "draft", 1, "ch01/fr.po:44", known_version=2,
                                                       source="ch01/fr.po")]}, who="bob")
    assert outcome.unchanged == 1 and view(store, "fr")[uid].text == "nouveau"


def test_a_machine_draft_never_replaces_a_persons_text(sample):
    _, store, _ = sample
    uid = view(store)[6].uid
    apply_edits(store, "sample", {"fr": [Edit(uid, "Encore à relire.", "draft", 1, "a.po:1")]}, who="alice")
    counts = record_drafts(store, "sample", "fr", [DraftIn(uid, "nouveau brouillon", "machine", "engine-2")])
    t = view(store, "fr")[uid]
    assert counts["suggested"] == 1 and (t.text, t.origin) == ("Encore à relire.", "import")
    assert (t.suggestion, t.suggestion_engine) == ("nouveau brouillon", "engine-2")


def test_a_person_wins_over_changes_made_since_by_machines_only(sample):
    _, store, _ = sample
    uid = view(store)[7].uid
    record_drafts(store, "sample", "fr", [DraftIn(uid, "second brouillon", "machine", "engine-2")])  # version 2, a machine's
    outcome = apply_edits(store, "sample", {"fr": [Edit(uid, "Revu.", "approved", 1, "a.po:1")]}, who="alice")
    assert outcome.applied == 1 and view(store, "fr")[uid].text == "Revu."


def test_a_revision_keeps_work_like_msgmerge(sample):
    project, store, _ = sample
    segs = view(store)
    by_text = {s.source: s for s in segs}
    apply_edits(store, "sample", {"fr": [Edit(s.uid, f"OK {s.uid}", "approved", 1, "x") for s in segs]}, who="alice")
    doc = docx.Document(project.sources / "sample.docx")
    edited = next(p for p in doc.paragraphs if p.text.startswith("پدرم چیزی نگفت"))
    edited.runs[0].text = "پدرم هیچ چیزی نگفت و فقط دستش را روی شانه‌ام گذاشت."
    gone = next(p for p in doc.paragraphs if p.text.startswith("ما سلاح نداشتیم"))
    gone._element.getparent().remove(gone._element)
    doc.save(project.sources / "sample.docx")
    report = sync_manuscript(store, extract(project.sources / "sample.docx", project, book="sample"), "v2")
    assert (report.edited, report.removed) == (1, 2)  # the removed paragraph held two sentences
    after = {s.uid: s for s in view(store)}
    old = by_text["پدرم چیزی نگفت و فقط دستش را روی شانه‌ام گذاشت."]
    continued = next(s for s in after.values() if s.source.startswith("پدرم هیچ چیزی"))
    t = view(store, "fr")[continued.uid]
    assert (t.text, t.state, t.previous_source) == (f"OK {old.uid}", "draft", old.source)  # fuzzy, with the old source
    removed = by_text["ما سلاح نداشتیم و بیشتر بچه‌ها حتی یک بار هم تیراندازی نکرده بودند."]
    assert removed.uid not in after
    with store.read() as session:
        obsolete = {s.uid for s in segments(session, require_book(session, "sample"), obsolete=True)}
    assert removed.uid in obsolete and view(store, "fr")[removed.uid].text == f"OK {removed.uid}"  # kept, obsolete
    unchanged = [s for s in segs if s.uid in after and s.uid != old.uid]
    assert all(view(store, "fr")[s.uid].state == "approved" for s in unchanged)


def test_concurrent_writers_on_different_segments_all_land(sample):
    """Eight threads, each with its own connection, saving sentences at once: every save is kept."""
    _, store, _ = sample
    uids = [s.uid for s in view(store)][:48]
    errors = []

    def translator(n):
        own = Store(store.url)
        try:
            for uid in uids[n::8]:
                apply_edits(own, "sample", {"fr": [Edit(uid, f"T{n} {uid}", "approved", 1, "desk")]}, who=f"t{n}")
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=translator, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    found = view(store, "fr")
    assert all(found[uid].text.endswith(uid) and found[uid].state == "approved" for uid in uids)
    assert store.integrity_check() == "ok"


def test_progress_counts_per_chapter_and_language(sample):
    from tarjoman.store.core import progress
    from tarjoman.store.translations import set_findings

    _, store, manuscript = sample
    segs = view(store)
    ch01 = [s for s in segs if s.chapter == "ch01"]
    apply_edits(store, "sample", {"fr": [Edit(s.uid, "Revu.", "approved", 1, "x") for s in ch01[:3]]}, who="alice")
    set_findings(store, "sample", "fr", {ch01[4].uid: ["numbers: 1359 is in the source but not in the translation"]})
    with store.read() as session:
        chapters, counts = progress(session, require_book(session, "sample"))
    assert chapters == [(c.id, sum(1 for _ in c.units())) for c in manuscript.chapters]
    assert counts[("ch01", "fr")] == {"approved": 3, "fuzzy": len(ch01) - 3, "qa": 1, "drafted": len(ch01)}
    assert ("ch01", "en") not in counts


def test_the_schema_is_the_alembic_head(store_url):
    from tarjoman.store.db import _current_revision, head_revision

    store = Store(store_url)
    try:
        assert _current_revision(store.engine) == head_revision() == "0003"
    finally:
        store.close()


def test_the_head_read_from_the_files_is_alembics(tmp_path):
    """head_revision reads the migration files without alembic (a quarter of a second every
    command); alembic's own answer must agree, and a new revision file must move it."""
    import shutil

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tarjoman.store import db

    def alembic_head(folder):
        config = Config()
        config.set_main_option("script_location", str(folder))
        return ScriptDirectory.from_config(config).get_current_head()

    assert db.head_revision() == alembic_head(db._MIGRATIONS)
    copy = tmp_path / "migrations"
    shutil.copytree(db._MIGRATIONS, copy)
    (copy / "versions" / "0004_next.py").write_text(
        'revision: str = "0004"\ndown_revision: str | None = "0003"\n\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n', encoding="utf-8")
    before = db._MIGRATIONS
    try:
        db._MIGRATIONS = copy
        db.head_revision.cache_clear()
        assert db.head_revision() == alembic_head(copy) == "0004"
    finally:
        db._MIGRATIONS = before
        db.head_revision.cache_clear()


def test_the_migrations_build_exactly_the_models_tables(store_url):
    """A model changed without a migration (or the reverse) would pass every other test on a fresh
    database built one way, and break every existing project built the other."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tarjoman.store.models import Base, modelled

    store = Store(store_url)
    try:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_name": modelled})
            differences = compare_metadata(context, Base.metadata)
            hand_made = _hand_made(connection, store.dialect)
    finally:
        store.close()
    assert differences == []
    # What the models leave out is there all the same: the memory's trigram indexes.
    assert hand_made == ({f"fts_tm_{t}{v}" for t in ("sources", "units") for v in ("", "_vocab", "_instance")} if store.dialect == "sqlite"
                         else {"ix_segments_tm_key_trgm", "ix_tm_units_tm_key_trgm"})


def _hand_made(connection, dialect: str) -> set[str]:
    from sqlalchemy import text

    if dialect == "sqlite":
        return set(connection.execute(text("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")).scalars())
    return set(connection.execute(text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%'")).scalars())
