"""LLM drafting against a real local server: sentences per second at concurrency 1, 4 and 16, and
Tarjoman's overhead over the same requests sent directly with httpx.

    .venv/bin/python benchmarks/llm_draft.py [--rounds 3] [--unit-tokens 60] [--continuous-batching]

The server is ``transformers serve`` (tests/llm_server.py) serving a tiny chat model built here,
offline, that has memorised the team's reference answers (sources/sample.references.yaml) to every
request of the sample's English draft, so every answer passes Tarjoman's checks and no request
is asked twice: both ways send exactly the same requests.

- A (Tarjoman): ``draft_book`` with the LLM engine on a fresh copy of the extracted sample (cold
  draft cache): planning the requests, the HTTP calls through Tarjoman's client, checking every
  answer, committing each to the draft cache, recording the drafts in the store and writing the
  PO files.
- B (direct): the same request bodies, built beforehand, posted with one ``httpx.Client`` from a
  thread pool of the same size, each answer parsed with ``json.loads``: what a competent user's
  script does, and nothing else (no checks, no store, no files).

Not included in either: the server's start, the model's training, the copy of the project.
The ways are alternated A B A B … within each concurrency; min and median of each are printed.
The tiny model answers in milliseconds, so the overhead is as large here as it can be: with a
real model each request takes seconds and the same fixed cost is a far smaller share.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--unit-tokens", type=int, default=60, help="source tokens per request (smaller: more requests)")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--continuous-batching", action="store_true", help="start the server with --continuous-batching")
    parser.add_argument("--train-seconds", type=float, default=600)
    args = parser.parse_args()

    import httpx
    import yaml

    from conftest import drafted_sample
    from llm_server import ServedModel, build_chat_model
    from tarjoman.book import draft_book
    from tarjoman.engines.llm import LLMEngine, LLMSettings, brief_text, messages_for
    from tarjoman.glossary import TermBinder
    from tarjoman.llm_drafting import plan
    from tarjoman.queue import BookSegments
    from tarjoman.store.cache import DraftCache

    references = {r["fa"]: r for r in yaml.safe_load((REPO / "sources" / "sample.references.yaml").read_text(encoding="utf-8"))}
    work = Path(tempfile.mkdtemp(prefix="llm-bench-"))
    pristine = work / "pristine"
    project = drafted_sample(pristine, None)
    base = LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", unit_tokens=args.unit_tokens, max_tokens=600)

    engine = LLMEngine(base)
    data = BookSegments.load(project, "sample")
    planned = plan(data.manuscript, "en", engine, DraftCache(data.store), binder=TermBinder("en", {}), memory={}, current={})
    brief = brief_text(data.manuscript.metadata)
    data.store.close()
    engine.close()
    pairs = []
    sentences = 0
    for item in planned.requests:
        messages = messages_for(item.request, base, brief)
        reply = {n: references[text]["en"] for n, (_, text) in item.request.segments.items()}
        pairs.append((messages, json.dumps(reply, ensure_ascii=False)))
        sentences += len(reply)
    print(f"{len(pairs)} requests, {sentences} sentences of the sample's English draft; teaching the tiny model their answers …", flush=True)
    built = build_chat_model(work / "model", pairs, max_seconds=args.train_seconds)
    print(f"  {built}", flush=True)
    if built["reproduced"] < len(pairs):
        print(f"  only {built['reproduced']} of {len(pairs)} answers memorised: those requests will be refused and asked again by A", flush=True)

    with ServedModel(work / "model", work / "logs", continuous_batching=args.continuous_batching) as server:
        print(f"server up in {server.start_seconds:.1f} s at {server.base_url}", flush=True)
        settings = LLMSettings(base_url=server.base_url, model=server.model, unit_tokens=args.unit_tokens, max_tokens=600)
        client = LLMEngine(settings).client
        bodies = [client.body(messages, list(json.loads(reply))) for messages, reply in pairs]
        client.close()

        def tarjoman(concurrency: int) -> float:
            root = work / f"run-{time.monotonic_ns()}"
            shutil.copytree(pristine, root)
            from tarjoman.project import Project

            engine = LLMEngine(LLMSettings(**{**settings.__dict__, "concurrency": concurrency}))
            before = server.requests()
            started = time.perf_counter()
            draft_book(Project(root), "sample", ["en"], engine)
            seconds = time.perf_counter() - started
            engine.close()
            asked = server.requests() - before
            assert asked == len(bodies) or built["reproduced"] < len(pairs), (asked, len(bodies))
            shutil.rmtree(root)
            return seconds

        def direct(concurrency: int) -> float:
            with httpx.Client(base_url=server.base_url + "/", timeout=120,
                              limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)) as http:
                def one(body):
                    response = http.post("chat/completions", json=body)
                    response.raise_for_status()
                    return json.loads(response.json()["choices"][0]["message"]["content"])

                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=concurrency) as pool:
                    answers = list(pool.map(one, bodies))
                seconds = time.perf_counter() - started
            assert len(answers) == len(bodies)
            return seconds

        fields = [f"requests={len(bodies)}", f"sentences={sentences}"]
        for concurrency in [int(c) for c in args.concurrency.split(",")]:
            times = {"tarjoman": [], "direct": []}
            tarjoman(concurrency)  # warm: imports, the first connection
            for _ in range(args.rounds):
                times["tarjoman"].append(tarjoman(concurrency))
                times["direct"].append(direct(concurrency))
            a_min, b_min = min(times["tarjoman"]), min(times["direct"])
            a_med, b_med = statistics.median(times["tarjoman"]), statistics.median(times["direct"])
            print(f"concurrency {concurrency:>2}: tarjoman min {a_min:.2f} s median {a_med:.2f} s ({sentences / a_min:.1f} sentences/s); "
                  f"direct httpx min {b_min:.2f} s median {b_med:.2f} s; overhead {100 * (a_min / b_min - 1):+.1f} % (min), "
                  f"{100 * (a_med / b_med - 1):+.1f} % (median)", flush=True)
            fields += [f"c{concurrency}_sentences_per_s={sentences / a_min:.2f}", f"c{concurrency}_tarjoman_s={a_min:.3f}",
                       f"c{concurrency}_direct_s={b_min:.3f}", f"c{concurrency}_overhead_pct={100 * (a_min / b_min - 1):.1f}",
                       f"c{concurrency}_overhead_median_pct={100 * (a_med / b_med - 1):.1f}"]
    shutil.rmtree(work, ignore_errors=True)
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
