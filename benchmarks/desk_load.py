"""What the desk costs a translator: the server time of the novel's longest chapter page, and save
latency with 1, 8 and 32 translators saving at once, on SQLite and on PostgreSQL, each against
what a translator does without the desk.

    .venv/bin/python benchmarks/desk_load.py [--rounds 5] [--seconds 4] [--saves 200] [--think 0] [--quick] [--no-postgres]

The book and its review state come from benchmarks/review_store.py (``prepare``, ``start_postgres``):
the real 150k-word novel (``--quick``: the bundled sources/sample.docx), every unit drafted and
approved in French directly in the store, the PO files written from it; PostgreSQL is a throwaway
cluster from tests/pg_cluster.py (fsync off, as in the tests) holding the same book. Then, per
database, 32 translator accounts (``--lang fr``, ``tarjoman.accounts.add_user``) and one
``tarjoman serve`` process (uvicorn, as a team runs it) on a free 127.0.0.1 port, started by
tests/desk_harness.py's ``DeskServer``. Every request goes to 127.0.0.1 only. The load generator is
this process: asyncio and one ``httpx.AsyncClient`` per translator, each logged in with its own
session (``POST /api/login``) before anything is timed. It shares the machine's CPUs (2 here)
with the server and the database, so client times include waiting for a core; the server's own
figure is its ``Server-Timing: app;dur=`` header (from the app's first middleware to the response,
template rendering included; not the HTTP parsing before it, nor the sending after).

The longest chapter is the one with most sentences (``tarjoman.store.core.progress``). Before the
rounds, each database gets one untimed call of every operation (the first page after the server
started, which reads the manuscript for footnotes, is printed on its own). Then, per database:

- chapter page: ``GET /books/<book>/chapters/<chapter>/fr`` (the HTML page a translator opens: its
  first slice of whole paragraphs, about 200 sentences; timed apart, every later slice it fetches
  as the translator scrolls to the end, one after the other, summed) and
  ``GET /api/books/<book>/chapters/<chapter>/fr`` (the same chapter as JSON), against the fair
  baseline, ``review export`` of that one chapter and language: what a translator without the
  desk runs to get the chapter to read (in this process, no process start or imports:
  ``BookSegments.load``, the termbase, ``write_views(…, ["fr"], chapters=[chapter])``). Alternated
  export, page, JSON, export, page, JSON … for ``--rounds`` rounds; min and median of each.
- one save: ``PUT /api/books/<book>/segments/<uid>/fr`` (approved, based on the version last
  seen) by one translator, against the fair baseline: change one entry of that chapter's
  fr.po (polib, the rest of the file as the store wrote it; not timed, a person's editing) and
  ``review import`` (``tarjoman.queue.import_reviews(project, book, ["fr"])``, in this process).
  Alternated import, save, import, save … for ``--rounds`` rounds; min and median.

The ratios are baseline/desk: above 1, the desk is faster. Desk times are those the client saw.

Concurrent saves: N translators (1, 8, 32) save at once, twice over. *Flat out*: back to back,
no pause between a translator's saves (a closed loop: the most the server takes, far above a
human's pace, so latency there is mostly queueing, N / saves per second). *Paced*: each
translator waits ``--think`` seconds (default 1) between saves, starting at a random moment within
the first — still faster than a person approves sentences, about as fast as the page's autosave
fires while someone types; this is the measure the aim is read against. Each translator saves its own contiguous share of the
book's sentences (no two on one sentence), approved French text about the source's length, each
based on the version it last saw (read from the chapter JSON before the rounds, then from its own
save's answer): there should be no 409; every answer other than 200 is counted and printed. A
window ends when every translator has made ``--saves`` saves or ``--seconds`` have passed, whichever
comes first. SQLite and PostgreSQL windows alternate, ``--rounds`` rounds of each (at most 3); p50 and
p95 of every save's client and server time, pooled over the rounds, and saves per second (all
translators' saves over the window; best and median window). Aims (from the issue, not asserted):
a chapter page under 300 ms, p95 save under 100 ms at 32 translators on SQLite. The last line is
``RESULT …``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
sys.path.insert(0, str(BENCHMARKS))
sys.path.insert(0, str(REPO / "tests"))

import review_store  # noqa: E402  the book, its review state, the PostgreSQL cluster
from review_store import DATABASE_ENV, LANG, NOVEL, SAMPLE, database, french_like  # noqa: E402

LEVELS = (1, 8, 32)
PASSWORD = "bench password 1"
PAGE = "/books/{book}/chapters/{chapter}/{lang}"  # the HTML chapter page (tarjoman/desk/pages.py)
CHAPTER_JSON = "/api/books/{book}/chapters/{chapter}/{lang}"
PAGE_AIM_MS, SAVE_P95_AIM_MS = 300, 100


@dataclass
class Desk:
    """One database: its project, its `tarjoman serve`, its translators' clients and what they saw."""

    name: str
    url: str
    root: Path
    server: object = None
    clients: list = field(default_factory=list)  # (httpx.AsyncClient, csrf token), one per translator
    sources: dict[str, str] = field(default_factory=dict)  # uid → source sentence
    versions: dict[str, int] = field(default_factory=dict)  # uid → the version last seen
    order: list[str] = field(default_factory=list)  # uids in reading order
    chapters: list[tuple[str, int]] = field(default_factory=list)

    @property
    def project(self):
        from tarjoman.project import Project

        return Project(self.root)


# --- setup (not timed) ----------------------------------------------------------------------


def add_translators(url: str, count: int) -> None:
    from tarjoman.accounts import add_user
    from tarjoman.store import Store

    store = Store(url)
    try:
        for i in range(count):
            add_user(store, f"t{i}", "translator", (LANG,), PASSWORD, by="bench")
    finally:
        store.close()


def chapter_sizes(url: str, book: str) -> list[tuple[str, int]]:
    """(chapter, sentences) in reading order, from the store."""
    from tarjoman.store import Store
    from tarjoman.store.core import progress, require_book

    store = Store(url)
    try:
        with store.read() as session:
            return progress(session, require_book(session, book))[0]
    finally:
        store.close()


async def open_desk(desk: Desk, book: str, translators: int) -> None:
    """Users, the server, one logged-in client per translator, and every sentence's version."""
    import httpx
    from desk_harness import DeskServer

    add_translators(desk.url, translators)
    desk.chapters = chapter_sizes(desk.url, book)
    desk.server = DeskServer(desk.root, env={DATABASE_ENV: desk.url}).start()
    for i in range(translators):
        client = httpx.AsyncClient(base_url=desk.server.url, timeout=120)
        answer = await client.post("/api/login", json={"name": f"t{i}", "password": PASSWORD})
        answer.raise_for_status()
        desk.clients.append((client, answer.json()["csrf_token"]))
    for chapter, _ in desk.chapters:
        desk.order += await read_chapter(desk, book, chapter)


async def read_chapter(desk: Desk, book: str, chapter: str) -> list[str]:
    """What a translator sees of the chapter: its sentences' sources and versions; their uids in order."""
    answer = await desk.clients[0][0].get(CHAPTER_JSON.format(book=book, chapter=chapter, lang=LANG))
    answer.raise_for_status()
    segments = answer.json()["segments"]
    for s in segments:
        desk.sources[s["id"]], desk.versions[s["id"]] = s["source"], s["version"]
    return [s["id"] for s in segments]


async def close_desk(desk: Desk) -> None:
    for client, _ in desk.clients:
        await client.aclose()
    if desk.server is not None:
        desk.server.stop()


# --- one timed operation each ----------------------------------------------------------------


def server_ms(answer) -> float:
    """The app's own time, from its ``Server-Timing: app;dur=<ms>`` header."""
    for part in answer.headers.get("server-timing", "").split(","):
        name, _, rest = part.strip().partition(";")
        if name == "app" and rest.startswith("dur="):
            return float(rest[4:])
    raise RuntimeError(f"no Server-Timing header on {answer.request.method} {answer.request.url}")


async def timed_get(client, path: str, body: bool = False):
    """(client ms, server ms[, the body]) of one GET that must answer 200."""
    start = time.perf_counter()
    answer = await client.get(path)
    wall = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")
    return (wall, server_ms(answer), answer.text) if body else (wall, server_ms(answer))


_marks = itertools.count()


async def save(desk: Desk, who: int, book: str, uid: str, failures: Counter) -> tuple[float, float] | None:
    """One approved save based on the version last seen: (client ms, server ms), or None (counted)."""
    client, csrf = desk.clients[who]
    mark = next(_marks)
    body = {"text": f"{french_like(desk.sources[uid], mark)} (t{who}, {mark})", "state": "approved", "base_version": desk.versions[uid]}
    start = time.perf_counter()
    answer = await client.put(f"/api/books/{book}/segments/{uid}/{LANG}", json=body, headers={"X-CSRF-Token": csrf})
    wall = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        failures[answer.status_code] += 1
        if answer.status_code == 409:
            desk.versions[uid] = answer.json()["current"]["version"]
        return None
    desk.versions[uid] = answer.json()["version"]
    return wall, server_ms(answer)


def export_chapter(desk: Desk, book: str, chapter: str) -> float:
    """Seconds of ``review export`` for one chapter and LANG, in this process."""
    from tarjoman.glossary import load_termbase
    from tarjoman.queue import BookSegments, write_views

    with database(desk.url):
        start = time.perf_counter()
        data = BookSegments.load(desk.project, book)
        try:
            written, problems = write_views(desk.project, book, data, [LANG], chapters=[chapter], terms=load_termbase(desk.project, book))
        finally:
            data.store.close()
        seconds = time.perf_counter() - start
    if problems or len(written) != 2:
        raise RuntimeError(f"export of {chapter} wrote {written}, problems {problems}")
    return seconds


def edit_po(path: Path, uid: str, text: str) -> None:
    """A translator's edit: one entry's msgstr changed, the rest of the file as it was written."""
    from tarjoman.review import read_po

    po = read_po(path)
    entry = next(e for e in po if f"tarjoman: {uid} v" in e.comment)
    entry.msgstr = text
    po.save(str(path))


def import_change(desk: Desk, book: str, chapter: str, uid: str) -> float:
    """Seconds of ``review import`` after one entry of the chapter's PO file was changed."""
    from tarjoman.queue import import_reviews
    from tarjoman.review import po_path

    mark = next(_marks)
    edit_po(po_path(desk.project.book_dir(book), chapter, LANG), uid, f"{french_like(desk.sources[uid], mark)} (fichier, {mark})")
    with database(desk.url):
        start = time.perf_counter()
        result = import_reviews(desk.project, book, [LANG])
        seconds = time.perf_counter() - start
    if result.problems or result.conflicts or result.applied != 1:
        raise RuntimeError(f"import applied {result.applied}, problems {result.problems[:3]}, conflicts {result.conflicts[:3]}")
    return seconds


# --- the measures -----------------------------------------------------------------------------


async def page_rounds(desk: Desk, book: str, chapter: str, rounds: int) -> dict[str, list[float]]:
    """Alternated export, page, JSON; ms each (client and server for the desk's two)."""
    client = desk.clients[0][0]
    page, api = PAGE.format(book=book, chapter=chapter, lang=LANG), CHAPTER_JSON.format(book=book, chapter=chapter, lang=LANG)
    times = {k: [] for k in ("export", "page", "page_server", "slices", "slices_server", "api", "api_server")}
    export_chapter(desk, book, chapter)  # warm-up
    await timed_get(client, api)
    for _ in range(rounds):
        times["export"].append(export_chapter(desk, book, chapter) * 1000)
        wall, server, html = await timed_get(client, page, body=True)
        times["page"].append(wall)
        times["page_server"].append(server)
        walls, servers = [], []  # the rest of the chapter, slice after slice, as a translator scrolling to its end
        while (found := re.search(r'class="more" data-url="([^"]+)"', html)):
            wall, server, html = await timed_get(client, found.group(1).replace("&amp;", "&"), body=True)
            walls.append(wall)
            servers.append(server)
        times["slices"].append(sum(walls))
        times["slices_server"].append(sum(servers))
        wall, server = await timed_get(client, api)
        times["api"].append(wall)
        times["api_server"].append(server)
    return times


async def save_rounds(desk: Desk, book: str, chapter: str, rounds: int, failures: Counter) -> dict[str, list[float]]:
    """Alternated import of one changed PO entry, one desk save; ms each."""
    in_chapter = chapter_uids(desk, chapter)
    mine = [uid for uid in desk.order if uid in in_chapter]
    reserved, saving = mine[-1], mine[:-1]  # the file's entry is never one the desk saves here
    times = {k: [] for k in ("import", "save", "save_server")}
    import_change(desk, book, chapter, reserved)  # warm-up
    await save(desk, 0, book, saving[0], failures)
    for k in range(rounds):
        times["import"].append(import_change(desk, book, chapter, reserved) * 1000)
        found = await save(desk, 0, book, saving[(k + 1) % len(saving)], failures)
        if found is None:
            raise RuntimeError(f"a single save was refused: {dict(failures)}")
        times["save"].append(found[0])
        times["save_server"].append(found[1])
    await read_chapter(desk, book, chapter)  # the imports moved the file's entry on: its version as the desk shows it now
    return times


def chapter_uids(desk: Desk, chapter: str) -> set[str]:
    """The chapter's sentences, from the reading order and the chapter sizes."""
    start = 0
    for key, count in desk.chapters:
        if key == chapter:
            return set(desk.order[start:start + count])
        start += count
    raise KeyError(chapter)


@dataclass
class Window:
    walls: list[float]
    servers: list[float]
    seconds: float
    refused: Counter


async def window(desk: Desk, book: str, n: int, seconds: float, saves: int, think: float) -> Window:
    """N translators saving their own sentences at once, bounded by ``saves`` each and ``seconds``."""
    share = len(desk.order) // n
    walls, servers, refused = [], [], Counter()
    jitter = random.Random(n)

    async def translator(who: int) -> None:
        uids = desk.order[who * share:(who + 1) * share]
        if think:  # paced translators do not start in step
            await asyncio.sleep(jitter.uniform(0, think))
        for k in range(saves):
            if time.perf_counter() >= deadline:
                return
            found = await save(desk, who, book, uids[k % len(uids)], refused)
            if found is not None:
                walls.append(found[0])
                servers.append(found[1])
            if think:
                await asyncio.sleep(think)

    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(translator(who) for who in range(n)))
    return Window(walls, servers, time.perf_counter() - start, refused)


async def concurrent_saves(desks: list[Desk], book: str, rounds: int, seconds: float, saves: int, think: float) -> dict:
    """{(desk, N): [Window, …]}, SQLite and PostgreSQL windows alternated."""
    found = {}
    for n in LEVELS:
        for desk in desks:  # warm-up: every translator's connection
            await window(desk, book, n, seconds, 1, 0)
        for _ in range(rounds):
            for desk in desks:
                found.setdefault((desk.name, n), []).append(await window(desk, book, n, seconds, saves, think))
    return found


# --- report ---------------------------------------------------------------------------------


def percentile(values: list[float], p: int) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))] if ordered else float("nan")


def spread(values: list[float]) -> str:
    return f"min {min(values):8.1f} ms   median {statistics.median(values):8.1f} ms"


def ratio(baseline: list[float], desk: list[float]) -> tuple[float, float]:
    return min(baseline) / min(desk), statistics.median(baseline) / statistics.median(desk)


def report_reads(desk: Desk, chapter: str, first: tuple[float, float], page: dict, saves: dict, rounds: int) -> dict:
    pr, sr = ratio(page["export"], page["page"]), ratio(saves["import"], saves["save"])
    print(f"{desk.name}: first page after the server started {first[0]:.0f} ms (server {first[1]:.0f} ms), not in the rounds")
    print(f"  chapter {chapter}, {rounds} alternated rounds (export, page, JSON …):")
    print(f"    review export, one chapter  {spread(page['export'])}")
    print(f"    desk page (HTML), client    {spread(page['page'])}")
    print(f"    desk page (HTML), server    {spread(page['page_server'])}"
          f"   ({'under' if statistics.median(page['page_server']) < PAGE_AIM_MS else 'OVER'} the {PAGE_AIM_MS} ms aim)")
    print(f"    the rest, slice by slice    {spread(page['slices'])}   (client; server {spread(page['slices_server'])})")
    print(f"    desk chapter JSON, client   {spread(page['api'])}")
    print(f"    desk chapter JSON, server   {spread(page['api_server'])}")
    print(f"    export/page  min {pr[0]:.2f}   median {pr[1]:.2f}   ({'desk faster' if pr[0] > 1 else 'DESK SLOWER'})")
    print(f"  one save, {rounds} alternated rounds (import, save …):")
    print(f"    PO edit + review import     {spread(saves['import'])}")
    print(f"    desk save, client           {spread(saves['save'])}")
    print(f"    desk save, server           {spread(saves['save_server'])}")
    print(f"    import/save  min {sr[0]:.2f}   median {sr[1]:.2f}   ({'desk faster' if sr[0] > 1 else 'DESK SLOWER'})")
    sys.stdout.flush()
    return {"page": pr, "save": sr}


def report_saves(args, windows: dict, desks: list[Desk], think: float, seconds: float, label: str) -> dict:
    print(f"concurrent saves, {label}: windows of {seconds:g} s or {args.saves} saves per translator, {args.windows} rounds per database "
          f"alternated, {think:g} s between a translator's saves; {os.cpu_count()} CPUs shared by the clients, the server and the database")
    print("  translators  database     saves  saves/s best/median   client p50   p95 ms   server p50   p95 ms   non-200")
    stats = {}
    for n in LEVELS:
        for desk in desks:
            found = windows[(desk.name, n)]
            walls = [w for x in found for w in x.walls]
            servers = [s for x in found for s in x.servers]
            rates = [len(x.walls) / x.seconds for x in found]
            refused = sum((x.refused for x in found), Counter())
            stats[(desk.name, n)] = (percentile(walls, 50), percentile(walls, 95), max(rates), sum(refused.values()))
            print(f"  {n:>11}  {desk.name:<10} {len(walls):>7}  {max(rates):>9.0f} / {statistics.median(rates):<7.0f}"
                  f"  {percentile(walls, 50):>11.1f} {percentile(walls, 95):>8.1f}  {percentile(servers, 50):>11.1f} "
                  f"{percentile(servers, 95):>8.1f}   {dict(refused) or 0}")
    if "postgresql" not in {d.name for d in desks}:
        print("  PostgreSQL: not measured (--no-postgres, or no initdb)")
    p95 = stats[("sqlite", LEVELS[-1])][1]
    print(f"  p95 save at {LEVELS[-1]} translators on SQLite, {label}: {p95:.1f} ms ({'under' if p95 < SAVE_P95_AIM_MS else 'OVER'} the "
          f"{SAVE_P95_AIM_MS} ms aim)")
    return stats


def databases(tmp: Path, source: Path, book: str, postgres: bool) -> tuple[list[Desk], object, int]:
    """The book's review state on SQLite and, where PostgreSQL is found, on a throwaway cluster."""
    store_root, _files, _release, units, _uids = review_store.prepare(tmp, source, book)
    desks = [Desk("sqlite", f"sqlite:///{store_root / 'tarjoman.sqlite'}", store_root)]
    cluster, pg_url = review_store.start_postgres(tmp, store_root, book) if postgres else (None, None)
    if cluster is not None:
        from tarjoman.project import Project
        from tarjoman.queue import export_reviews

        with database(pg_url):
            export_reviews(Project(tmp / "pg"), book, [LANG])  # its PO files, for the export and import baselines
        desks.append(Desk("postgresql", pg_url, tmp / "pg"))
    return desks, cluster, units


async def run(args, source: Path, book: str) -> None:
    began, load = time.perf_counter(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tarjoman-desk-bench-") as folder:
        tmp = Path(folder)
        desks, cluster, units = databases(tmp, source, book, args.postgres)
        try:
            for desk in desks:
                await open_desk(desk, book, max(LEVELS))
            setup = time.perf_counter() - began
            chapter, size = max(desks[0].chapters, key=lambda c: c[1])
            words = sum(len(desks[0].sources[u].split()) for u in chapter_uids(desks[0], chapter))
            print(f"manuscript: {source.name}, {units} units in {len(desks[0].chapters)} chapters, all approved in {LANG}; "
                  f"longest chapter {chapter}: {size} sentences, {words} words")
            print(f"setup (extract, approvals, PO files, PostgreSQL, {max(LEVELS)} users and logins per database, servers): "
                  f"{setup:.0f} s, not counted")
            print("one `tarjoman serve` (uvicorn) per database on 127.0.0.1; clients: this process, asyncio + httpx, one login each")
            failures, ratios = Counter(), {}
            for desk in desks:
                first = await timed_get(desk.clients[0][0], PAGE.format(book=book, chapter=chapter, lang=LANG))
                page = await page_rounds(desk, book, chapter, args.rounds)
                saves = await save_rounds(desk, book, chapter, args.rounds, failures)
                ratios[desk.name] = report_reads(desk, chapter, first, page, saves, args.rounds)
                ratios[desk.name]["page_ms"] = statistics.median(page["page_server"])
                ratios[desk.name]["page_ms_min"] = min(page["page_server"])
                ratios[desk.name]["page_client_ms"] = statistics.median(page["page"])
                ratios[desk.name]["rest_ms"] = statistics.median(page["slices_server"])
            windows = await concurrent_saves(desks, book, args.windows, args.seconds, args.saves, 0.0)
            stats = report_saves(args, windows, desks, 0.0, args.seconds, "flat out")
            paced_seconds = max(args.seconds, 5 * args.think)
            paced = await concurrent_saves(desks, book, args.windows, paced_seconds, args.saves, args.think)
            paced_stats = report_saves(args, paced, desks, args.think, paced_seconds, "paced")
        finally:
            for desk in desks:
                await close_desk(desk)
            if cluster is not None:
                cluster.stop()
                cluster.folder.cleanup()
    print(f"benchmark wall time: {time.perf_counter() - began:.0f} s; load average (1 min) {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs (other work on the machine is noise here)")
    short = {"sqlite": "sqlite", "postgresql": "pg"}
    fields = [f"page_ms_{short[d]}={r['page_ms']:.1f} page_ms_min_{short[d]}={r['page_ms_min']:.1f} "
              f"page_client_ms_{short[d]}={r['page_client_ms']:.1f} rest_of_chapter_ms_{short[d]}={r['rest_ms']:.1f} "
              f"export_page_ratio_{short[d]}={r['page'][0]:.2f} export_page_ratio_median_{short[d]}={r['page'][1]:.2f} "
              f"import_save_ratio_{short[d]}={r['save'][0]:.2f} import_save_ratio_median_{short[d]}={r['save'][1]:.2f}"
              for d, r in ratios.items()]
    fields += [f"save_p50_{short[d]}_{n}={s[0]:.1f} save_p95_{short[d]}_{n}={s[1]:.1f} saves_per_s_{short[d]}_{n}={s[2]:.0f}"
               for (d, n), s in stats.items()]
    fields += [f"paced_save_p50_{short[d]}_{n}={s[0]:.1f} paced_save_p95_{short[d]}_{n}={s[1]:.1f}" for (d, n), s in paced_stats.items()]
    refused = sum(s[3] for s in stats.values()) + sum(s[3] for s in paced_stats.values()) + sum(failures.values())
    print(f"RESULT {' '.join(fields)} non_200={refused} chapter_segments={size} units={units}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="alternated rounds of each measure (default 5, --quick 3; windows: at most 3)")
    parser.add_argument("--seconds", type=float, default=None, help="the longest a saves window lasts (default 4, --quick 1)")
    parser.add_argument("--saves", type=int, default=None, help="the most saves per translator in a window (default 200, --quick 20)")
    parser.add_argument("--think", type=float, default=1.0, help="paced windows: seconds each translator waits between saves (default 1; "
                        "the flat-out windows save back to back)")
    parser.add_argument("--quick", action="store_true", help="the bundled sample instead of the 150k-word novel, fewer rounds")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false", help="SQLite only")
    args = parser.parse_args()
    args.rounds = max(args.rounds or (3 if args.quick else 5), 1)
    args.windows = min(args.rounds, 3)
    args.seconds = args.seconds or (1.0 if args.quick else 4.0)
    args.saves = args.saves or (20 if args.quick else 200)
    source, book = (SAMPLE, "sample") if args.quick else (NOVEL, "novel")
    if not source.is_file():
        sys.exit(f"manuscript not found: {source}")
    asyncio.run(run(args, source, book))


if __name__ == "__main__":
    main()
