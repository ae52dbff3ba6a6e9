"""Glossary decisions in the review store: concurrent approvals all kept, the CSV as the
editors' exchange (Excel-safe, read back with optimistic concurrency), a previous release's
glossary imported whole."""

import codecs
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from pg_cluster import create_database

from tarjoman.glossary import load_termbase, read_table, term_key
from tarjoman.glossary.table import Row, Table, render_table
from tarjoman.project import Project
from tarjoman.store import Store
from tarjoman.store import terms as store_terms

LEGACY_GLOSSARY = Path(__file__).parent / "data" / "legacy" / "project" / "glossaries" / "sample.csv"
HEADER = "term,en,ar,fr,ur,status,kind,note,decided_by,decided_at"
KHORRAMSHAHR = "خرمشهر,Khorramshahr,خرمشهر,Khorramchahr,خرم شہر,approved,place,,ed,2026-01-01"
KARUN = ["--en", "Karun", "--ar", "كارون", "--fr", "Karoun", "--ur", "کارون"]


def command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tarjoman", "--root", str(root), *args]


def environment(editor: str) -> dict[str, str]:
    return {**os.environ, "TARJOMAN_EDITOR": editor}


def cli(project: Project, *args: str, editor: str = "editor") -> subprocess.CompletedProcess:
    return subprocess.run(command(project.root, *args), capture_output=True, text=True, env=environment(editor), timeout=300)


def glossary(project: Project, *rows: str) -> Path:
    """glossaries/book.csv with ``rows``, as a spreadsheet saved it."""
    path = project.glossaries / "book.csv"
    path.write_bytes(codecs.BOM_UTF8 + "\r\n".join([HEADER, *rows, ""]).encode())
    return path


def stored(project: Project, scope: str = "book") -> dict[str, store_terms.TermView]:
    with Store.for_root(project.root) as store:
        return {view.term: view for view in store_terms.read(store, scope, [scope])[scope]}


def history(project: Project, term: str, scope: str = "book"):
    with Store.for_root(project.root) as store:
        return store_terms.history(store, scope, term_key(term))


def edited(path: Path, old: str, new: str, data: bytes | None = None) -> bytes:
    """The file (or ``data``) with one cell run replaced, as an editor's spreadsheet saves it."""
    text = (data if data is not None else path.read_bytes()).decode("utf-8-sig")
    assert text.count(old) == 1
    return codecs.BOM_UTF8 + text.replace(old, new).encode()


# --- concurrent decisions --------------------------------------------------------------------

PLACES = ["شلمچه", "هویزه", "سوسنگرد", "بستان", "اندیمشک", "شوش", "ماهشهر", "بندر امام"]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch):
    """The store each command of the test uses: the project's SQLite file, or a new PostgreSQL database."""
    if request.param == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        monkeypatch.setenv("TARJOMAN_DATABASE_URL", create_database(cluster, f"glossary_{uuid.uuid4().hex}"))
    return request.param


def renderings(i: int) -> dict[str, str]:
    return {"en": f"Place {i}", "ar": f"مكان {i}", "fr": f"Lieu {i}", "ur": f"جگہ {i}"}


def approving(project: Project, term: str, texts: dict[str, str], editor: str) -> subprocess.Popen:
    args = ["glossary", "approve", "book", term, *(f"--{lang}={text}" for lang, text in texts.items())]
    return subprocess.Popen(command(project.root, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment(editor))


def test_concurrent_approvals_of_different_terms_are_all_kept(project, backend):
    glossary(project, KHORRAMSHAHR, "شلمچه,,,,,proposed,place,,,", "هویزه,,,,,proposed,place,,,")
    processes = [approving(project, place, renderings(i), f"editor-{i}") for i, place in enumerate(PLACES)]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    assert [rc for rc, _ in outcomes] == [0] * len(PLACES), outcomes
    approved = load_termbase(project, "book").terms
    in_file = {row.term: row for row in read_table(project.glossaries / "book.csv").rows}
    for i, place in enumerate(PLACES):
        assert approved[place] == renderings(i)
        assert in_file[place].status == "approved" and in_file[place].renderings() == renderings(i)
        assert in_file[place].get("decided_by") == f"editor-{i}"
    assert in_file["خرمشهر"].get("decided_by") == "ed"  # the row nobody touched


def test_two_approvals_of_the_same_term_are_both_in_the_history(project, backend):
    glossary(project, KHORRAMSHAHR)
    spellings = {"alice": "Shalamcheh", "bob": "Shalamche"}
    texts = {who: {"en": en, "ar": "شلمچة", "fr": en, "ur": "شلمچہ"} for who, en in spellings.items()}
    processes = [approving(project, "شلمچه", text, who) for who, text in texts.items()]
    assert [p.wait(timeout=300) for p in processes] == [0, 0], [p.stderr.read() for p in processes]
    changes = [c for c in history(project, "شلمچه") if c.action == "term-approve"]
    assert sorted(c.who for c in changes) == ["alice", "bob"] and [c.version for c in changes] == [1, 2]
    last = changes[-1]
    assert last.old_state == "approved" and spellings[last.who] in last.new_text  # old → new, as the history keeps it
    final = stored(project)["شلمچه"]
    assert (final.decided_by, final.renderings["en"], final.version) == (last.who, spellings[last.who], 2)
    row = read_table(project.glossaries / "book.csv").find("شلمچه")
    assert (row.get("decided_by"), row.get("en"), row.get("version")) == (last.who, spellings[last.who], "2")


# --- Excel-safe cells ------------------------------------------------------------------------

FORMULAS = {"en": '=HYPERLINK("http://evil.example","click")', "ar": "+1", "fr": "-x", "ur": "@SUM(A1)"}


def test_formula_cells_are_neutralised_in_the_file_and_read_back_exactly(project):
    glossary(project, KHORRAMSHAHR)
    result = cli(project, "glossary", "approve", "book", "شلمچه", *(f"--{lang}={text}" for lang, text in FORMULAS.items()))
    assert result.returncode == 0, result.stderr
    raw = (project.glossaries / "book.csv").read_bytes()
    cells = "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",'+1,'-x,'@SUM(A1)"
    assert f"\r\nشلمچه,{cells},approved,".encode() in raw
    assert read_table(project.glossaries / "book.csv").find("شلمچه").renderings() == FORMULAS
    assert load_termbase(project, "book").terms["شلمچه"] == FORMULAS
    assert stored(project)["شلمچه"].version == 1  # reading the file back was no edit


@pytest.mark.parametrize("value", ["=1+1", "+98 21 1234", "-x", "@SUM(A1)", "\tx", "\rx", "'quoted'", "'", "''=x", "'=x",
                                   "plain", ""])
def test_every_cell_round_trips(tmp_path, value):
    path = tmp_path / "book.csv"
    path.write_bytes(render_table(Table(path, ["term", "note"], [Row(0, {"term": "خرمشهر", "note": value})])))
    assert read_table(path).rows[0].values["note"] == value
    cell = path.read_bytes().decode("utf-8-sig").split("\r\n")[1].split(",", 1)[1].strip('"')
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


# --- the spreadsheet as an exchange ----------------------------------------------------------

def test_an_editors_approval_in_the_spreadsheet_is_taken_in(project):
    path = glossary(project, KHORRAMSHAHR, "کارون,,,,,proposed,place,,,")
    assert cli(project, "glossary", "check", "book").returncode == 0
    path.write_bytes(edited(path, "کارون,,,,,proposed", "کارون,Karun,كارون,Karoun,کارون,approved"))
    result = cli(project, "glossary", "check", "book", editor="Maryam")
    assert result.returncode == 0, result.stderr
    assert load_termbase(project, "book").terms["کارون"] == {"en": "Karun", "ar": "كارون", "fr": "Karoun", "ur": "کارون"}
    karun = stored(project)["کارون"]
    assert (karun.status, karun.decided_by, karun.version) == ("approved", "Maryam", 2) and karun.decided_at.startswith("20")
    change = history(project, "کارون")[-1]
    assert (change.action, change.origin, change.why) == ("term-approve", "sheet", f"{path}:3")
    assert read_table(path).find("کارون").get("version") == "2"


def stale_copy(project: Project) -> tuple[Path, bytes]:
    """An editor's copy of the CSV, opened before another editor approved «کارون» with the CLI."""
    path = glossary(project, KHORRAMSHAHR, "کارون,,,,,proposed,place,,,", "اهواز,,,,,proposed,place,,,")
    assert cli(project, "glossary", "check", "book").returncode == 0
    copy = path.read_bytes()
    result = cli(project, "glossary", "approve", "book", "کارون", *KARUN, "--by", "alice")
    assert result.returncode == 0, result.stderr
    return path, copy


def test_an_edit_of_a_row_the_store_changed_since_is_a_conflict(project):
    path, copy = stale_copy(project)
    theirs = edited(path, "کارون,,,,,proposed", "کارون,Karoon,كارون,Karoun,کارون,approved", data=copy)
    path.write_bytes(theirs)
    result = cli(project, "glossary", "check", "book")
    assert result.returncode == 1
    assert f"{path}:3:" in result.stderr and "version 1 → 2" in result.stderr and "en «Karun» / «Karoon»" in result.stderr
    karun = stored(project)["کارون"]
    assert (karun.renderings["en"], karun.decided_by, karun.version) == ("Karun", "alice", 2)
    assert path.read_bytes() == theirs  # refused: nothing changed, the editor decides
    refused = cli(project, "glossary", "approve", "book", "اهواز", "--en", "Ahvaz", "--ar", "الأهواز", "--fr", "Ahvaz",
                  "--ur", "اہواز")
    assert refused.returncode == 1 and "book.csv (line 3)" in refused.stderr
    assert stored(project)["اهواز"].status == "proposed"
    # The editor has seen the store's row and still wants theirs: the row's version says so.
    path.write_bytes(edited(path, "approved,place,,,,1", "approved,place,,,,2"))
    assert cli(project, "glossary", "check", "book", editor="Maryam").returncode == 0
    karun = stored(project)["کارون"]
    assert (karun.renderings["en"], karun.decided_by, karun.version) == ("Karoon", "Maryam", 3)


def test_a_stale_copy_keeps_the_stores_newer_rows_and_brings_its_own_edits(project):
    path, copy = stale_copy(project)
    path.write_bytes(edited(path, "اهواز,,,,,proposed", "اهواز,Ahvaz,الأهواز,Ahvaz,اہواز,approved", data=copy))
    result = cli(project, "glossary", "check", "book")
    assert result.returncode == 0, result.stderr
    now = stored(project)
    assert (now["کارون"].status, now["کارون"].decided_by) == ("approved", "alice")  # not undone by the old copy
    assert now["اهواز"].status == "approved"
    rows = read_table(path)
    assert rows.find("کارون").get("en") == "Karun" and rows.find("اهواز").get("en") == "Ahvaz"


def test_rows_missing_from_the_spreadsheet_are_not_deletions(project):
    path = glossary(project, KHORRAMSHAHR, "کارون,,,,,proposed,place,,,")
    assert cli(project, "glossary", "check", "book").returncode == 0
    lines = path.read_bytes().decode("utf-8-sig").splitlines(keepends=True)
    path.write_bytes(codecs.BOM_UTF8 + "".join(line for line in lines if not line.startswith("خرمشهر")).encode())
    assert cli(project, "glossary", "check", "book").returncode == 0
    assert load_termbase(project, "book").terms["خرمشهر"]["fr"] == "Khorramchahr"
    assert read_table(path).find("خرمشهر") is not None
    path.unlink()
    assert load_termbase(project, "book").terms["خرمشهر"]["fr"] == "Khorramchahr" and read_table(path).find("کارون") is not None


def test_a_version_cell_that_is_not_a_number_is_refused(project):
    path = glossary(project, KHORRAMSHAHR)
    assert cli(project, "glossary", "check", "book").returncode == 0
    path.write_bytes(edited(path, "2026-01-01,1", "2026-01-01,one"))
    result = cli(project, "glossary", "check", "book")
    assert result.returncode == 1 and "book.csv:2: version 'one' is not a number" in result.stderr


# --- a project of the previous release -------------------------------------------------------

def test_a_legacy_glossary_is_imported_whole_on_the_first_command(project):
    shutil.copy(LEGACY_GLOSSARY, project.glossaries / "sample.csv")
    result = cli(project, "glossary", "check", "sample")
    assert result.returncode == 0, result.stderr
    rows = read_table(LEGACY_GLOSSARY).rows
    views = list(stored(project, "sample").values())
    assert [view.term for view in views] == [row.term for row in rows]
    for row, view in zip(rows, views):
        expected = (row.renderings(), row.status, row.get("kind"), row.get("note"), row.get("decided_by"), row.get("decided_at"))
        assert (view.renderings, view.status, view.kind, view.note, view.decided_by, view.decided_at) == expected, row.line
        assert [c.action for c in history(project, row.term, "sample")] == ["term-import"]
    rewritten = read_table(project.glossaries / "sample.csv").rows
    assert [{k: v for k, v in r.values.items() if k != "version"} for r in rewritten] == [r.values for r in rows]


def test_a_spreadsheet_saved_while_a_decision_is_written_is_not_written_over(project, monkeypatch):
    """Excel takes no lock: an editor saves the CSV at the very moment `approve` rewrites it. Her
    save stays in the file, and the next command takes it in."""
    import tarjoman.files as files
    from tarjoman.glossary import approve

    path = glossary(project, KHORRAMSHAHR, "کارون,,,,,proposed,place,,,")
    assert cli(project, "glossary", "check", "book").returncode == 0
    seal = files._seal

    def editor_saves_then_seal(tmp, mode):
        if tmp.name.startswith(".book.csv."):
            path.write_bytes(edited(path, "کارون,,,,,proposed,place,", "کارون,,,,,proposed,place,the river"))
        seal(tmp, mode)

    monkeypatch.setattr(files, "_seal", editor_saves_then_seal)
    approve(project, "book", "اهواز", {"en": "Ahvaz", "ar": "الأهواز", "fr": "Ahvaz", "ur": "اہواز"}, by="alice")
    monkeypatch.setattr(files, "_seal", seal)
    assert "the river" in path.read_bytes().decode("utf-8-sig")  # her save is still there
    assert load_termbase(project, "book").terms["اهواز"]["en"] == "Ahvaz"  # the decision is in the store
    assert stored(project)["کارون"].note == "the river"  # and her edit was taken in by the next command
