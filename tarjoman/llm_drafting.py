"""Drafts from a language model given the book around each sentence (:mod:`tarjoman.engines.llm`).

For each target language, the units the memory, the carried-over rule and the draft cache do not
settle are put into requests: consecutive sentences of a chapter up to the settings' budget of
source tokens, each request with the paragraphs before it (source, and the translation the store
held when the run began, so requests do not wait on each other) and the glossary terms and memory
matches that occur in it. Requests run ``concurrency`` at a time; every answer is checked
(:func:`~tarjoman.engines.llm.verify`), a refused one is asked again once with the reasons, and
each sentence that passed is committed to the draft cache as soon as its answer is in: a run
killed midway asks again only for what it had not received. A sentence still refused falls back
to the NMT engine when one is given, or is left empty for a translator with the reason.

A sentence's cache key holds the engine's identity (server, model, prompt hash, temperature,
seed), the glossary terms that applied, its text and the source of the paragraphs it is read
with: an unchanged book asks nothing; a new prompt or model drafts again what no person touched.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .cache import draft_key
from .drafting import Draft, DraftOptions, LanguageReport, draft_language, needs_no_translation
from .engines.llm import Checked, LLMEngine, LLMError, Request, brief_text, messages_for, verify
from .finishing import finish
from .glossary import TermBinder, cache_part
from .text import estimate_tokens

if TYPE_CHECKING:
    from .engines import Engine
    from .manuscript import Manuscript, Unit
    from .store.cache import DraftCache

LLMProgress = Callable[[str, int, int, float, "Usage", int], None]
"""``progress(lang, done, total, seconds, usage, tokens)``: sentences settled of those sent to the
server, and the completion tokens received for this language so far."""


@dataclass
class Usage:
    """What the server was asked, for the progress line and the summary."""

    requests: int = 0  # HTTP requests, retries and second asks included
    units: int = 0  # requests planned
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    refused: int = 0  # answers refused at least once
    fallback: int = 0  # sentences drafted by the NMT engine instead
    left: int = 0  # sentences left for a translator


@dataclass
class Planned:
    request: Request
    keys: dict[str, str]  # number → cache key
    units: dict[str, "Unit"]  # number → unit


@dataclass
class Plan:
    requests: list[Planned] = field(default_factory=list)
    found: dict[str, str] = field(default_factory=dict)  # cache key → draft
    keys: dict[str, str] = field(default_factory=dict)  # unit id → cache key
    units: list = field(default_factory=list)


def plan(manuscript: "Manuscript", target: str, engine: LLMEngine, cache: "DraftCache", *, binder: TermBinder,
         memory: dict[str, tuple[str, str]], current: dict[str, str], matches: Callable[[list[str]], dict] | None = None,
         chapters: set[str] | None = None, split_terms: bool = True) -> Plan:
    """The requests a run would send: units no memory, carried-over rule or cache settles."""
    settings = engine.settings
    identity = engine.cache_identity()
    result = Plan()
    for chapter in manuscript.chapters:
        if chapters is not None and chapter.id not in chapters:
            continue
        paragraphs = [p for p in chapter.all_paragraphs() if p.segments]
        pending: list[tuple[int, "Unit"]] = []
        for index, paragraph in enumerate(paragraphs):
            before = [p.text for p in paragraphs[max(0, index - settings.context):index]]
            for unit in chapter.paragraph_units(paragraph):
                result.units.append(unit)
                if unit.id in memory or all(needs_no_translation(part, target) for part in unit.parts):
                    continue
                text = unit.text
                key = draft_key(identity, unit.lang, target, cache_part(binder.applied(text), split=split_terms),
                                text + "\x00" + paragraph.text + "\x00" + "\x00".join(before))
                result.keys[unit.id] = key
                pending.append((index, unit))
        found = cache.get_many([result.keys[u.id] for _, u in pending])
        result.found.update(found)
        todo = [(i, u) for i, u in pending if result.keys[u.id] not in found]
        similar = matches([u.id for _, u in todo]) if matches and todo else {}
        for group in _groups(todo, settings.unit_tokens):
            first = group[0][0]
            context = []
            for paragraph in paragraphs[max(0, first - settings.context):first]:
                units = chapter.paragraph_units(paragraph)
                translated = " ".join(current.get(u.id) or _known(result, u, memory) for u in units).strip()
                context.append({"source": paragraph.text, **({"translation": translated} if translated else {})})
            numbers = {str(n): unit for n, (_, unit) in enumerate(group, 1)}
            applied = {term: rendering for unit in numbers.values() for term, rendering in binder.applied(unit.text)}
            remembered = []
            for unit in numbers.values():
                for match in similar.get(unit.id, [])[:2]:
                    remembered.append({"source": match.source, "translation": match.text, "score": match.score})
            request = Request(target, {n: (u.id, u.text) for n, u in numbers.items()}, context, applied, remembered)
            result.requests.append(Planned(request, {n: result.keys[u.id] for n, u in numbers.items()}, numbers))
    return result


def _known(plan_: Plan, unit, memory) -> str:
    if unit.id in memory:
        return memory[unit.id][0]
    key = plan_.keys.get(unit.id)
    return plan_.found.get(key, "") if key else ""


def _groups(todo: list, budget: int):
    """Consecutive pending units, a group per ``budget`` source tokens (a longer sentence alone)."""
    group, tokens, last = [], 0, None
    for index, unit in todo:
        cost = estimate_tokens(unit.text)
        if group and (tokens + cost > budget or index - last > 1):
            yield group
            group, tokens = [], 0
        group.append((index, unit))
        tokens += cost
        last = index
    if group:
        yield group


def estimate(plan_: Plan, engine: LLMEngine, brief: str) -> tuple[int, int]:
    """(prompt tokens, completion tokens) the plan's requests would cost: an estimate, by characters."""
    prompt = completion = 0
    for planned in plan_.requests:
        prompt += sum(approx_tokens(m["content"]) for m in messages_for(planned.request, engine.settings, brief))
        completion += sum(int(approx_tokens(text) * 1.2) + 4 for _, text in planned.request.segments.values())
    return prompt, completion


def approx_tokens(text: str) -> int:
    """Tokens a modern BPE tokenizer makes of ``text``, roughly: Latin text ~4 characters each,
    Arabic-script text ~2.5 (the UTF-8 bytes ÷ 4, about). An estimate, never a count."""
    return max(1, round(len(text.encode("utf-8")) / 4))


def draft_language_llm(
    manuscript: "Manuscript",
    target: str,
    engine: LLMEngine,
    cache: "DraftCache",
    *,
    memory: dict[str, tuple[str, str]] | None = None,
    current: dict[str, str] | None = None,
    matches: Callable[[list[str]], dict] | None = None,
    options: DraftOptions | None = None,
    progress: LLMProgress | None = None,
    chapters: set[str] | None = None,
    fallback: "Engine | None" = None,
    others: tuple[str, ...] = (),
    usage: Usage | None = None,
) -> tuple[list[Draft], LanguageReport]:
    """Drafts of every unit in ``target``: see the module's description. ``current`` maps unit
    IDs to the store's translations when the run began (the context's translations);
    ``matches(uids)`` gives the memory's fuzzy matches of those units."""
    options = options or DraftOptions()
    memory = memory or {}
    usage = usage if usage is not None else Usage()
    report = LanguageReport(target)
    started = time.perf_counter()
    binder = options.terms.binder(target) if options.terms else TermBinder(target, {})
    brief = brief_text(manuscript.metadata)
    planned = plan(manuscript, target, engine, cache, binder=binder, memory=memory, current=current or {}, matches=matches,
                   chapters=chapters, split_terms=options.split_terms)
    report.units = len(planned.units)
    usage.units += len(planned.requests)
    total = sum(len(p.units) for p in planned.requests)
    drafted: dict[str, str] = {}
    problems: dict[str, str] = {}
    done = 0
    tokens_before = usage.completion_tokens
    if progress:
        progress(target, 0, total, 0.0, usage, 0)
    identity = engine.cache_identity()
    with ThreadPoolExecutor(max_workers=max(1, engine.settings.concurrency), thread_name_prefix="llm") as pool:
        futures: dict[Future, Planned] = {pool.submit(_ask, engine, p.request, brief, binder, others, usage): p for p in planned.requests}
        try:
            while futures:
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in finished:
                    item = futures.pop(future)
                    checked = future.result()
                    rows = []
                    for number, text in checked.accepted.items():
                        unit = item.units[number]
                        rows.append((item.keys[number], unit.lang, target, unit.text, text, identity))
                        drafted[item.keys[number]] = text
                    if rows:
                        cache.put_many(rows)  # committed now: a run killed later does not ask for these again
                    for number, why in checked.problems.items():
                        problems[item.units[number].id] = why
                    done += len(item.units)
                    if progress:
                        progress(target, done, total, time.perf_counter() - started, usage, usage.completion_tokens - tokens_before)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    fell_back: dict[str, Draft] = {}
    if problems and fallback is not None:
        made, fallback_report = draft_language(manuscript, target, fallback, cache, options=options, chapters=chapters, units=set(problems))
        signature = fallback.signature_text()
        for draft in made:
            if draft.unit in problems and draft.origin in ("machine", "cache"):
                draft.engine = signature
                draft.problem = f"the language model's answer was refused ({problems[draft.unit]}); drafted by {fallback.info.source} instead"
                fell_back[draft.unit] = draft
        report.model_calls += fallback_report.model_calls
    usage.fallback += len(fell_back)
    drafts = []
    for unit in planned.units:
        if unit.id in memory:
            remembered, name = memory[unit.id]
            drafts.append(Draft(unit.id, target, remembered, "memory", name))
            report.counts["memory"] += 1
            continue
        key = planned.keys.get(unit.id)
        if key is None:
            drafts.append(Draft(unit.id, target, unit.text, "carried"))
            report.counts["carried"] += 1
            continue
        if unit.id in fell_back:
            drafts.append(fell_back[unit.id])
            report.counts["machine"] += 1
            continue
        if unit.id in problems:
            drafts.append(Draft(unit.id, target, "", "machine", problem=f"the language model's answer was refused: {problems[unit.id]}"))
            usage.left += 1
            continue
        origin = "machine" if key in drafted else "cache"
        text = drafted.get(key) or planned.found[key]
        drafts.append(Draft(unit.id, target, finish(text, target, digits=options.digits), origin))
        report.counts[origin] += 1
        for _term, rendering in binder.applied(unit.text):
            report.term_uses += 1
    report.segments_drafted = len(drafted)
    report.seconds = time.perf_counter() - started
    return drafts, report


def _ask(engine: LLMEngine, request: Request, brief: str, binder: TermBinder, others, usage: Usage) -> Checked:
    """One request, checked; asked again once with the reasons when the answer is refused. A
    sentence that passed either time is kept."""
    messages = messages_for(request, engine.settings, brief)
    numbers = list(request.segments)
    accepted: dict[str, str] = {}
    checked = None
    for attempt in (1, 2):
        if engine.halted.is_set():  # another request met a refusal that stops the run
            return Checked(accepted, {n: "not asked: the run stopped" for n in numbers if n not in accepted})
        try:
            answer = engine.client.complete(messages, numbers)
        except LLMError as exc:
            if exc.fatal:
                engine.halted.set()
                raise
            return Checked(accepted, {n: str(exc) for n in numbers if n not in accepted})
        finally:
            with engine.client.lock:
                usage.requests = engine.client.requests
        with engine.client.lock:
            usage.prompt_tokens += answer.prompt_tokens
            usage.completion_tokens += answer.completion_tokens
            usage.cost = engine.settings.cost(usage.prompt_tokens, usage.completion_tokens)
        checked = verify(request, answer.content, terms=binder, others=others)
        accepted.update(checked.accepted)
        if not checked.problems or attempt == 2:
            break
        with engine.client.lock:
            usage.refused += 1
        messages = messages + [
            {"role": "assistant", "content": answer.content},
            {"role": "user", "content": f"That answer was refused: {checked.reason()}. Answer again with one JSON object mapping "
                                        f"each of the segment numbers {', '.join(numbers)} to its full translation, and nothing else."},
        ]
    return Checked(accepted, {n: why for n, why in checked.problems.items() if n not in accepted})
