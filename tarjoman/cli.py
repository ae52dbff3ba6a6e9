"""The ``tarjoman`` command. The only module that uses click, prints or exits."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .errors import GlossaryError, ManuscriptError, ReviewFileError, StoreError, TarjomanError
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


@cli.command(help="Machine-draft an extracted book into review files (outputs/<book>/review/<chapter>/<lang>.po).")
@click.argument("book")
@click.option("--lang", "langs", default="all", show_default=True, help="Target languages: a comma-separated list of ar, en, fr, ur, or 'all'.")
@click.option("--model", default=lambda: os.environ.get("TARJOMAN_MODEL", "facebook/nllb-200-distilled-600M"), show_default="$TARJOMAN_MODEL or facebook/nllb-200-distilled-600M", help="Hub ID or local folder of an NLLB, M2M100 or mBART-50 model, or a Marian template such as 'Helsinki-NLP/opus-mt-{src}-{tgt}'.")
@click.option("--backend", type=click.Choice(["auto", "transformers", "ctranslate2"]), default="auto", show_default=True,
              help="Inference back-end. auto: ctranslate2 (int8, converted once on first use) on a CPU; transformers (half precision) on a GPU and for Marian pairs.")
@click.option("--beams", type=click.IntRange(1, 16), default=4, show_default=True, help="Beam size for generation.")
@click.option("--digits", type=click.Choice(["native", "latin", "keep"]), default="native", show_default=True, help="Digits in drafts: each language's own, Latin, or as the model wrote them.")
@click.option("--device", default=None, help="cpu, cuda or cuda:N; default: the GPU when there is one.")
@click.option("--term-split/--no-term-split", default=True, show_default=True, help="Draft a sentence again in pieces around an approved term the model would not render (the term is then certain; the sentence less fluent).")
@click.option("--tm-approve", is_flag=True, help="Approve the memory's in-context matches (the same sentence between the same sentences, approved before) at once; without it a person confirms each.")
@click.option("--engine", "engine_kind", type=click.Choice(["nmt", "llm"]), default="nmt", show_default=True,
              help="nmt: the translation model (--model); llm: a language model behind an OpenAI-compatible server (--base-url, --llm-model).")
@click.option("--base-url", help="LLM: the server's OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (Ollama); default: llm: base_url in the book's YAML or tarjoman.yaml. The key is read from $TARJOMAN_LLM_API_KEY or $OPENAI_API_KEY.")
@click.option("--llm-model", help="LLM: the model name the server knows (e.g. qwen2.5:14b).")
@click.option("--concurrency", type=click.IntRange(1, 256), help="LLM: requests at once [default: 4].")
@click.option("--temperature", type=click.FloatRange(0, 2), help="LLM: sampling temperature [default: 0].")
@click.option("--seed", type=int, help="LLM: the seed sent with each request [default: 0].")
@click.option("--stream/--no-stream", default=None, help="LLM: stream answers (some servers time out long answers otherwise) [default: no].")
@click.option("--fallback-model", help="LLM: an NMT model (hub ID or folder) for the sentences whose answer is refused twice; without it they are left for a translator with the reason.")
@click.option("--price-input", type=click.FloatRange(0), help="LLM: price per million prompt tokens, for the cost shown.")
@click.option("--price-output", type=click.FloatRange(0), help="LLM: price per million completion tokens.")
@click.option("--estimate", is_flag=True, help="LLM: print the requests and tokens (and cost) a run would take, and send nothing.")
@click.pass_obj
def draft(project: Project, book: str, langs: str, model: str, backend: str, beams: int, digits: str, device: str | None, term_split: bool,
          tm_approve: bool, engine_kind: str, base_url: str | None, llm_model: str | None, concurrency: int | None, temperature: float | None,
          seed: int | None, stream: bool | None, fallback_model: str | None, price_input: float | None, price_output: float | None, estimate: bool) -> None:
    from .book import book_lock, draft_book
    from .drafting import DraftOptions
    from .engines import GenerationSettings, check_model_targets, load_engine
    from .languages import parse_targets
    from .queue import room_for_views

    if not project.manuscript_path(book).is_file():  # before minutes of model loading
        raise ManuscriptError(f"book {book!r} has not been extracted; run `tarjoman extract SOURCE --book {book}` first", path=project.manuscript_path(book))
    targets = parse_targets(langs, "draft into", default=project.book_targets(book))
    llm = None
    if engine_kind == "llm":
        from .book import llm_settings

        llm = llm_settings(project, book, dict(base_url=base_url, model=llm_model, concurrency=concurrency, temperature=temperature, seed=seed,
                                                stream=stream, price_input=price_input, price_output=price_output, fallback_model=fallback_model))
        fallback_model = llm.fallback_model or None
        if fallback_model:
            check_model_targets(fallback_model, targets)
    elif estimate:
        raise click.UsageError("--estimate is for --engine llm (an NMT draft costs no tokens)")
    else:
        check_model_targets(model, targets)
    from .glossary import load_termbase

    terms = load_termbase(project, book)  # a broken glossary is refused before the model loads
    options = DraftOptions(digits=digits, terms=terms, split_terms=term_split)
    if estimate:
        return _estimate(project, book, targets, llm, options)
    with book_lock(project.book_dir(book), "drafting"):
        # Refuse now, not after minutes of model loading, if another run holds the book or its files would not fit.
        room_for_views(project, book, targets, f"draft {book}")
    fallback = usage = None
    if llm is not None:
        from .engines.llm import LLMEngine
        from .llm_drafting import Usage

        engine, usage = LLMEngine(llm), Usage()
        if fallback_model:
            fallback = load_engine(fallback_model, backend=backend, settings=GenerationSettings(num_beams=beams), device=device)
            fallback.check_targets(targets)
        progress = _llm_progress_printer()
    else:
        engine = load_engine(model, backend=backend, settings=GenerationSettings(num_beams=beams), device=device)
        engine.check_targets(targets)
        progress = _progress_printer()
    try:
        result = draft_book(project, book, targets, engine, options=options, progress=progress, tm_approve=tm_approve, fallback=fallback, usage=usage)
    finally:
        if llm is not None:
            engine.close()
    click.echo(f"drafted {book} with {result.signature}")
    click.echo(f"  {'lang':<5} {'units':>6} {'drafted':>8} {'cache':>6} {'carried':>8} {'memory':>7} {'seconds':>8}")
    for r in result.reports:
        c = r.counts
        click.echo(f"  {r.lang:<5} {r.units:>6} {c['machine']:>8} {c['cache']:>6} {c['carried']:>8} {c['memory']:>7} {r.seconds:>8.1f}")
    if tm_approve:
        click.echo(f"  memory: {result.tm_approved} in-context matches approved (--tm-approve)")
    click.echo(f"  review files: {project.book_dir(book) / 'review'}")
    uses = sum(r.term_uses for r in result.reports)
    if uses:
        missing = sum(r.terms_missing for r in result.reports)
        split = sum(r.terms_split for r in result.reports)
        click.echo(f"  glossary: {uses - missing} of {uses} approved-term uses rendered as approved ({split} sentences drafted in pieces around a term); "
                   f"{missing} left for review (`tarjoman qa {book}` flags them)")
    if usage is not None:
        seconds = sum(r.seconds for r in result.reports)
        rate = usage.completion_tokens / seconds if seconds else 0.0
        cost = f", cost {usage.cost:.4f}" if usage.cost is not None else ""
        click.echo(f"  server: {usage.requests} requests for {usage.units} units, {usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens "
                   f"({rate:.0f} tokens/s{cost}); {usage.refused} answers refused and asked again")
        if usage.fallback or usage.left:
            click.echo(f"  refused twice: {usage.fallback} sentences drafted by {fallback_model} instead, {usage.left} left empty for a translator "
                       f"(the reason is in each entry's comments)", err=True)


def _estimate(project: Project, book: str, targets: list[str], settings, options) -> None:
    from .book import estimate_llm

    rows = estimate_llm(project, book, targets, settings, options)
    click.echo(f"estimate for {book} with {settings.model} at {settings.server} (nothing was sent; tokens estimated from characters):")
    click.echo(f"  {'lang':<8} {'requests':>8} {'sentences':>9} {'prompt':>9} {'completion':>10} {'cost':>9}")
    total_cost = None
    for lang, requests, sentences, prompt, completion in rows:
        cost = settings.cost(prompt, completion)
        total_cost = None if cost is None else (total_cost or 0.0) + cost
        click.echo(f"  {lang:<8} {requests:>8} {sentences:>9} {prompt:>9} {completion:>10} {'' if cost is None else f'{cost:.4f}':>9}")
    prompt, completion = sum(r[3] for r in rows), sum(r[4] for r in rows)
    click.echo(f"  total: {sum(r[1] for r in rows)} requests, {prompt} prompt + {completion} completion tokens"
               + (f", cost {total_cost:.4f}" if total_cost is not None else " (set --price-input/--price-output for a cost)"))


def _llm_progress_printer():
    """Progress on stderr for the LLM engine: sentences settled, tokens per second, cost so far."""
    stream = click.get_text_stream("stderr")
    interactive = stream.isatty()
    last = {"shown": -1.0}

    def show(lang: str, done: int, total: int, seconds: float, usage, tokens: int) -> None:
        if total == 0:
            return
        rate = tokens / seconds if seconds > 0 else 0.0
        width = 30
        bar = "#" * int(width * done / total)
        cost = f"  cost {usage.cost:.4f}" if usage.cost is not None else ""
        line = f"  {lang} [{bar:<{width}}] {done}/{total} segments  {rate:.0f} tokens/s  {usage.requests} requests{cost}"
        if interactive:
            click.echo("\r" + line + (" " * 4), nl=done == total, err=True)
        elif done == total or seconds - last["shown"] >= 10:
            last["shown"] = seconds
            click.echo(line, err=True)

    return show


def _store_languages(project: Project) -> list[str]:
    """What --lang all means for the memory: the four default targets and every language a book in the store has."""
    from .store import Store
    from .workspace import known_languages

    with Store.for_root(project.root) as store:
        return known_languages(store)


def _all_of(project: Project, book: str) -> list[str]:
    """What --lang all means for a book: its targets, and every language it has translations in."""
    from .queue import book_languages

    return book_languages(project, book)


@cli.group(help="Review files: import what translators saved, export approved translations.")
def review() -> None:
    pass


@review.command("import", help="Apply what translators changed in BOOK's PO files to the review store, entry by entry, in one transaction.")
@click.argument("book")
@click.option("--lang", "langs", default="all", show_default=True, help="Languages to import: comma-separated, or 'all'.")
@click.option("--by", help="Who made the changes; default the file's Last-Translator, $TARJOMAN_USER or the login name.")
@click.pass_obj
def review_import(project: Project, book: str, langs: str, by: str | None) -> None:
    from .languages import parse_targets
    from .queue import import_reviews

    result = import_reviews(project, book, parse_targets(langs, "import review files in", default=_all_of(project, book)), who=by)
    click.echo(f"imported {len(result.imported)} review files: {result.applied} changes applied, {len(result.conflicts)} conflicts"
               + (f" ({result.unchanged_files} files unchanged since they were written)" if result.unchanged_files else ""))
    for conflict in result.conflicts:
        click.echo(f"  {conflict}; resolve with `tarjoman review resolve {book} {conflict.id} --take store|theirs`", err=True)
    for notice in result.notices:
        click.echo(f"  {notice}", err=True)
    if result.problems:
        for problem in result.problems:
            click.echo(f"  {problem}", err=True)
        raise ReviewFileError(f"{len(result.problems)} problems in review files; nothing from those files was applied (fix them and import again)",
                              path=project.book_dir(book) / "review")


@review.command("export", help="Write BOOK's review files (POT and PO per chapter and language) from the review store.")
@click.argument("book")
@click.option("--lang", "langs", default="all", show_default=True, help="Languages to write: comma-separated, or 'all'.")
@click.pass_obj
def review_export(project: Project, book: str, langs: str) -> None:
    from .languages import parse_targets
    from .queue import export_reviews

    written, problems = export_reviews(project, book, parse_targets(langs, "write review files in", default=_all_of(project, book)))
    click.echo(f"wrote {len(written)} review files under {project.book_dir(book) / 'review'}")
    for problem in problems:
        click.echo(f"  not rewritten: {problem}", err=True)
    if problems:
        raise ReviewFileError(f"{len(problems)} review files hold changes that cannot be imported; fix them first", path=project.book_dir(book) / "review")


@review.command("conflicts", help="List BOOK's conflicts: changes kept aside because someone else changed the same translation first.")
@click.argument("book")
@click.option("--all", "everything", is_flag=True, help="Also list resolved conflicts.")
@click.option("--json", "as_json", is_flag=True, help="Print the conflicts as JSON.")
@click.pass_obj
def review_conflicts(project: Project, book: str, everything: bool, as_json: bool) -> None:
    from dataclasses import asdict

    from .project_store import open_book
    from .store.translations import conflicts

    store, _ = open_book(project, book)
    try:
        found = conflicts(store, book, open_only=not everything)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([asdict(c) for c in found], ensure_ascii=False, default=str))
        return
    for c in found:
        state = f"resolved ({c.resolution})" if c.resolved_at else "open"
        click.echo(f"  #{c.id} {state}  {c.chapter} {c.uid} {c.lang}  {c.where}\n      store: «{c.current_text}»\n      {c.who}: «{c.theirs_text}»")
    click.echo(f"{len(found)} conflicts")


@review.command("resolve", help="Resolve conflict ID of BOOK: keep the store's text, or take the one that was kept aside.")
@click.argument("book")
@click.argument("conflict_id", type=int)
@click.option("--take", type=click.Choice(["store", "theirs"]), required=True, help="Which text stands.")
@click.option("--by", help="Who decides; default $TARJOMAN_USER or the login name.")
@click.pass_obj
def review_resolve(project: Project, book: str, conflict_id: int, take: str, by: str | None) -> None:
    from .project_store import open_book, who_am_i
    from .queue import export_reviews
    from .store.translations import resolve

    store, _ = open_book(project, book)
    try:
        conflict = resolve(store, book, conflict_id, take=take, who=who_am_i(by))
    finally:
        store.close()
    export_reviews(project, book, [conflict.lang])
    click.echo(f"conflict #{conflict.id} resolved: {conflict.resolution}")


@cli.command(help="The history of BOOK's translations: every change, who made it, when, old → new, and why.")
@click.argument("book")
@click.argument("segment", required=False)
@click.option("--lang", default=None, help="Only this language.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_obj
def history(project: Project, book: str, segment: str | None, lang: str | None, as_json: bool) -> None:
    from dataclasses import asdict

    from .project_store import open_book
    from .store.translations import history as store_history

    store, _ = open_book(project, book)
    try:
        changes = store_history(store, book, uid=segment, lang=lang)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([asdict(c) for c in changes], ensure_ascii=False, default=str))
        return
    for c in changes:
        what = c.term and f"term «{c.term}»" or f"{c.uid} {c.lang}"
        click.echo(f"  {c.at:%Y-%m-%d %H:%M:%S}  {c.action:<8} {what}  v{c.version}  {c.who}: «{c.old_text[:50]}» → «{c.new_text[:50]}»"
                   + (f" [{c.old_state} → {c.new_state}]" if c.old_state != c.new_state else "") + (f"  ({c.why})" if c.why else ""))
    click.echo(f"{len(changes)} changes")


@review.command("export-tmx", help="Write the approved translations of BOOK as a TMX file for other CAT tools.")
@click.argument("book")
@click.option("--lang", "langs", default="all", show_default=True, help="Languages to export: comma-separated, or 'all'.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="TMX file to write; default outputs/<book>/<book>.tmx.")
@click.pass_obj
def review_export_tmx(project: Project, book: str, langs: str, out: Path | None) -> None:
    from .languages import parse_targets
    from .queue import export_tmx

    out = out or project.book_dir(book) / f"{book}.tmx"
    count = export_tmx(project, book, out, parse_targets(langs, "export translations in", default=_all_of(project, book)))
    click.echo(f"wrote {count} translation units to {out}")


@cli.group(help="The glossary of a book (glossaries/<book>.csv, with glossaries/common.csv): check, decide, suggest, exchange.")
def glossary() -> None:
    pass


_RENDERING_OPTIONS = [click.option(f"--{lang}", lang, help=f"The approved rendering in {name}.") for lang, name in (("en", "English"), ("ar", "Arabic"), ("fr", "French"), ("ur", "Urdu"))]


@glossary.command("check", help="Validate the glossaries of BOOK: empty, duplicate or conflicting terms, unknown status or kind, approved terms without a rendering.")
@click.argument("book")
@click.pass_obj
def glossary_check(project: Project, book: str) -> None:
    from .glossary import check_book, load_termbase

    problems = check_book(project, book)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise GlossaryError(f"{len(problems)} problems in the glossary", path=project.glossaries)
    click.echo(f"glossary of {book} is valid: {len(load_termbase(project, book).terms)} approved terms")


def _decide_command(name: str, help_text: str):
    def decorate(func):
        func = click.pass_obj(func)
        func = click.option("--by", help="Who decided; default $TARJOMAN_EDITOR or the login name.")(func)
        func = click.argument("term")(func)
        func = click.argument("book")(func)
        return glossary.command(name, help=help_text)(func)
    return decorate


@_decide_command("approve", "Approve TERM in BOOK's glossary with its renderings (adding the row if needed); other rows are kept as they were.")
@click.option("--kind", type=click.Choice(["person", "place", "unit", "operation", "other"]), help="What the term names.")
@_RENDERING_OPTIONS[0]
@_RENDERING_OPTIONS[1]
@_RENDERING_OPTIONS[2]
@_RENDERING_OPTIONS[3]
@click.option("--rendering", "others", multiple=True, metavar="LANG=TEXT", help="The approved rendering in any other language: --rendering hi=खुर्रमशहर (repeatable).")
def glossary_approve(project: Project, book: str, term: str, by: str | None, kind: str | None, others: tuple[str, ...], **renderings: str | None) -> None:
    from .glossary import approve
    from .glossary.table import rendering_column

    for given in others:
        lang, sep, text = given.partition("=")
        code = rendering_column(lang.strip().lower())
        if not sep or not text.strip() or code is None:
            raise click.BadParameter(f"{given!r}: give LANG=TEXT with a language code (hi=…, zh-Hans=…)", param_hint="--rendering")
        renderings[code] = text.strip()
    row = approve(project, book, term, renderings, by=by, kind=kind)
    click.echo(f"approved «{row.term}»: " + ", ".join(f"{lang} {text}" for lang, text in row.renderings().items()))


@_decide_command("reject", "Reject TERM in BOOK's glossary: it binds nothing and is not suggested again.")
def glossary_reject(project: Project, book: str, term: str, by: str | None) -> None:
    from .glossary import reject

    row = reject(project, book, term, by=by)
    click.echo(f"rejected «{row.term}»")


@glossary.command("suggest", help="Propose recurring names, places, units and operations of BOOK's manuscript as 'proposed' rows.")
@click.argument("book")
@click.option("--json", "as_json", is_flag=True, help="Print the candidates as JSON instead of a table.")
@click.option("--dry-run", is_flag=True, help="Show the candidates; leave the glossary file as it is.")
@click.pass_obj
def glossary_suggest(project: Project, book: str, as_json: bool, dry_run: bool) -> None:
    from dataclasses import asdict

    from .glossary import apply_suggestions, book_glossary_path
    from .glossary.suggest import suggest
    from .manuscript import load_manuscript

    if not project.manuscript_path(book).is_file():
        raise ManuscriptError(f"book {book!r} has not been extracted; run `tarjoman extract SOURCE --book {book}` first", path=project.manuscript_path(book))
    found = suggest(load_manuscript(project.manuscript_path(book)))
    added = refreshed = 0
    if not dry_run:
        added, refreshed = apply_suggestions(project, book, found)
    if as_json:
        click.echo(json.dumps([asdict(s) for s in found], ensure_ascii=False))
        return
    for s in found:
        click.echo(f"  {s.count:>4}  {s.kind:<9} {s.term}  ({' '.join(s.chapters)})")
    if not dry_run:
        click.echo(f"{added} new proposed terms, {refreshed} proposed rows refreshed in {book_glossary_path(project, book)}")


@glossary.command("export", help="Write BOOK's glossary as TBX, for CAT tools and Weblate.")
@click.argument("book")
@click.option("--tbx", "target", required=True, type=click.Path(dir_okay=False, path_type=Path), help="TBX file to write.")
@click.pass_obj
def glossary_export(project: Project, book: str, target: Path) -> None:
    from .glossary import export_tbx

    count = export_tbx(project, book, target)
    click.echo(f"wrote {count} terms to {target}")


@glossary.command("import", help="Merge a TBX or CSV file into BOOK's glossary; rows an editor decided are never changed.")
@click.argument("book")
@click.argument("source", type=click.Path(path_type=Path))
@click.pass_obj
def glossary_import(project: Project, book: str, source: Path) -> None:
    from .glossary import import_file

    result = import_file(project, book, source)
    click.echo(f"{result.added} added, {result.updated} proposed rows updated, {result.kept} decided rows kept as they were")


@cli.command(help="Fine-tune a translation model on the approved translations of BOOK (and of earlier books), for better drafts.")
@click.argument("books", nargs=-1, required=True)
@click.option("--lang", "langs", default="all", show_default=True, help="Target languages to learn: comma-separated, or 'all'.")
@click.option("--base", default=lambda: os.environ.get("TARJOMAN_MODEL", "facebook/nllb-200-distilled-600M"), show_default="$TARJOMAN_MODEL or facebook/nllb-200-distilled-600M", help="Model to start from: hub ID or local folder (NLLB, M2M100, mBART-50, or one Marian pair).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for the adapted model; default outputs/<book>/models/adapted.")
@click.option("--references", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Also learn from a parallel YAML file ({fa: …, en: …, …} entries).")
@click.option("--epochs", type=click.IntRange(1, 1000), default=8, show_default=True, help="Passes over the training pairs (at most; early stopping may end sooner).")
@click.option("--lr", "learning_rate", type=float, default=5e-5, show_default=True, help="Learning rate (training from scratch wants about 1e-3).")
@click.option("--batch-size", type=click.IntRange(1, 512), default=16, show_default=True, help="Sentence pairs per training step.")
@click.option("--holdout", type=click.FloatRange(0, 0.5), default=0.1, show_default=True, help="Share of sentences held out to score before and after (and to stop early).")
@click.option("--patience", type=click.IntRange(1, 100), default=2, show_default=True, help="Stop after this many evaluations without a better held-out chrF.")
@click.option("--eval-every", type=click.IntRange(1, 1000), default=1, show_default=True, help="Epochs between evaluations.")
@click.option("--label-smoothing", type=click.FloatRange(0, 0.5), default=0.1, show_default=True, help="Share of probability spread over other tokens in the loss (0 to learn text by heart).")
@click.option("--dropout", type=click.FloatRange(0, 0.9), default=None, help="Dropout while training; default: the base model's.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: the same seed, data and machine give the same model.")
@click.option("--from-scratch", is_flag=True, help="Start from random weights of the base model's shape and tokenizer (how the demo model is made).")
@click.option("--half", is_flag=True, help="Save float16 weights (half the size).")
@click.option("--device", default=None, help="cpu, cuda or cuda:N; default: the GPU when there is one.")
@click.pass_obj
def adapt(project: Project, books: tuple[str, ...], langs: str, base: str, out: Path | None, references: Path | None, epochs: int,
          learning_rate: float, batch_size: int, holdout: float, patience: int, eval_every: int, label_smoothing: float, dropout: float | None, seed: int, from_scratch: bool, half: bool, device: str | None) -> None:
    from .adapt import AdaptOptions, adapt_books
    from .languages import parse_targets

    out = out or project.book_dir(books[0]) / "models" / "adapted"
    options = AdaptOptions(epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, holdout=holdout, patience=patience,
                           eval_every=eval_every, label_smoothing=label_smoothing, dropout=dropout, seed=seed, from_scratch=from_scratch, half=half, device=device)

    def show(record: dict) -> None:
        chrf = f"  chrF {record['chrf']:.1f}" if "chrf" in record else ""
        click.echo(f"  epoch {record['epoch']:>3}  loss {record['loss']:.3f}{chrf}", err=True)

    result = adapt_books(project, list(books), base, out, langs=parse_targets(langs, "adapt a model to"), references=references, options=options, progress=show)
    on = "held-out" if result.heldout_pairs else "training"
    click.echo(f"adapted {base} on {result.train_pairs} pairs in {result.seconds:.0f} s ({result.epochs_run} epochs, best {result.best_epoch}) → {result.out}")
    click.echo(f"  {'lang':<5} {'pairs':>6} {'chrF before':>12} {'chrF after':>11} {'BLEU before':>12} {'BLEU after':>11}   ({on} pairs)")
    for lang, after in result.after.items():
        before = result.before[lang]
        click.echo(f"  {lang:<5} {after.pairs:>6} {before.chrf:>12.1f} {after.chrf:>11.1f} {before.bleu:>12.1f} {after.bleu:>11.1f}")
    click.echo(f"  draft with it: tarjoman draft {books[0]} --model {result.out}")


@cli.command(help="Review progress of BOOK per chapter and language: approved, fuzzy, untranslated, QA findings.")
@click.argument("book")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON (a list of rows).")
@click.pass_obj
def status(project: Project, book: str, as_json: bool) -> None:
    from .queue import book_status

    rows = book_status(project, book)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    click.echo(f"  {'chapter':<8} {'lang':<5} {'total':>6} {'approved':>9} {'fuzzy':>6} {'untransl.':>10} {'qa':>4} {'done':>7}")
    for r in rows:
        click.echo(f"  {r['chapter']:<8} {r['lang']:<5} {r['total']:>6} {r['approved']:>9} {r['fuzzy']:>6} {r['untranslated']:>10} {r['qa']:>4} {r['percent']:>6.1f}%")


@cli.command(help="Run quality checks on every translation of BOOK; findings go into the PO comments and outputs/<book>/qa.json.")
@click.argument("book")
@click.option("--lang", "langs", default="all", show_default=True, help="Languages to check: comma-separated, or 'all'.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON (a list of findings).")
@click.pass_obj
def qa(project: Project, book: str, langs: str, as_json: bool) -> None:
    from .languages import parse_targets
    from .queue import run_qa

    findings = run_qa(project, book, parse_targets(langs, "check translations in", default=_all_of(project, book)))
    if as_json:
        click.echo(json.dumps(findings, ensure_ascii=False))
        return
    for f in findings:
        where = f"{f['chapter']}/{f['lang']}.po:{f['line']}" if f["lang"] else f"{f['chapter']} (every language)"
        click.echo(f"  {where}  {f['check']}: {f['message']}")
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["check"]] = counts.get(f["check"], 0) + 1
    click.echo(f"{len(findings)} findings" + (": " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) if counts else ""))


@cli.command(help="Post-edit metrics of BOOK: chrF, TER and BLEU of the machine drafts against the approved translations.")
@click.argument("book")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON (a list of rows with sacrebleu signatures).")
@click.pass_obj
def report(project: Project, book: str, as_json: bool) -> None:
    from .queue import post_edit_report

    rows, chart = post_edit_report(project, book)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("no approved translations with a recorded machine draft yet")
        return
    click.echo(f"  {'chapter':<8} {'lang':<5} {'segments':>8} {'chrF':>6} {'TER':>6} {'BLEU':>6}  engine")
    for r in rows:
        click.echo(f"  {r['chapter']:<8} {r['lang']:<5} {r['segments']:>8} {r['chrf']:>6.1f} {r['ter']:>6.1f} {r['bleu']:>6.1f}  {r['engine']}")
    click.echo(f"  {rows[0]['signatures']['chrf']}")
    click.echo(f"chart: {chart}")


@cli.command(help="Build the books of BOOK, one per language, from the approved translations: EPUB 3 (checked with EPUBCheck), "
             "a print-ready PDF (page size and margins from the book's YAML `print:`) and a Word manuscript for copy-editors.")
@click.argument("book")
@click.option("--format", "formats", default="epub", show_default=True,
              help="Comma-separated: epub, pdf, docx (or 'all'); each goes to outputs/BOOK/<format>/.")
@click.option("--lang", "langs", default="all", show_default=True, help="Languages to publish: comma-separated codes (ar, en, id, zh-Hans…), or 'all' (the book's).")
@click.option("--draft", is_flag=True, help="Use machine drafts where nothing is approved yet; the book says DRAFT on its title page and in its metadata.")
@click.option("--bilingual", is_flag=True, help="A proofreading edition: each Persian paragraph followed by its translation.")
@click.option("--ace", is_flag=True, help="Check each book with Ace by DAISY too (make ace installs it); its report goes beside the book as "
              "<name>.ace/report.html, and the book claims EPUB Accessibility 1.1 (WCAG 2.1 AA) only if Ace finds nothing, every image has an approved description and it is not a --draft.")
@click.pass_obj
def publish(project: Project, book: str, formats: str, langs: str, draft: bool, bilingual: bool, ace: bool) -> None:
    from .accessibility import ace_available
    from .book import parse_formats, publish_book
    from .languages import parse_targets

    targets = parse_targets(langs, "publish in", default=_all_of(project, book))
    chosen = parse_formats(formats)
    if ace and "epub" not in chosen:
        raise click.BadParameter("Ace checks EPUB books; add epub to --format", param_hint="--ace")
    if ace and (why := ace_available()):
        raise click.ClickException(f"--ace: {why}")
    for lang in targets:
        result = publish_book(project, book, lang, draft=draft, bilingual=bilingual, ace=ace, formats=chosen)
        for problem in result.review_problems:
            click.echo(f"  {problem}", err=True)
        note = " (DRAFT)" if draft else ""
        if result.untranslated:
            note += f", {result.untranslated} sentences left in Persian"
        for form, path in result.files.items():
            pages = f", {result.pages} pages" if form == "pdf" else ""
            click.echo(f"{lang}: {path}{pages}{note}")
        if result.ace is not None:
            counts = ", ".join(f"{result.ace.count(impact)} {impact}" for impact in ("critical", "serious", "moderate", "minor"))
            verdict = "conforms to EPUB Accessibility 1.1, WCAG 2.1 AA" if result.conforms else "claims no conformance"
            click.echo(f"  Ace {result.ace.outcome}: {counts}; {verdict}; report {result.ace_report / 'report.html'}")
            for violation in result.ace.violations[:10]:
                if violation.impact != "minor":
                    click.echo(f"    {violation}", err=True)


@cli.command(help="Run the whole pipeline on a manuscript with Prefect: extract, draft, review status, publish what is approved.")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--book", help="Book name (slug); default: from the file name.")
@click.option("--lang", "langs", default="all", show_default=True, help="Target languages: comma-separated list of ar, en, fr, ur, or 'all'.")
@click.option("--model", default=lambda: os.environ.get("TARJOMAN_MODEL", "facebook/nllb-200-distilled-600M"), show_default="$TARJOMAN_MODEL or facebook/nllb-200-distilled-600M", help="Hub ID or local folder of the translation model.")
@click.option("--backend", type=click.Choice(["auto", "transformers", "ctranslate2"]), default="auto", show_default=True,
              help="Inference back-end (auto: ctranslate2 on a CPU, transformers on a GPU).")
@click.option("--beams", type=click.IntRange(1, 16), default=4, show_default=True, help="Beam size for generation.")
@click.option("--format", "formats", default="epub", show_default=True, help="What to publish: comma-separated epub, pdf, docx, or 'all'.")
@click.option("--engine", "engine_kind", type=click.Choice(["nmt", "llm"]), default="nmt", show_default=True,
              help="nmt: the translation model (--model); llm: a language model behind an OpenAI-compatible server (--base-url, --llm-model, or llm: in the YAML).")
@click.option("--base-url", help="LLM: the server's OpenAI-compatible base URL; default: llm: base_url in the book's YAML or tarjoman.yaml.")
@click.option("--llm-model", help="LLM: the model name the server knows.")
@click.option("--concurrency", type=click.IntRange(1, 256), help="LLM: requests at once [default: 4].")
@click.pass_obj
def run(project: Project, source: Path, book: str | None, langs: str, model: str, backend: str, beams: int, formats: str, engine_kind: str,
        base_url: str | None, llm_model: str | None, concurrency: int | None) -> None:
    from .book import parse_formats
    from .languages import parse_targets

    parse_targets(langs, "run the pipeline into")
    chosen = ",".join(parse_formats(formats))
    llm = None
    if engine_kind == "llm":
        from .engines.llm import LLMSettings

        llm = {k: v for k, v in dict(base_url=base_url, model=llm_model, concurrency=concurrency).items() if v is not None}
        LLMSettings().merged(llm, where="the command line")  # checked now; the whole set once the book's YAML is read
    from flows import embedded_settings
    from flows.pipeline import pipeline_flow

    with embedded_settings():
        result = pipeline_flow(str(source), book, langs, model, backend, beams, str(project.root), formats=chosen, engine=engine_kind, llm=llm)
    for path in result["published"]:
        click.echo(f"published {path}")
    for lang, count in result["waiting"].items():
        click.echo(f"waiting for review: {lang}, {count} sentences not approved (run this again when they are)")


@cli.command(help="Resume a pipeline run paused for review on a Prefect server, approving publication.")
@click.argument("flow_run_id")
@click.option("--approver", required=True, help="Who approves publishing (recorded in the flow run).")
@click.option("--lang", "langs", default="all", show_default=True, help="Languages to publish: comma-separated, or 'all'.")
@click.option("--draft", is_flag=True, help="Publish draft editions where the review is not complete.")
def resume(flow_run_id: str, approver: str, langs: str, draft: bool) -> None:
    from uuid import UUID

    from prefect.flow_runs import resume_flow_run

    from .languages import parse_targets

    parse_targets(langs, "publish in")
    try:
        run_id = UUID(flow_run_id)
    except ValueError:
        raise click.BadParameter(f"{flow_run_id!r} is not a flow run ID") from None
    resume_flow_run(run_id, run_input={"approver": approver, "languages": langs, "draft": draft})
    click.echo(f"resumed {flow_run_id}: publishing {langs} approved by {approver}")


def _progress_printer():
    """Progress on stderr: segments done per language, rate and time left."""
    stream = click.get_text_stream("stderr")
    interactive = stream.isatty()
    last = {"shown": -1.0}

    def show(lang: str, done: int, total: int, seconds: float) -> None:
        if total == 0:
            return
        rate = done / seconds if seconds > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        width = 30
        bar = "#" * int(width * done / total)
        line = f"  {lang} [{bar:<{width}}] {done}/{total} segments  {rate:.1f}/s  {left:.0f}s left"
        if interactive:
            click.echo("\r" + line + (" " * 4), nl=done == total, err=True)
        elif done == total or seconds - last["shown"] >= 10:
            last["shown"] = seconds
            click.echo(line, err=True)

    return show


@cli.command(help="The languages a model can draft into (every code its tokenizer has), or the given ones: code, name, script, direction, "
             "digits, and the font a book in it would carry.")
@click.option("--model", default=None, help="A model folder (or a hub ID already in the cache); without it, the default targets and those given with --lang.")
@click.option("--lang", "langs", default="", help="Comma-separated codes to describe (any spelling: id, zh_CN, ind_Latn).")
def languages(model: str | None, langs: str) -> None:
    from .languages import DEFAULT_TARGETS, language, parse_targets
    from .typefaces import face_for, script_name, script_of, script_of_language

    codes = parse_targets(langs, "describe") if langs else list(DEFAULT_TARGETS)
    if model:
        from .engines import check_model_targets
        from .engines.base import folder_languages, local_folder

        folder = local_folder(model)
        found = folder_languages(folder) if folder is not None and folder.is_dir() else None
        if found is None:
            from .engines.hf import inspect_model

            info = inspect_model(model)
            found = (info.family, info.languages)
        if langs:
            check_model_targets(model, codes)
        else:
            codes = sorted(c for c in found[1] if c != "fa")
        click.echo(f"{model} ({found[0]}): {len(found[1]) - 1} target languages")
    click.echo(f"{'code':<12} {'name':<28} {'script':<7} {'dir':<4} {'digits':<11} font")
    for code in codes:
        lang = language(code)
        if lang.script in ("Latn", "Zyyy"):
            font = "(the reader's own)"
        else:
            script = script_of_language(lang.script)
            sample = {c for c in lang.native_name + lang.digits + lang.full_stop if script_of(c) == script}
            face = face_for(script, sample, lang.code) if sample else None
            font = face.family if face else "?" if not sample else f"none: install a font for {script_name(lang.script)}"
        click.echo(f"{lang.code:<12} {lang.name[:28]:<28} {lang.script:<7} {lang.direction:<4} {lang.digits:<11} {font}")


@cli.command(help="Start the review desk: translators, editors and publishers work in the browser on the review store.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 for a team, behind a TLS reverse proxy.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option("--secure-cookies/--no-secure-cookies", default=None, help="Send the session cookie only over HTTPS; default: on unless --host is a loopback address.")
@click.option("--model", default=lambda: os.environ.get("TARJOMAN_MODEL"), help="Model the publisher's Draft button drafts with (hub ID or local folder); default $TARJOMAN_MODEL.")
@click.pass_obj
def serve(project: Project, host: str, port: int, secure_cookies: bool | None, model: str | None) -> None:
    import uvicorn

    from .desk import create_app
    from .project_store import open_store

    open_store(project).close()  # a store that cannot be opened is one line, before the server starts
    _check_address(host, port)
    secure = secure_cookies if secure_cookies is not None else host not in ("127.0.0.1", "localhost", "::1")
    app = create_app(project.root, secure_cookies=secure, model=model)
    click.echo(f"Tarjoman desk on http://{host}:{port}/ (project {project.root.resolve()}); Ctrl+C stops it")
    if secure:
        click.echo("  the session cookie goes only over HTTPS: open the desk through a TLS proxy "
                   "(or, on a network you trust, --no-secure-cookies)", err=True)
    if not _has_users(project):
        click.echo(f"  no user yet: tarjoman --root {project.root} user add NAME --role admin", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=True, proxy_headers=True, server_header=False)


def _check_address(host: str, port: int) -> None:
    """One line, not a server's log, when the address cannot be listened on."""
    import socket

    from .errors import ProjectError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ProjectError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; give --host an address of this machine") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ProjectError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                               f"is another desk running there? choose another --port") from None


def _has_users(project: Project) -> bool:
    from .accounts import users
    from .project_store import open_store

    store = open_store(project)
    try:
        return bool(users(store))
    finally:
        store.close()


@cli.group(help="The translation memory: every approved translation in the store, and memories imported from other CAT tools.")
def tm() -> None:
    pass


@tm.command("import", help="Add a TMX memory (OmegaT, Trados, memoQ…; Persian source) to the translation memory: all of it, or nothing.")
@click.argument("tmx_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", "langs", default="all", show_default=True, help="Target languages the file may hold: comma-separated, or 'all'.")
@click.pass_obj
def tm_import(project: Project, tmx_file: Path, langs: str) -> None:
    from .languages import parse_targets
    from .project_store import open_store, who_am_i
    from .store.memory import import_units
    from .tmx import read_tmx

    units = read_tmx(tmx_file, targets=parse_targets(langs, "import a memory in", default=_store_languages(project)))  # the whole file is checked before anything is stored
    with open_store(project) as store:
        added = import_units(store, units, origin=tmx_file.name, who=who_am_i())
    total = sum(added.values())
    click.echo(f"imported {total} of the {len(units)} translation units of {tmx_file}"
               + (f" ({', '.join(f'{lang} {n}' for lang, n in added.items())})" if added else "")
               + (f"; {len(units) - total} were already in the memory" if len(units) > total else ""))


@tm.command("export", help="Write the whole translation memory (every approved translation, and what was imported) as TMX.")
@click.option("--lang", "langs", default="all", show_default=True, help="Languages to export: comma-separated, or 'all'.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="TMX file to write; default outputs/memory.tmx.")
@click.pass_obj
def tm_export(project: Project, langs: str, out: Path | None) -> None:
    from .files import write_atomic
    from .languages import parse_targets
    from .project_store import open_store
    from .store.memory import everything
    from .tmx import tmx_document

    out = out or project.outputs / "memory.tmx"
    with open_store(project) as store, store.read() as session:
        pairs = everything(session, parse_targets(langs, "export the memory in", default=_store_languages(project)))
    if not pairs:
        raise StoreError("the memory is empty: nothing is approved yet and no TMX was imported", path=out)
    write_atomic(out, tmx_document(pairs))
    click.echo(f"wrote {len(pairs)} translation units to {out}")


@tm.command("search", help="Concordance: remembered sentences with TEXT in their source or their approved translation, with book, chapter and paragraph.")
@click.argument("text")
@click.option("--lang", default=None, help="Only translations in this language (ar, en, id, zh-Hans…).")
@click.option("--in", "side", type=click.Choice(["both", "source", "target"]), default="both", show_default=True, help="Where to look for TEXT.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="At most this many remembered sentences.")
@click.pass_obj
def tm_search(project: Project, text: str, lang: str | None, side: str, limit: int) -> None:
    from .languages import parse_targets
    from .project_store import open_store
    from .store.memory import search

    if lang is not None:
        parse_targets(lang, "search translations in")
    with open_store(project) as store, store.read() as session:
        found = search(session, text, lang=lang, side=side, limit=limit)
    for hit in found:
        where = f"{hit.book} {hit.chapter} {hit.uid}" if hit.book else f"imported from {hit.origin}"
        click.echo(f"{where}: {hit.source}")
        for code, translation in hit.translations.items():
            click.echo(f"    {code}: {translation}")
        if hit.context and hit.context != hit.source:
            click.echo(f"    paragraph: {hit.context}")
    click.echo(f"{len(found)} found" + (" (more with --limit)" if len(found) >= limit else ""))


@cli.group(help="People who work in the desk: add them, change their role, languages or password, deactivate them.")
def user() -> None:
    pass


def _password(prompt: bool) -> str:
    """Prompted twice on a terminal; read from the first line of stdin for scripts."""
    if sys.stdin.isatty() and prompt:
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("no password on standard input")
    return line.rstrip("\r\n")


def _langs(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(code.strip() for code in value.split(",") if code.strip())


@user.command("add", help="Add a user; the password is prompted, or read from standard input.")
@click.argument("name")
@click.option("--role", type=click.Choice(["translator", "editor", "publisher", "admin"]), required=True,
              help="translator: edits its --lang languages; editor: decides glossary terms; publisher: drafts and publishes; admin: all, and users.")
@click.option("--lang", "langs", help="Languages a translator edits: comma-separated, e.g. ar,ur.")
@click.pass_obj
def user_add(project: Project, name: str, role: str, langs: str | None) -> None:
    from .accounts import add_user
    from .project_store import open_store, who_am_i

    password = _password(True)
    store = open_store(project)
    try:
        added = add_user(store, name, role, _langs(langs) or (), password, by=who_am_i())
    finally:
        store.close()
    click.echo(f"added {added.name} ({added.role}{': ' + ','.join(added.langs) if added.langs else ''})")


@user.command("set", help="Change a user's role, languages or password (--password reads it as `add` does), or (de)activate them.")
@click.argument("name")
@click.option("--role", type=click.Choice(["translator", "editor", "publisher", "admin"]), help="The new role.")
@click.option("--lang", "langs", help="The languages, replacing the old ones: comma-separated.")
@click.option("--password", "new_password", is_flag=True, help="Set a new password (ends the user's sessions).")
@click.option("--active/--inactive", default=None, help="An inactive user cannot log in; their sessions end.")
@click.pass_obj
def user_set(project: Project, name: str, role: str | None, langs: str | None, new_password: bool, active: bool | None) -> None:
    from .accounts import set_user
    from .project_store import open_store

    password = _password(True) if new_password else None
    store = open_store(project)
    try:
        changed = set_user(store, name, role=role, langs=_langs(langs), password=password, active=active)
    finally:
        store.close()
    click.echo(f"{changed.name}: {changed.role}{' ' + ','.join(changed.langs) if changed.langs else ''}{'' if changed.active else ' (inactive)'}")


@user.command("list", help="List the desk's users.")
@click.pass_obj
def user_list(project: Project) -> None:
    from .accounts import users
    from .project_store import open_store

    store = open_store(project)
    try:
        for u in users(store):
            click.echo(f"{u.name:<20} {u.role:<10} {','.join(u.langs):<12} {'active' if u.active else 'inactive'}")
    finally:
        store.close()


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


def _quiet_libraries() -> None:
    """The command speaks for itself: no progress bars or advisory warnings from the ML libraries."""
    import warnings

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    warnings.filterwarnings("ignore", module=r"(transformers|torch|huggingface_hub|sentencepiece|ctranslate2)(\.|$)")


def main(argv: list[str] | None = None) -> None:
    _quiet_libraries()
    try:
        cli.main(args=argv, prog_name="tarjoman", standalone_mode=False)
    except TarjomanError as exc:
        _fail(str(exc))
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OSError as exc:  # the system refused a file: read-only, full, not ours
        from .errors import os_error_message

        _fail(os_error_message(exc))
    except Exception as exc:  # noqa: BLE001 - a bug: one line for the user, the traceback in a log file
        _fail(_unexpected(exc, argv), code=70)


def _fail(message: str, code: int = 1) -> None:
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    click.echo(f"error: {' '.join(lines) or 'unknown error'}", err=True)
    sys.exit(code)


def _unexpected(exc: Exception, argv: list[str] | None) -> str:
    """Write the traceback of a bug to a log file (never under the project: its files stay as
    they were) and say where it is."""
    import time
    import traceback
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("tarjoman")
    except PackageNotFoundError:
        release = "unknown"
    report = (f"tarjoman {release}, {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n"
              f"command: tarjoman {' '.join(argv if argv is not None else sys.argv[1:])}\n\n"
              + "".join(traceback.format_exception(exc)))
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    what = " ".join(what.split())[:300]
    for folder in _log_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"tarjoman-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
            path.write_text(report, encoding="utf-8")
        except OSError:
            continue
        return f"unexpected {what}; this is a bug in Tarjoman, not in your files: the traceback is in {path}, please send it with your report"
    return f"unexpected {what}; this is a bug in Tarjoman (no log file could be written; run with TARJOMAN_LOG_DIR set to a writable folder)"


def _log_folders() -> list[Path]:
    """$TARJOMAN_LOG_DIR, else the XDG state folder, else the system's temporary folder."""
    import tempfile

    folders = []
    if os.environ.get("TARJOMAN_LOG_DIR"):
        folders.append(Path(os.environ["TARJOMAN_LOG_DIR"]))
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    folders += [Path(state) / "tarjoman" / "logs", Path(tempfile.gettempdir()) / "tarjoman-logs"]
    return folders
