"""Pipeline: manuscript to ebooks — extract, draft, wait for review, publish.

In:  ``source`` (a manuscript), ``book``, ``langs``, ``model``, ``backend``, ``beams``, the project
     ``root``, and ``wait_for_review``; ``engine="llm"`` and ``llm`` to draft with a language model
     (see :mod:`flows.draft`).
Out: ``{"book", "published": [EPUB paths, and PDF and Word files with ``formats``], "waiting": {lang: sentences not yet approved}}``.

Without a server (Prefect's embedded default, as ``tarjoman run`` uses it) the flow does
everything that can be done, publishes the languages whose review is complete, reports what
waits for translators, and ends; running it again continues from there (drafts come from
the cache, approved work is kept). With a server and ``wait_for_review=True`` (the
deployment's default), it pauses for a :class:`PublishApproval` — who approves publishing,
which languages, draft or not — and resumes from the Prefect UI or ``tarjoman resume``.

    .venv/bin/tarjoman run sources/sample.docx --book sample --model .cache/demo-model/nllb
"""

from __future__ import annotations

from prefect import flow
from prefect.context import get_run_context
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

from tarjoman.engines import DEFAULT_MODEL
from tarjoman.languages import parse_targets

from .draft import draft_flow
from .extract import extract_flow
from .publish import publish_flow
from .review import review_flow


class PublishApproval(RunInput):
    """What the person who releases the books says when the review is done."""

    approver: str
    languages: str = "all"
    draft: bool = False


def waiting_for_review(status: list[dict], targets: list[str]) -> dict[str, int]:
    """Sentences not yet approved, per language that has any."""
    waiting = {lang: sum(r["total"] - r["approved"] for r in status if r["lang"] == lang) for lang in targets}
    return {lang: count for lang, count in waiting.items() if count}


@flow(name="pipeline", log_prints=True)
def pipeline_flow(
    source: str,
    book: str | None = None,
    langs: str = "all",
    model: str = DEFAULT_MODEL,
    backend: str = "auto",
    beams: int = 4,
    root: str = ".",
    wait_for_review: bool = False,
    review_timeout: int = 14 * 24 * 3600,
    formats: str = "epub",
    engine: str = "nmt",
    llm: dict | None = None,
) -> dict:
    targets = parse_targets(langs, "run the pipeline into")
    summary = extract_flow(source, book, root)
    book = summary["book"]
    draft_flow(book, ",".join(targets), model, backend, beams, "native", root, engine=engine, llm=llm)
    status = review_flow(book, root)
    waiting = waiting_for_review(status, targets)
    approver = None
    if waiting and wait_for_review:
        run_id = get_run_context().flow_run.id
        print(f"waiting for review of {book}: {waiting}; when it is done, resume with `tarjoman resume {run_id} --approver NAME`")
        approval = pause_flow_run(wait_for_input=PublishApproval, timeout=review_timeout, key="review")
        approver = approval.approver
        targets = parse_targets(approval.languages, "publish in")
        status = review_flow(book, root)
        ready, draft = targets, approval.draft
        waiting = {} if draft else waiting_for_review(status, targets)
        ready = [lang for lang in targets if lang not in waiting]
    else:
        ready, draft = [lang for lang in targets if lang not in waiting], False
    published = publish_flow(book, ",".join(ready), draft, False, root, formats) if ready else []
    for lang, count in waiting.items():
        print(f"{lang}: {count} sentences wait for translators (outputs/{book}/review/*/{lang}.po)")
    return {"book": book, "published": published, "waiting": waiting, "approver": approver}
