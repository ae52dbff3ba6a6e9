"""Extract: read a manuscript into ``outputs/<book>/manuscript.json``.

In:  ``source`` (a .docx, .md or .txt path), optional ``book`` slug, the project
     ``root`` holding sources/ and outputs/, and ``max_tokens`` for sentence splitting.
Out: the extraction summary (chapters, segments, footnotes, images, warnings…),
     returned and shown in the Prefect UI as a markdown artifact.

Run it once, with Prefect's embedded server:

    .venv/bin/python -m flows.extract sources/sample.docx --book sample

or as the ``extract`` deployment in prefect.yaml on a work pool.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from tarjoman.manuscript import BuildOptions, extract
from tarjoman.project import Project


@task(name="extract-manuscript")
def extract_manuscript(source: str, root: str, book: str | None, max_tokens: int) -> dict:
    manuscript = extract(Path(source), Project(Path(root)), book=book, options=BuildOptions(max_tokens=max_tokens))
    return manuscript.summary()


@flow(name="extract", log_prints=True)
def extract_flow(source: str, book: str | None = None, root: str = ".", max_tokens: int = 200) -> dict:
    """Read one manuscript; the summary is the flow's result and a markdown artifact."""
    summary = extract_manuscript(source, root, book, max_tokens)
    rows = "\n".join(f"| {key} | {summary[key]} |" for key in ("chapters", "paragraphs", "segments", "footnotes", "images", "tables", "characters"))
    warnings = "\n".join(f"- {w}" for w in summary["warnings"]) or "none"
    create_markdown_artifact(
        key=f"extract-{summary['book']}",
        markdown=f"# Extraction of {summary['source']}\n\n| | |\n|---|---|\n{rows}\n\n**Warnings:**\n\n{warnings}\n",
        description=f"Extraction report for {summary['book']}",
    )
    print(f"{summary['book']}: {summary['chapters']} chapters, {summary['segments']} segments")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("--book")
    parser.add_argument("--root", default=".")
    parser.add_argument("--max-tokens", type=int, default=200)
    args = parser.parse_args()
    extract_flow(args.source, args.book, args.root, args.max_tokens)
