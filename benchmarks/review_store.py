"""What the review store costs and buys: status and publish from the store against the previous
release's PO files, and how many translator saves per second SQLite and PostgreSQL take.

    .venv/bin/python benchmarks/review_store.py [--rounds 3] [--quick]

The book is the real 150k-word novel (``--quick``: the bundled sources/sample.docx), extracted
once. Its review state is built directly, not drafted by a model: every unit gets a machine
draft in French and is approved (``record_drafts``, ``accept_drafts`` of tarjoman.store.translations),
then ``tarjoman.queue.export_reviews`` writes the PO files from the store. The store's project
and a files-only copy of it (manuscript.json and the PO files, nothing else) are the two sides.

The file side is the code of a81d480, the release before the store, exported to a temporary
folder and run in its own process (``PYTHONPATH``): two versions never share a process. The store
side runs in a second process of the same kind. Each process keeps its modules loaded; one
untimed call of each operation warms it up. Timed, alternated file, store, file, store … for
``--rounds`` rounds, min and median of each:

- status: ``tarjoman.queue.book_status`` (file: every PO file parsed; store: the book's rows read).
- publish, review-state part: what ``publish_book`` does before and after rendering. File:
  ``import_reviews`` (validate, keep good copies in reviewed/) then ``build_edition`` (PO files
  parsed again). Store: ``build_edition`` (store read, every approved text checked for publication)
  then ``unimported_files`` (a PO file saved since the store wrote it is reported).
- edition assembly alone: the ``build_edition`` part of the above, timed separately.

Both sides must report every unit approved and assemble the same edition (a hash of every block's
kind, text and language is compared), or the benchmark stops. Not in the ratios: EPUB rendering and
EPUBCheck, the same code on both sides (``publish_book`` is timed once each, whole, for context;
not with ``--quick``), process start and imports, and building the review state.

Saves: N writers (1, 4, 16), each its own process and ``Store``, each saving approved edits of its
own segments, one per transaction: read the segment's current version (one indexed query, as a
review desk does before a save), then ``apply_edits`` with that base version. Each window runs
``--seconds`` seconds; saves/s is every writer's saves over the window, best and median of
``--rounds`` windows, SQLite (the project's WAL file) and PostgreSQL (a throwaway cluster from
tests/pg_cluster.py, fsync off as in the tests) alternated. Process start, opening the store and
one warm-up save per writer are not counted. No goal is asserted; the last line is ``RESULT …``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
NOVEL = REPO.parent / "shared" / "realdata" / "docx" / "fa" / "fa_novel_anche-bar-man-gozasht.docx"
SAMPLE = REPO / "sources" / "sample.docx"
FILES_RELEASE = "a81d480"  # the last release that kept review state in PO files
LANG = "fr"
WRITERS = (1, 4, 16)
DATABASE_ENV = "TARJOMAN_DATABASE_URL"  # tarjoman.store.db.DATABASE_ENV
_WORDS = ("le la les un une de du des et à en dans sur pour avec que qui il elle nous ils était avait maison "
          "temps jour vie monde homme femme enfant ville nuit main porte mère père rue ciel mer pays année").split()


def french_like(source: str, n: int) -> str:
    """A French-looking translation about as long as ``source`` (a real draft's size, no model)."""
    words, size, i = [], 0, n
    while size < max(len(source), 12):
        word = _WORDS[(i * 7 + len(words) * 3) % len(_WORDS)]
        words.append(word)
        size += len(word) + 1
        i += 1
    return " ".join(words).capitalize() + "."


# --- setup (not timed) ----------------------------------------------------------------------


@contextmanager
def database(url: str) -> Iterator[None]:
    """The store's own way to choose a database, for the block: ``$TARJOMAN_DATABASE_URL``."""
    previous = os.environ.get(DATABASE_ENV)
    os.environ[DATABASE_ENV] = url
    try:
        yield
    finally:
        if previous is None:
            del os.environ[DATABASE_ENV]
        else:
            os.environ[DATABASE_ENV] = previous


def approve_all(project, book: str) -> int:
    """Draft and approve every unit of ``book`` in LANG in the project's store; the number of units."""
    from tarjoman.project_store import open_book
    from tarjoman.store import DraftIn
    from tarjoman.store.translations import accept_drafts, record_drafts

    store, manuscript = open_book(project, book)
    try:
        units = [u for chapter in manuscript.chapters for u in chapter.units()]
        record_drafts(store, book, LANG, [DraftIn(u.id, french_like(u.text, n), "machine", "bench") for n, u in enumerate(units)])
        accepted, _ = accept_drafts(store, book, LANG, who="bench", acceptable=lambda uid, text: True)
    finally:
        store.close()
    if accepted != len(units):
        raise RuntimeError(f"only {accepted} of {len(units)} drafts could be approved")
    return len(units)


def prepare(tmp: Path, source: Path, book: str) -> tuple[Path, Path, Path, int, list[str]]:
    """The store project, the files-only project, the previous release's code; units; unit IDs."""
    from tarjoman.manuscript import extract
    from tarjoman.project import Project
    from tarjoman.queue import export_reviews

    store_root, files_root, old_code = tmp / "store", tmp / "files", tmp / "release"
    manuscript = extract(source, Project(store_root), book=book)
    with database(f"sqlite:///{store_root / 'tarjoman.sqlite'}"):  # the default, whatever this shell has set
        units = approve_all(Project(store_root), book)
        export_reviews(Project(store_root), book, [LANG])  # the PO files, written from the store
    shutil.copytree(store_root / "outputs", files_root / "outputs")
    old_code.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", FILES_RELEASE, "tarjoman"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old_code)], input=archive, check=True)
    return store_root, files_root, old_code, units, [u.id for c in manuscript.chapters for u in c.units()]


# --- the timed side: one long-lived process per code version ----------------------------------


def edition_hash(edition) -> str:
    """What a reader of the edition would see: every block's kind, text and language."""
    digest = hashlib.sha256()
    for chapter in edition.chapters:
        blocks = ([chapter.title] if chapter.title else []) + chapter.blocks + [b for n in chapter.notes for b in n.blocks]
        for block in blocks:
            digest.update(json.dumps([chapter.id, block.kind, block.text, block.lang], ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def serve(side: str, root: str, book: str) -> None:
    """The worker: read operations from stdin, run them, answer one JSON line each."""
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the code under test (or EPUBCheck) prints goes to the log, not to the answers
    import tarjoman
    from tarjoman.book import publish_book
    from tarjoman.edition import build_edition
    from tarjoman.project import Project
    from tarjoman.queue import book_status, import_reviews

    expected = Path(os.environ["PYTHONPATH"]).resolve()
    if expected not in Path(tarjoman.__file__).resolve().parents:
        raise RuntimeError(f"{side}: imported {tarjoman.__file__}, not the code under {expected}")
    project = Project(Path(root))

    def status() -> dict:
        rows = [r for r in book_status(project, book) if r["lang"] == LANG]
        return {"approved": sum(r["approved"] for r in rows), "total": sum(r["total"] for r in rows)}

    def edition() -> dict:
        start = time.perf_counter()
        problems = len(import_reviews(project, book, [LANG]).problems) if side == "file" else 0
        built = time.perf_counter()
        result = build_edition(project, book, LANG)
        build_seconds = time.perf_counter() - built
        if side == "store":
            from tarjoman.queue import unimported_files

            problems = len(unimported_files(project, book, [LANG]))
        return {"build_seconds": build_seconds, "hash": edition_hash(result), "problems": problems, "_start": start}

    def publish() -> dict:
        return {"epub": publish_book(project, book, LANG).path.stat().st_size}

    operations = {"status": status, "edition": edition, "publish": publish}
    for line in sys.stdin:
        start = time.perf_counter()
        result = operations[line.strip()]()
        result["seconds"] = time.perf_counter() - result.pop("_start", start)
        answers.write(json.dumps(result) + "\n")
        answers.flush()


class Side:
    """A worker process running one version of Tarjoman on one project."""

    def __init__(self, name: str, code: Path, root: Path, book: str, log: Path):
        env = {k: v for k, v in os.environ.items() if k != DATABASE_ENV}  # the store side: the project's SQLite file
        env["PYTHONPATH"] = str(code)
        self.name, self.log = name, log
        self._log = open(log, "w")
        self._proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve", name, str(root), book], cwd=root, env=env, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log)

    def __call__(self, operation: str) -> dict:
        self._proc.stdin.write(operation + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            tail = self.log.read_text()[-3000:]
            raise RuntimeError(f"the {self.name} worker stopped during {operation!r}; its log ends:\n{tail}")
        return json.loads(line)

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._log.close()


def compare(sides: dict[str, Side], rounds: int, units: int) -> dict[str, dict[str, list[float]]]:
    """Alternated rounds; times per measure and side. Stops if the two sides disagree."""
    times = {m: {s: [] for s in sides} for m in ("status", "publish", "edition")}
    hashes = {}
    for name, side in sides.items():  # warm-up, and the checks
        status, edition = side("status"), side("edition")
        if (status["approved"], status["total"]) != (units, units) or edition["problems"]:
            raise RuntimeError(f"{name}: {status['approved']}/{status['total']} approved of {units} units, "
                               f"{edition['problems']} review problems")
        hashes[name] = edition["hash"]
    if len(set(hashes.values())) != 1:
        raise RuntimeError(f"the two sides assembled different editions: {hashes}")
    for _ in range(rounds):
        for name, side in sides.items():
            times["status"][name].append(side("status")["seconds"])
        for name, side in sides.items():
            found = side("edition")
            times["publish"][name].append(found["seconds"])
            times["edition"][name].append(found["build_seconds"])
    return times


# --- saves per second -------------------------------------------------------------------------


def current_version(store, book: str, lang: str, uid: str) -> int:
    """The version a translator's save is based on. The store has no one-segment read, so this
    asks the tables directly: one indexed lookup."""
    from sqlalchemy import select

    from tarjoman.store.models import Book, Segment, Translation

    with store.read() as session:
        return session.scalar(select(Translation.version).join(Segment, Translation.segment_id == Segment.id)
                              .join(Book, Segment.book_id == Book.id)
                              .where(Book.slug == book, Segment.uid == uid, Translation.lang == lang))


def writer(url: str, book: str, uids: list[str], who: str, windows: int, seconds: float, barrier, results) -> None:
    """One translator: for each window, save approved edits of its own segments for ``seconds``."""
    import threading
    import traceback

    try:
        from tarjoman.store import Edit, Store
        from tarjoman.store.translations import apply_edits

        store = Store(url)
        mark = f"{who}.{os.getpid()}"  # a text no earlier writer saved, so every save is a change

        def save(k: int) -> None:
            uid = uids[k % len(uids)]
            base = current_version(store, book, LANG, uid)
            edit = Edit(uid, f"Texte revu par {mark}, enregistrement {k}.", "approved", base, "bench")
            outcome = apply_edits(store, book, {LANG: [edit]}, who=who)
            if outcome.applied != 1:
                raise RuntimeError(f"{who}: save {k} of {uid} not applied ({outcome})")

        k = 0
        save(k)  # warm-up: connection, statement caches
        for window in range(windows):
            barrier.wait(timeout=300)
            start = time.perf_counter()
            deadline, count = start + seconds, 0
            while time.perf_counter() < deadline:
                k += 1
                save(k)
                count += 1
            results.put((window, count, start, time.perf_counter(), None))
        store.close()
    except threading.BrokenBarrierError:
        pass  # another writer failed and said why
    except BaseException:
        results.put((None, 0, 0.0, 0.0, traceback.format_exc()))
        barrier.abort()


class Writers:
    """N writer processes on one database, started and waiting at a barrier."""

    def __init__(self, context, n: int, url: str, book: str, uids: list[str], windows: int, seconds: float):
        self.n, self.barrier, self.results = n, context.Barrier(n + 1), context.Queue()
        self.processes = [context.Process(target=writer, args=(url, book, uids[i::n], f"w{i}", windows, seconds, self.barrier, self.results))
                          for i in range(n)]
        for process in self.processes:
            process.start()

    def window(self) -> float:
        """Run one window; every writer's saves per second of the window."""
        import threading

        try:
            self.barrier.wait(timeout=300)
            found = [self.results.get(timeout=300) for _ in range(self.n)]
        except threading.BrokenBarrierError:
            found = [self.results.get(timeout=30)]
        errors = [error for *_, error in found if error]
        if errors:
            self.barrier.abort()
            raise RuntimeError("a writer failed:\n" + errors[0])
        return sum(count for _, count, *_ in found) / (max(end for *_, end, _ in found) - min(start for _, _, start, *_ in found))

    def close(self) -> None:
        for process in self.processes:
            process.join(timeout=60)


def saves_per_second(databases: dict[str, str], book: str, uids: list[str], rounds: int, seconds: float) -> dict[str, dict[int, list[float]]]:
    import multiprocessing

    import tarjoman.store.translations  # noqa: F401  imported once, before forking, not by each of 42 writers

    # Forked: this process holds no open connection by now (every Store closed); each writer opens its own.
    context = multiprocessing.get_context("fork")
    rates = {name: {n: [] for n in WRITERS} for name in databases}
    for n in WRITERS:
        pools = {name: Writers(context, n, url, book, uids, rounds, seconds) for name, url in databases.items()}
        try:
            for _ in range(rounds):
                for name, pool in pools.items():
                    rates[name][n].append(pool.window())
        finally:
            for pool in pools.values():
                pool.close()
    return rates


def start_postgres(tmp: Path, store_root: Path, book: str):
    """A throwaway cluster with the book's review state, or (None, None) where PostgreSQL is missing."""
    sys.path.insert(0, str(REPO / "tests"))
    from pg_cluster import PostgresCluster, create_database, find_pg_bin

    from tarjoman.project import Project

    if find_pg_bin() is None:
        return None, None
    folder = tempfile.TemporaryDirectory(prefix="tarjoman-pg-")  # as root, one the postgres user can enter
    cluster = PostgresCluster(folder.name).start()
    cluster.folder = folder
    url = create_database(cluster, "review_bench")
    pg_root = tmp / "pg"
    shutil.copytree(store_root / "outputs", pg_root / "outputs", ignore=shutil.ignore_patterns("review", "*.po"))
    with database(url):
        approve_all(Project(pg_root), book)
    return cluster, url


# --- report ---------------------------------------------------------------------------------


def report_reads(args, source: Path, units: int, times: dict, publish: dict, setup: float) -> dict[str, tuple[float, float]]:
    """Print the status and publish figures; file/store ratios (of the mins, of the medians)."""

    def line(label: str, values: list[float]) -> str:
        return f"  {label:<8} min {min(values):8.3f} s   median {statistics.median(values):8.3f} s"

    print(f"manuscript: {source.name}, {units} units, all approved in {LANG}; {args.rounds} alternated rounds (file, store, …)")
    print(f"file = Tarjoman {FILES_RELEASE} (PO files) in its own process; store = this tree (SQLite WAL) in its own process")
    print(f"setup (extract, drafts and approvals, PO files, old release's code, PostgreSQL data): {setup:.1f} s, not counted")
    labels = {"status": "status (book_status)", "publish": "publish, review-state part (file: import_reviews + build_edition; "
              "store: build_edition + unimported_files)", "edition": "edition assembly alone (build_edition)"}
    ratios = {}
    for measure, label in labels.items():
        file, store = times[measure]["file"], times[measure]["store"]
        ratios[measure] = (min(file) / min(store), statistics.median(file) / statistics.median(store))
        print(label)
        print(line("file", file))
        print(line("store", store))
        print(f"  file/store  min {ratios[measure][0]:.2f}   median {ratios[measure][1]:.2f}   "
              f"({'store faster' if ratios[measure][0] > 1 else 'STORE SLOWER'})")
    if publish:
        print("whole publish_book, once each, with EPUB rendering and EPUBCheck (identical on both sides; context only):")
        print(f"  file {publish['file']:.2f} s   store {publish['store']:.2f} s")
    else:
        print("whole publish_book (EPUB rendering and EPUBCheck, ~10 s each): not run with --quick")
    sys.stdout.flush()
    return ratios


def report_saves(args, rates: dict) -> str:
    """Print the saves table; the RESULT fields."""
    print(f"saves per second, approved edits, one per transaction, {args.seconds:g} s windows, {args.rounds} rounds (best / median), "
          f"{os.cpu_count()} CPUs shared by the writers and the database:")
    print("  writers " + "".join(f"{name:>22}" for name in rates))
    for n in WRITERS:
        print(f"  {n:>7} " + "".join(f"{max(r[n]):>11.0f} / {statistics.median(r[n]):>7.0f}" for r in rates.values()))
    if "postgresql" not in rates:
        print("  PostgreSQL: not found (no initdb), not measured")
    return " ".join(f"saves_{'pg' if name == 'postgresql' else name}_{n}={max(r[n]):.1f}" for name, r in rates.items() for n in WRITERS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds of each measure (at least 3)")
    parser.add_argument("--quick", action="store_true", help="the bundled sample instead of the 150k-word novel, no whole publish")
    parser.add_argument("--seconds", type=float, default=None, help="length of each saves window (default 3, --quick 0.5)")
    parser.add_argument("--serve", nargs=3, metavar=("SIDE", "ROOT", "BOOK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    args.rounds = max(args.rounds, 3)
    args.seconds = args.seconds or (0.5 if args.quick else 3.0)
    source, book = (SAMPLE, "sample") if args.quick else (NOVEL, "novel")
    if not source.is_file():
        sys.exit(f"manuscript not found: {source}")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tarjoman-bench-") as folder:
        tmp = Path(folder)
        store_root, files_root, old_code, units, uids = prepare(tmp, source, book)
        cluster, pg_url = start_postgres(tmp, store_root, book)
        setup = time.perf_counter() - began
        try:
            sides = {"file": Side("file", old_code, files_root, book, tmp / "file.log"),
                     "store": Side("store", REPO, store_root, book, tmp / "store.log")}
            try:
                times = compare(sides, args.rounds, units)
                publish = {} if args.quick else {name: side("publish")["seconds"] for name, side in sides.items()}
            finally:
                for side in sides.values():
                    side.close()
            ratios = report_reads(args, source, units, times, publish, setup)
            databases = {"sqlite": f"sqlite:///{store_root / 'tarjoman.sqlite'}"}
            if pg_url:
                databases["postgresql"] = pg_url
            saves = report_saves(args, saves_per_second(databases, book, uids, args.rounds, args.seconds))
        finally:
            if cluster is not None:
                cluster.stop()
                cluster.folder.cleanup()
    print(f"benchmark wall time: {time.perf_counter() - began:.0f} s")
    print(f"RESULT status_ratio={ratios['status'][0]:.3f} status_ratio_median={ratios['status'][1]:.3f} "
          f"edition_ratio={ratios['publish'][0]:.3f} edition_ratio_median={ratios['publish'][1]:.3f} "
          f"build_ratio={ratios['edition'][0]:.3f} status_store_seconds={min(times['status']['store']):.3f} "
          f"status_file_seconds={min(times['status']['file']):.3f} edition_store_seconds={min(times['publish']['store']):.3f} "
          f"edition_file_seconds={min(times['publish']['file']):.3f} {saves} units={units}")


if __name__ == "__main__":
    main()
