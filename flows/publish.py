"""Publish: build the EPUB (and with ``formats``, the PDF and Word editions) of each language from the
approved translations (or drafts, with ``draft``).

In:  ``book``, ``langs``, ``draft``, ``bilingual``, ``formats`` (comma-separated epub, pdf, docx), the project ``root``.
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
def publish_task(root: str, book: str, lang: str, draft: bool, bilingual: bool, formats: tuple[str, ...] = ("epub",)) -> list[str]:
    result = publish_book(Project(Path(root)), book, lang, draft=draft, bilingual=bilingual, formats=formats)
    return [str(path) for path in result.files.values()]


@flow(name="publish", log_prints=True)
def publish_flow(book: str, langs: str = "all", draft: bool = False, bilingual: bool = False, root: str = ".", formats: str = "epub") -> list[str]:
    """One EPUB (PDF, Word file) per language; every EPUB is checked with EPUBCheck before it is kept."""
    from tarjoman.book import parse_formats

    chosen = parse_formats(formats)
    paths = []
    from tarjoman.queue import book_languages

    for lang in parse_targets(langs, "publish in", default=book_languages(Project(Path(root)), book)):  # one at a time: each book holds the book lock while it is written
        for path in publish_task(root, book, lang, draft, bilingual, chosen):
            form = Path(path).suffix.lstrip(".")
            create_link_artifact(Path(path).resolve().as_uri(), link_text=Path(path).name, key=f"{form}-{book}-{lang}", description=f"{book} in {lang} ({form})")
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
    parser.add_argument("--formats", default="epub", help="comma-separated: epub, pdf, docx, or all")
    args = parser.parse_args()
    publish_flow(args.book, args.langs, args.draft, args.bilingual, args.root, args.formats)
