"""Review: import what translators saved, run QA, and report status and post-edit metrics.

In:  ``book`` and the project ``root``.
Out: the status rows (chapter × language: total, approved, fuzzy, untranslated, qa, percent),
     shown as a table artifact; QA findings and post-edit metrics as a markdown artifact.

    .venv/bin/python -m flows.review sample
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tarjoman.project import Project
from tarjoman.queue import book_status, import_reviews, post_edit_report, run_qa


@task(name="import-reviews")
def import_task(root: str, book: str) -> list[str]:
    return [str(p) for p in import_reviews(Project(Path(root)), book).problems]


@task(name="qa")
def qa_task(root: str, book: str) -> list[dict]:
    return run_qa(Project(Path(root)), book)


@task(name="status")
def status_task(root: str, book: str) -> list[dict]:
    return book_status(Project(Path(root)), book)


@task(name="post-edit-metrics")
def metrics_task(root: str, book: str) -> list[dict]:
    rows, _ = post_edit_report(Project(Path(root)), book)
    return rows


@flow(name="review", log_prints=True)
def review_flow(book: str, root: str = ".") -> list[dict]:
    """Import, check and count; returns the status rows."""
    problems = import_task(root, book)
    findings = qa_task(root, book)
    status = status_task(root, book)
    metrics = metrics_task(root, book)
    create_table_artifact(status, key=f"review-{book}-status", description=f"Review status of {book}")
    by_check: dict[str, int] = {}
    for f in findings:
        by_check[f["check"]] = by_check.get(f["check"], 0) + 1
    lines = [f"# Review of {book}", "", "## Problems in review files", ""]
    lines += [f"- {p}" for p in problems] or ["none"]
    lines += ["", "## QA findings", ""] + ([f"- {k}: {v}" for k, v in sorted(by_check.items())] or ["none"])
    lines += ["", "## Post-edit metrics (draft vs approved)", "", "| chapter | lang | segments | chrF | TER | BLEU |", "|---|---|---|---|---|---|"]
    lines += [f"| {m['chapter']} | {m['lang']} | {m['segments']} | {m['chrf']} | {m['ter']} | {m['bleu']} |" for m in metrics]
    create_markdown_artifact("\n".join(lines), key=f"review-{book}-report", description=f"QA and metrics for {book}")
    for p in problems:
        print(f"review file not imported: {p}")
    return status


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book")
    parser.add_argument("--root", default=".")
    args = parser.parse_args()
    review_flow(args.book, args.root)
