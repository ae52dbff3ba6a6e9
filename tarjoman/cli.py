"""The ``tarjoman`` command. The only module that uses click, prints or exits."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .errors import TarjomanError
from .project import Project


@click.group(help="Tarjoman: Persian memoir manuscripts to reviewed translations and ebooks.")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("TARJOMAN_ROOT", "."),
    show_default="current folder, or $TARJOMAN_ROOT",
    help="Project folder holding sources/, glossaries/ and outputs/.",
)
@click.version_option(package_name="tarjoman")
@click.pass_context
def cli(ctx: click.Context, root: Path) -> None:
    ctx.obj = Project(Path(root))


@cli.command(help="Read a manuscript (.docx, .md, .txt) into outputs/<book>/manuscript.json.")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--book", help="Book name (slug) for outputs/<book>/; default: from the file name.")
@click.option("--json", "as_json", is_flag=True, help="Print the extraction report as one JSON object.")
@click.option("--max-tokens", type=click.IntRange(16, 4096), default=200, show_default=True, help="Split sentences longer than this many (estimated) model tokens.")
@click.pass_obj
def extract(project: Project, source: Path, book: str | None, as_json: bool, max_tokens: int) -> None:
    from .manuscript import BuildOptions, extract as run_extract

    manuscript = run_extract(source, project, book=book, options=BuildOptions(max_tokens=max_tokens))
    summary = manuscript.summary()
    summary["output"] = str(project.manuscript_path(manuscript.book))
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(format_report(summary))


def format_report(summary: dict) -> str:
    lines = [
        f"{summary['source']} → {summary['output']}",
        f"  book        {summary['book']}" + (f"  «{summary['title']}»" if summary.get("title") else ""),
        f"  chapters    {summary['chapters']}" + ("  (+ front matter)" if summary["front_matter"] else ""),
    ]
    for n, title in enumerate(summary["chapter_titles"], start=1):
        lines.append(f"    {n:>3}. {title[:70]}")
    for key in ("paragraphs", "segments", "footnotes", "images", "tables", "characters"):
        lines.append(f"  {key:<11} {summary[key]}")
    if summary["split_segments"]:
        lines.append(f"  long sentences split into {summary['split_segments']} parts")
    if summary["warnings"]:
        lines.append("  warnings:")
        lines += [f"    - {w}" for w in summary["warnings"]]
    else:
        lines.append("  warnings:   none")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="tarjoman", standalone_mode=False)
    except TarjomanError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
