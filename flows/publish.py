"""Publish: build the EPUB of each language from the approved translations (or drafts, with ``draft``).

In:  ``book``, ``langs``, ``draft``, ``bilingual``, the project ``root``.
Out: the paths of the books written, each also a link artifact in the Prefect UI.

    .venv/bin/python -m flows.publish sample --langs all
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_link_artifact

from tarjoman.book import publish_book
from tarjoman.languages import parse_targets
from tarjoman.project import Project


@task(name="publish-language", task_run_name="publish {lang}")
def publish_task(root: str, book: str, lang: str, draft: bool, bilingual: bool) -> str:
    result = publish_book(Project(Path(root)), book, lang, draft=draft, bilingual=bilingual)
    return str(result.path)


@flow(name="publish", log_prints=True)
def publish_flow(book: str, langs: str = "all", draft: bool = False, bilingual: bool = False, root: str = ".") -> list[str]:
    """One EPUB per language; every book is checked with EPUBCheck before it is kept."""
    paths = []
    for lang in parse_targets(langs, "publish in"):  # one at a time: each book holds the book lock while it is written
        path = publish_task(root, book, lang, draft, bilingual)
        create_link_artifact(Path(path).resolve().as_uri(), link_text=Path(path).name, key=f"epub-{book}-{lang}", description=f"{book} in {lang}")
        print(f"{lang}: {path}")
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book")
    parser.add_argument("--langs", default="all")
    parser.add_argument("--draft", action="store_true")
    parser.add_argument("--bilingual", action="store_true")
    parser.add_argument("--root", default=".")
    args = parser.parse_args()
    publish_flow(args.book, args.langs, args.draft, args.bilingual, args.root)
