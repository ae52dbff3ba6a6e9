"""Draft: machine-draft every chapter of an extracted book into each target language.

In:  ``book`` (extracted already), ``langs`` ("all" or "ar,en"), ``model`` (hub ID or folder),
     ``backend``, ``beams``, the project ``root``; or ``engine="llm"`` and ``llm`` (the LLM
     engine's settings over the book's and the project's YAML: ``{"base_url": …, "model": …}``;
     the API key is read from the worker's environment, never passed as a parameter).
Out: one report per chapter × language (drafted, from cache, carried, approved, seconds), one
     per language with the LLM engine; a progress artifact while it runs and a table artifact at the end.

Tasks are chapter × language; each worker process loads the model once. With the LLM engine a
task is a language: its requests run ``concurrency`` at a time inside it, and the languages one
after another. To spread the
tasks over a Dask cluster, pass ``task_runner=dask_runner(address)`` to ``draft_flow.with_options``
(see :func:`dask_runner`). Run it once with Prefect's embedded server:

    .venv/bin/python -m flows.draft sample --model .cache/demo-model/nllb --beams 1
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact

from tarjoman.book import draft_book, draft_chapter, llm_settings
from tarjoman.drafting import DraftOptions
from tarjoman.engines import DEFAULT_MODEL, GenerationSettings, load_engine
from tarjoman.errors import ProjectError
from tarjoman.languages import parse_targets
from tarjoman.manuscript import load_manuscript
from tarjoman.project import Project


def transient(task, task_run, state) -> bool:
    """Retry only what may pass on a second try (I/O, a busy GPU), never a bad model or file."""
    from tarjoman.errors import TarjomanError

    try:
        state.result()
    except TarjomanError:
        return False
    except (OSError, RuntimeError, TimeoutError):
        return True
    except Exception:
        return False
    return False


@task(name="draft-chapter", retries=2, retry_delay_seconds=5, retry_condition_fn=transient, task_run_name="draft {chapter}/{lang}")
def draft_chapter_task(root: str, book: str, chapter: str, lang: str, model: str, backend: str, beams: int, digits: str,
                       tm_approve: bool = False) -> dict:
    engine = load_engine(model, backend=backend, settings=GenerationSettings(num_beams=beams))  # once per process
    report = draft_chapter(Project(Path(root)), book, chapter, lang, engine, options=DraftOptions(digits=digits), tm_approve=tm_approve)
    return {"chapter": chapter, **asdict(report)}


@task(name="draft-language-llm", retries=1, retry_delay_seconds=10, retry_condition_fn=transient, task_run_name="draft {lang} with the language model")
def draft_language_llm_task(root: str, book: str, lang: str, llm: dict | None, backend: str, beams: int, digits: str,
                            tm_approve: bool = False) -> dict:
    from tarjoman.engines.llm import LLMEngine
    from tarjoman.llm_drafting import Usage

    project = Project(Path(root))
    settings = llm_settings(project, book, llm, where="the flow's llm parameter")
    fallback = None
    if settings.fallback_model:
        fallback = load_engine(settings.fallback_model, backend=backend, settings=GenerationSettings(num_beams=beams))  # once per process
        fallback.check_targets([lang])
    engine, usage = LLMEngine(settings), Usage()
    try:
        result = draft_book(project, book, [lang], engine, options=DraftOptions(digits=digits), tm_approve=tm_approve, fallback=fallback, usage=usage)
    finally:
        engine.close()
    return {"chapter": "all", **asdict(result.reports[0]), "usage": asdict(usage)}


@flow(name="draft", log_prints=True)
def draft_flow(book: str, langs: str = "all", model: str = DEFAULT_MODEL, backend: str = "auto", beams: int = 4, digits: str = "native", root: str = ".",
               tm_approve: bool = False, engine: str = "nmt", llm: dict | None = None) -> list[dict]:
    """Submit one task per chapter × language and wait for them all; ``tm_approve`` approves the
    translation memory's in-context matches (as ``tarjoman draft --tm-approve``). ``engine="llm"``
    drafts with the language model instead, a task per language."""
    targets = parse_targets(langs, "draft into", default=Project(Path(root)).book_targets(book))
    if engine == "llm":
        return _draft_with_llm(book, targets, llm, backend, beams, digits, root, tm_approve)
    if engine != "nmt":
        raise ProjectError(f"the engine is 'nmt' or 'llm', not {engine!r}")
    manuscript = load_manuscript(Project(Path(root)).manuscript_path(book))
    jobs = [(c.id, lang) for lang in targets for c in manuscript.chapters]
    progress = create_progress_artifact(0.0, key=f"draft-{book}", description=f"Drafting {book}: chapters × languages done")
    futures = [draft_chapter_task.submit(root, book, chapter, lang, model, backend, beams, digits, tm_approve) for chapter, lang in jobs]
    reports, shown = [], 0
    for future in futures:
        reports.append(future.result())
        done = 100.0 * len(reports) / len(jobs)
        if done - shown >= 10 or len(reports) == len(jobs):  # every tenth of the way, not every task: each update is an API call
            update_progress_artifact(progress, done)
            shown = done
    rows = [{"chapter": r["chapter"], "lang": r["lang"], "units": r["units"], **r["counts"], "seconds": round(r["seconds"], 1)} for r in reports]
    create_table_artifact(rows, key=f"draft-{book}-summary", description=f"Drafts of {book}")
    drafted = sum(r["counts"]["machine"] for r in reports)
    remembered = sum(r["counts"]["memory"] for r in reports)
    print(f"{book}: {len(jobs)} chapter × language tasks, {drafted} units drafted by the model, {remembered} taken from the memory")
    return reports


def _draft_with_llm(book: str, targets: list[str], llm: dict | None, backend: str, beams: int, digits: str, root: str, tm_approve: bool) -> list[dict]:
    llm_settings(Project(Path(root)), book, llm, where="the flow's llm parameter")  # a wrong setting stops the flow before any request
    progress = create_progress_artifact(0.0, key=f"draft-{book}", description=f"Drafting {book} with the language model: languages done")
    reports = []
    for lang in targets:  # one at a time: each drafts the whole book and holds it while it does
        reports.append(draft_language_llm_task(root, book, lang, llm, backend, beams, digits, tm_approve))
        update_progress_artifact(progress, 100.0 * len(reports) / len(targets))
    rows = [{"lang": r["lang"], "units": r["units"], **r["counts"], "requests": r["usage"]["requests"], "refused": r["usage"]["refused"],
             "fallback": r["usage"]["fallback"], "left": r["usage"]["left"], "seconds": round(r["seconds"], 1)} for r in reports]
    create_table_artifact(rows, key=f"draft-{book}-summary", description=f"Drafts of {book} by the language model")
    for r in reports:
        u = r["usage"]
        print(f"{book} {r['lang']}: {r['counts']['machine']} sentences drafted by the language model in {u['requests']} requests "
              f"({u['prompt_tokens']} prompt + {u['completion_tokens']} completion tokens), {r['counts']['memory']} from the memory, "
              f"{u['fallback']} by the fallback model, {u['left']} left for a translator")
    return reports


def dask_runner(address: str | None = None, workers: int = 2):
    """A Dask task runner: an existing cluster at ``address``, or a local one with ``workers`` processes."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book")
    parser.add_argument("--langs", default="all")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--root", default=".")
    parser.add_argument("--dask", metavar="ADDRESS", nargs="?", const="", help="run the tasks on Dask (a local cluster when no address is given)")
    args = parser.parse_args()
    runner = draft_flow if args.dask is None else draft_flow.with_options(task_runner=dask_runner(args.dask or None))
    runner(args.book, args.langs, args.model, args.backend, args.beams, "native", args.root)
