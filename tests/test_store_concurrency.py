"""Many processes on one book at once, SIGKILLed at random: nothing reported saved is lost.

On SQLite and on PostgreSQL, eight workers (tests/workers/) work on the sample for WORK_SECONDS:
three translators saving through the library, one through PO files and ``review import``, a
drafter (``draft`` with other beams each time), ``qa``, a glossary editor (``glossary approve``)
and a publisher (``publish``). Meanwhile the test SIGKILLs one of them, with everything it had
started, at seeded random moments (MIN_KILLS times, or $TARJOMAN_KILLS if more) and starts it
again. Then a last ``draft`` and ``publish`` run undisturbed, and:

- every save a translator reported is a change of that sentence, at that version, with that
  text; each translation's history is versions 1..N, and its text is that of version N;
- every glossary approval reported is an approved term with its renderings;
- every book published holds, for each sentence, a text approved for that sentence at some
  version (never a draft, never another sentence's text);
- the database passes its integrity check, every PO file ``msgfmt -c``;
- every command exited 0 or with an expected one-line refusal; no traceback, no process stuck.
"""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import SAMPLE, SAMPLE_GLOSSARY, TESTS, approve_every_sentence
from lxml import etree

from tarjoman.manuscript import load_manuscript
from tarjoman.project import Project
from tarjoman.store import Edit, Store
from tarjoman.store.core import require_book, translations
from tarjoman.store.translations import apply_edits, conflicts, history

WORK_SECONDS = 35
MIN_KILLS = 6
DRAIN_SECONDS = 300  # a worker still busy this long after the deadline is stuck (slow CI machines included)
SEED = 1359
BOOK = "sample"
LANGS = ("fr", "en")  # fr is approved and published; en stays machine drafts, redrafted each run

# (command, phrase): a refusal that is the expected answer to a concurrent worker's state.
EXPECTED_REFUSALS = [
    ("draft", "another tarjoman process is working on this book"),  # another draft holds the book
    ("publish", "not every sentence is approved in fr"),  # a translator's unapproved draft stands
]
XHTML = "{http://www.w3.org/1999/xhtml}"


def tarjoman(root, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(root), *args], capture_output=True, text=True, timeout=timeout)


@dataclass
class Worker:
    """One worker script, started again after each kill as a new incarnation (its own log files)."""

    name: str
    argv: list[str]
    incarnation: int = -1
    process: subprocess.Popen | None = None
    exits: list[int] = field(default_factory=list)

    def start(self, root: Path, logs: Path, deadline: float) -> None:
        self.incarnation += 1
        argv = [sys.executable, *self.argv, "--root", str(root), "--logs", str(logs), "--name", self.name,
                "--incarnation", str(self.incarnation), "--deadline", repr(deadline), "--seed", str(SEED)]
        stem = logs / f"{self.name}.{self.incarnation}"
        with open(f"{stem}.out", "wb") as out, open(f"{stem}.err", "wb") as err:
            # Its own process group: a kill takes the `tarjoman` command (and EPUBCheck's Java) it runs too.
            self.process = subprocess.Popen(argv, stdout=out, stderr=err, start_new_session=True)

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.exits.append(self.process.wait())

    def finish(self, until: float) -> bool:
        """Wait for the worker to stop at the deadline; False (and killed) if it is stuck."""
        try:
            self.exits.append(self.process.wait(timeout=max(1.0, until - time.monotonic())))
            return True
        except subprocess.TimeoutExpired:
            self.kill()
            return False


def workers(model: str) -> list[Worker]:
    script = lambda name: str(TESTS / "workers" / name)  # noqa: E731
    return [
        *[Worker(f"translator-{n}", [script("translator.py"), "--drafts", "0.05"]) for n in (1, 2, 3)],
        Worker("po-translator", [script("po_translator.py")]),
        Worker("drafter", [script("cli_worker.py"), "drafter", "--model", model]),
        Worker("qa", [script("cli_worker.py"), "qa"]),
        Worker("glossary", [script("cli_worker.py"), "glossary"]),
        Worker("publisher", [script("cli_worker.py"), "publisher"]),
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch):
    """The back-end's name; for PostgreSQL a new database in $TARJOMAN_DATABASE_URL (every worker inherits it)."""
    if request.param == "postgresql":
        from pg_cluster import create_database

        url = create_database(request.getfixturevalue("postgres_cluster"), f"concurrency_{uuid.uuid4().hex[:12]}")
        monkeypatch.setenv("TARJOMAN_DATABASE_URL", url)
    else:
        monkeypatch.delenv("TARJOMAN_DATABASE_URL", raising=False)
    return request.param


@pytest.fixture
def approved_book(backend, tmp_path, tiny_models):
    """The sample extracted, drafted into French and English (with the drafter's two beam sizes), every French sentence approved."""
    root = tmp_path / "project"
    for name in ("sources", "glossaries"):
        (root / name).mkdir(parents=True)
    (root / "sources" / "sample.docx").write_bytes(SAMPLE.read_bytes())
    (root / "glossaries" / "sample.csv").write_bytes(SAMPLE_GLOSSARY.read_bytes())
    result = tarjoman(root, "extract", str(root / "sources" / "sample.docx"), "--book", BOOK)
    assert result.returncode == 0, result.stderr
    for langs, beams in ((",".join(LANGS), "1"), ("en", "2")):  # the drafter's drafts, made once: its runs stay short
        result = tarjoman(root, "draft", BOOK, "--lang", langs, "--model", tiny_models["nllb"], "--beams", beams)
        assert result.returncode == 0, result.stderr
    assert approve_every_sentence(root, BOOK, "fr", "setup") > 0  # the tiny model's drafts are in no language
    return root


def storm(root: Path, logs: Path, model: str, kills: int) -> tuple[list[Worker], list[str], list[str]]:
    """Run every worker for WORK_SECONDS, killing one at each of ``kills`` seeded moments and starting
    it again. Returns the workers, the kills made ("t+12.3s drafter#1") and the workers that got stuck."""
    crew = workers(model)
    schedule = random.Random(SEED)
    moments = sorted(schedule.uniform(1.0, WORK_SECONDS - 1.0) for _ in range(kills))
    victims = [schedule.choice(crew) for _ in moments]
    deadline, started = time.time() + WORK_SECONDS, time.monotonic()
    made = []
    try:
        for worker in crew:
            worker.start(root, logs, deadline)
        for moment, victim in zip(moments, victims):
            time.sleep(max(0.0, started + moment - time.monotonic()))
            made.append(f"t+{time.monotonic() - started:.1f}s {victim.name}#{victim.incarnation}")
            victim.kill()
            victim.start(root, logs, deadline)
        until = started + WORK_SECONDS + DRAIN_SECONDS
        stuck = [f"{w.name}#{w.incarnation}" for w in crew if not w.finish(until)]
    finally:  # the test itself failed or was interrupted: leave nothing running
        for worker in crew:
            if worker.process is not None and worker.process.poll() is None:
                worker.kill()
    return crew, made, stuck


# --- what the workers left ------------------------------------------------------------


def lines(logs: Path, pattern: str) -> list[list[str]]:
    """The complete lines of the logs matching ``pattern``, split at tabs (a line a kill cut short is no report)."""
    found = []
    for path in sorted(logs.glob(pattern)):
        found += [line.split("\t") for line in path.read_text(encoding="utf-8").split("\n")[:-1]]
    return found


def runs(logs: Path) -> list[dict]:
    """Every command the workers ran to its end, with the name of its log."""
    found = []
    for path in sorted(logs.glob("*.runs")):
        for line in path.read_text(encoding="utf-8").split("\n")[:-1]:
            found.append({**json.loads(line), "log": path.name})
    return found


def unexpected(run: dict) -> bool:
    """A run that neither succeeded nor was refused for a reason the other workers give it."""
    if "Traceback" in run["stderr"] or "database is locked" in run["stderr"]:
        return True
    if run["rc"] == 0:
        return False
    said = [line for line in run["stderr"].splitlines() if line.strip()]
    refused = run["rc"] == 1 and len(said) == 1 and said[0].startswith("error: ")
    return not (refused and any(run["command"][0] == command and phrase in said[0] for command, phrase in EXPECTED_REFUSALS))


def assert_nothing_crashed(logs: Path, crew: list[Worker]) -> list[dict]:
    """No worker died but by our SIGKILL, every command ended as it may; returns the commands' runs."""
    crashed = {path.name: path.read_text(errors="replace")[-3000:] for path in sorted(logs.glob("*.err"))
               if "Traceback" in path.read_text(errors="replace")}
    assert not crashed, f"workers crashed: {crashed}"
    for worker in crew:
        assert all(code in (0, -signal.SIGKILL) for code in worker.exits), (worker.name, worker.exits)
    everything = runs(logs)
    wrong = [r for r in everything if unexpected(r)]
    assert not wrong, "commands failed:\n" + "\n".join(f"{r['log']} {r['command'][:2]} rc {r['rc']}: {r['stderr'][-1500:]}" for r in wrong)
    return everything


def approve_left_drafts(root: Path) -> None:
    """Approve what a translator left as a draft when she was killed, as she would the next morning."""
    with Store.for_root(root) as store:
        with store.read() as session:
            found = translations(session, require_book(session, BOOK), "fr")
        pending = [Edit(uid, t.text, "approved", t.version, "desk") for uid, t in found.items() if t.state == "draft"]
        if pending:
            outcome = apply_edits(store, BOOK, {"fr": pending}, who="test", origin="translator")
            assert outcome.applied == len(pending), outcome


# --- what the store holds ----------------------------------------------------------------


@dataclass
class Kept:
    """The store after the storm: each translation's changes (conflicts aside) and its current state."""

    changes: dict[str, dict[str, list]]  # lang → uid → changes, oldest first
    final: dict[str, dict]  # lang → uid → TranslationView
    conflicts: int

    @classmethod
    def read(cls, root: Path) -> "Kept":
        with Store.for_root(root) as store:
            changes = {lang: {} for lang in LANGS}
            for lang in LANGS:
                for c in history(store, BOOK, lang=lang):
                    if c.action != "conflict":  # a conflict is recorded at the version it met, not as a new one
                        changes[lang].setdefault(c.uid, []).append(c)
            with store.read() as session:
                final = {lang: translations(session, require_book(session, BOOK), lang) for lang in LANGS}
            return cls(changes, final, len(conflicts(store, BOOK, open_only=False)))

    def approved(self, lang: str) -> dict[str, set[str]]:
        """uid → every text approved for it at some version."""
        return {uid: {c.new_text for c in found if c.new_state == "approved"} for uid, found in self.changes[lang].items()}

    def never_approved(self, lang: str) -> set[str]:
        """Texts saved as drafts that no sentence ever had approved."""
        drafts = {c.new_text for found in self.changes[lang].values() for c in found if c.new_state == "draft"}
        return drafts - {text for texts in self.approved(lang).values() for text in texts}


def assert_saves_kept(kept: Kept, edits: list[list[str]]) -> None:
    for uid, version, text, state in edits:
        assert any((c.version, c.new_text, c.new_state) == (int(version), text, state) for c in kept.changes["fr"].get(uid, [])), \
            f"reported saved, not in the store: {uid} v{version} «{text}» ({state})"


def assert_histories_whole(kept: Kept) -> None:
    """Versions 1..N, each once, the text of N standing; no machine draft over approved French."""
    redrafted = [f"{uid} v{c.version}" for uid, found in kept.changes["fr"].items() for c in found if c.action == "draft" and c.version > 1]
    assert not redrafted, f"machine drafts replaced approved French text: {redrafted}"
    for lang in LANGS:
        for uid, found in kept.changes[lang].items():
            assert [c.version for c in found] == list(range(1, len(found) + 1)), f"{uid} {lang}: versions {[c.version for c in found]}"
            last, now = found[-1], kept.final[lang][uid]
            assert (now.version, now.text, now.state) == (last.version, last.new_text, last.new_state), f"{uid} {lang}"


def assert_terms_kept(root: Path, terms: list[list[str]]) -> None:
    from tarjoman.glossary import load_termbase
    from tarjoman.text import normalize

    approved = load_termbase(Project(root), BOOK).terms
    for term, renderings in terms:
        assert approved.get(normalize(term)) == json.loads(renderings), f"glossary approval reported, not in the store: {term}"


def assert_files_sound(root: Path, backend: str) -> None:
    """The database passes its integrity checks, every PO file ``msgfmt -c``."""
    with Store.for_root(root) as store:
        assert store.integrity_check() == "ok"
    for path in sorted((root / "outputs" / BOOK / "review").rglob("*.po")):
        checked = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{path}: {checked.stderr}"
    if backend == "sqlite":
        with sqlite3.connect(root / "tarjoman.sqlite") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []


# --- what a published book holds -----------------------------------------------------


def templates(root: Path) -> dict[str, list[list[tuple[str, str]]]]:
    """Chapter ID → the text blocks its XHTML may hold, each as [(separator, unit ID), …]:
    a paragraph's sentences are joined by spaces, a footnote's paragraphs by nothing."""
    manuscript = load_manuscript(root / "outputs" / BOOK / "manuscript.json")
    found = {}
    for chapter in manuscript.chapters:
        blocks = []
        for paragraph in ([chapter.title] if chapter.title else []) + chapter.paragraphs:
            blocks.append([(" " if i else "", unit.id) for i, unit in enumerate(chapter.paragraph_units(paragraph))])
        for note in chapter.footnotes:
            blocks.append([(" " if i else "", unit.id) for p in note.paragraphs for i, unit in enumerate(chapter.paragraph_units(p))])
        found[chapter.id] = [block for block in blocks if block]
    return found


def composed(text: str, template: list[tuple[str, str]], approved: dict[str, set[str]]) -> bool:
    """Is ``text`` the template's sentences in order, each one of the texts approved for it?"""
    ends = {0}
    for separator, uid in template:
        starts = {i + len(separator) for i in ends if text.startswith(separator, i)}
        ends = {start + len(t) for start in starts for t in approved.get(uid, ()) if text.startswith(t, start)}
        if not ends:
            return False
    return len(text) in ends


def reading(element) -> str:
    """An element's text as a reader sees it, without note references and backlinks."""
    parts = [element.text or ""]
    for child in element:
        if not (child.tag == f"{XHTML}a" and child.get("role") in ("doc-noteref", "doc-backlink")):
            parts.append(reading(child))
        parts.append(child.tail or "")
    return "".join(parts)


def chapter_texts(xhtml: bytes) -> list[str]:
    """Every block of text of a chapter document (headings, paragraphs, captions, footnotes)."""
    body = etree.fromstring(xhtml).find(f"{XHTML}body")
    texts = []
    for element in body.iter(*(f"{XHTML}{tag}" for tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption"))):
        if element.tag == f"{XHTML}h2" and element.getparent().get("class") == "notes":
            continue  # "Notes", a word of the edition's
        if element.get("class") == "verse":
            texts.append("\n".join(reading(span) for span in element))
        elif element.getparent().tag == f"{XHTML}aside":
            texts.append(reading(element).removeprefix(" "))  # after the footnote's number
        else:
            texts.append(reading(element))
    return texts


def book_problems(epub: Path, blocks: dict[str, list], approved: dict[str, set[str]], drafts: set[str]) -> list[str]:
    """What in the book at ``epub`` is not approved text of its sentences, or is one of ``drafts``."""
    problems = []
    with zipfile.ZipFile(epub) as archive:
        names = set(archive.namelist())
        for chapter, candidates in blocks.items():
            name = f"EPUB/{chapter}.xhtml"
            if name not in names:
                problems.append(f"{epub.name}: no {name}")
                continue
            for text in chapter_texts(archive.read(name)):
                if not any(composed(text, template, approved) for template in candidates):
                    problems.append(f"{epub.name} {chapter}: «{text[:120]}» is not made of texts approved for its sentences")
                problems += [f"{epub.name} {chapter}: holds «{draft}», a draft never approved" for draft in drafts if draft in text]
    return problems


# --- the test -------------------------------------------------------------------------


def test_concurrent_killed_workers_lose_nothing_reported_saved(approved_book, backend, tiny_models, tmp_path):
    root, logs, model = approved_book, tmp_path / "logs", tiny_models["nllb"]
    logs.mkdir()
    kills = max(MIN_KILLS, int(os.environ.get("TARJOMAN_KILLS", "0") or 0))
    started = time.monotonic()
    crew, made, stuck = storm(root, logs, model, kills)
    seconds = time.monotonic() - started
    assert not stuck, f"still working {DRAIN_SECONDS} s after the deadline (a deadlock?): {stuck}"
    assert len(made) == kills
    commands = assert_nothing_crashed(logs, crew)

    # After the storm, undisturbed: the book drafts and publishes as before.
    result = tarjoman(root, "draft", BOOK, "--lang", ",".join(LANGS), "--model", model, "--beams", "1")
    assert result.returncode == 0, result.stderr
    approve_left_drafts(root)
    result = tarjoman(root, "publish", BOOK, "--lang", "fr")
    assert result.returncode == 0, result.stderr
    books = sorted(logs.glob("epubs/*.epub")) + [root / "outputs" / BOOK / "epub" / f"{BOOK}.fr.epub"]

    kept = Kept.read(root)
    edits, terms = lines(logs, "*translator*.saved"), lines(logs, "glossary.*.saved")
    assert_saves_kept(kept, edits)
    assert_histories_whole(kept)
    assert_terms_kept(root, terms)
    blocks, approved, drafts = templates(root), kept.approved("fr"), kept.never_approved("fr")
    problems = [problem for book in books for problem in book_problems(book, blocks, approved, drafts)]
    assert not problems, "\n".join(problems[:20])
    assert_files_sound(root, backend)

    # Something happened: each kind of worker reported work, else the checks above were vacuous.
    saves = Counter(path.name.split(".")[0] for path in logs.glob("*.saved") for _ in path.read_text().splitlines())
    outcomes = Counter(line[0] for line in lines(logs, "*.outcomes"))
    summary = (f"{backend}: {seconds:.0f} s, kills {made}; saves {dict(saves)}; PO saves {dict(outcomes)}; {len(books)} books; "
               f"{kept.conflicts} conflicts; {len(drafts)} drafts never approved; runs {dict(Counter((r['command'][0], r['rc']) for r in commands))}")
    print(summary)
    assert all(saves[name] for name in ("translator-1", "translator-2", "translator-3", "po-translator", "glossary")), summary
