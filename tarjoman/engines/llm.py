"""Drafting with a large language model behind any OpenAI-compatible chat-completions server:
Ollama, llama.cpp's server, vLLM, LM Studio, ``transformers serve`` or a hosted API.

A request is a few consecutive paragraphs (up to a budget of source tokens) with the paragraphs
before them, in Persian and as translated so far, a short brief of the book, and the approved
glossary terms and memory matches that occur in them. The segments to translate are numbered
within the request; the answer is one JSON object mapping those numbers to translations (the
server's JSON-schema output is asked for where it has one). Every answer is checked by
:func:`verify` before anything is kept.

The API key comes from ``$TARJOMAN_LLM_API_KEY`` (or ``$OPENAI_API_KEY``) and goes only into the
``Authorization`` header: never into a signature, a log line, an error message or a file.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from .. import __version__
from ..errors import EngineError, ProjectError
from ..languages import SOURCE, language

API_KEY_VARIABLES = ("TARJOMAN_LLM_API_KEY", "OPENAI_API_KEY")
PROMPT_VERSION = "1"  # the layout of the user message; part of the prompt's hash


def api_key() -> str | None:
    """The key the server is sent, from the environment only."""
    for name in API_KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True)
class LLMSettings:
    """How the LLM engine asks. ``base_url`` is the base an OpenAI client takes
    (``http://localhost:11434/v1`` for Ollama); prices are per million tokens."""

    base_url: str = ""
    model: str = ""
    temperature: float = 0.0
    seed: int | None = 0
    concurrency: int = 4
    timeout: float = 120.0  # seconds for one request (connect, each read)
    unit_tokens: int = 300  # source tokens (estimated) per request, at least one paragraph
    context: int = 2  # paragraphs before each request, with their translations so far
    attempts: int = 5  # per request, for 429, 5xx, timeouts and dropped connections
    max_wait: float = 60.0  # the longest Retry-After or back-off honoured
    stream: bool = False
    structured: bool = True  # ask for JSON-schema output (response_format)
    max_tokens: int = 4096
    price_input: float | None = None
    price_output: float | None = None
    prompt: str = ""  # a system-prompt template of one's own ({source}, {target}, {brief}); "" the built-in one
    fallback_model: str = ""  # the NMT model for sentences whose answer is refused twice (not part of the signature)

    KEYS = ("base_url", "model", "temperature", "seed", "concurrency", "timeout", "unit_tokens", "context", "attempts",
            "max_wait", "stream", "structured", "max_tokens", "price_input", "price_output", "prompt_file", "fallback_model")

    def merged(self, values: dict, *, where: str = "", path=None) -> "LLMSettings":
        """These settings with ``values`` (a YAML ``llm:`` mapping or CLI options) over them, each checked."""
        if not isinstance(values, dict):
            raise ProjectError("llm: must be a mapping (llm: {base_url: …, model: …})", path=path, where=where or "llm")
        changes: dict[str, Any] = {}
        kinds = {f.name: f.type for f in fields(self)}
        for key, value in values.items():
            if value is None:
                continue
            name = str(key).replace("-", "_")
            if name not in self.KEYS:
                raise ProjectError(f"llm: unknown key {key!r}; the keys are {', '.join(self.KEYS)}", path=path, where=where or "llm")
            if name == "prompt_file":
                changes["prompt"] = _read_prompt(value, path)
                continue
            changes[name] = _checked(name, value, kinds[name], path, where or f"llm.{name}")
        return replace(self, **changes)

    @property
    def server(self) -> str:
        """The base URL without credentials, query or fragment: what signatures and messages name."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        netloc = host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))

    def check(self) -> None:
        parts = urlsplit(self.base_url)
        if not self.base_url:
            raise ProjectError("the LLM engine needs the server's base URL: --base-url http://localhost:11434/v1 (or llm: base_url: in the book's YAML)")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProjectError(f"--base-url {self.server or self.base_url!r} is not an http(s) URL such as http://localhost:11434/v1")
        if not self.model:
            raise ProjectError("the LLM engine needs a model name: --llm-model NAME (or llm: model: in the book's YAML)")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if self.price_input is None and self.price_output is None:
            return None
        return (prompt_tokens * (self.price_input or 0.0) + completion_tokens * (self.price_output or 0.0)) / 1e6


def _checked(name: str, value, kind: str, path, where: str):
    kind = str(kind)
    try:
        if "bool" in kind:
            if not isinstance(value, bool):
                raise ValueError
            return value
        if name in ("base_url", "model", "fallback_model"):
            if not isinstance(value, str) or not value.strip():
                raise ValueError
            return value.strip()
        if name == "seed":
            return None if value in ("none", "") else int(value)
        if "int" in kind and "float" not in kind:
            number = int(value)
            if number < (0 if name == "context" else 1) or isinstance(value, bool):
                raise ValueError
            return number
        number = float(value)
        if number < 0 or (name == "temperature" and number > 2):
            raise ValueError
        return number
    except (TypeError, ValueError):
        raise ProjectError(f"llm: {name} cannot be {value!r}", path=path, where=where) from None


def project_llm(root) -> dict:
    """The ``llm:`` mapping of the project's ``tarjoman.yaml`` (settings for every book), or {}."""
    from pathlib import Path

    from ..manuscript import read_metadata_file

    path = Path(root) / "tarjoman.yaml"
    if not path.is_file():
        return {}
    values = read_metadata_file(path).get("llm") or {}
    return values


def checked_mapping(values, path) -> dict:
    """A YAML ``llm:`` mapping, checked (a wrong key or value is refused naming the file), with
    ``prompt_file`` made absolute so the book's draft finds it wherever it runs."""
    from pathlib import Path

    LLMSettings().merged(values, where="llm", path=path)
    values = dict(values)
    if values.get("prompt_file") and path is not None:
        file = Path(str(values["prompt_file"])).expanduser()
        values["prompt_file"] = str(file if file.is_absolute() else (Path(path).parent / file).resolve())
    return values


def _read_prompt(value, path) -> str:
    from pathlib import Path

    file = Path(str(value)).expanduser()
    if not file.is_absolute() and path is not None:
        file = Path(path).parent / file
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"llm: prompt_file cannot be read ({exc.__class__.__name__})", path=file) from None
    for name in re.findall(r"\{(\w*)\}", text):
        if name not in ("source", "target", "brief"):
            raise ProjectError(f"llm: the prompt may name {{source}}, {{target}} and {{brief}}, not {{{name}}}", path=file)
    return text


SYSTEM_PROMPT = """You are translating a memoir from {source} into {target} for publication.
{brief}
The user sends one JSON object. "segments" maps numbers to the {source} sentences to translate. "context" holds the paragraphs just before them, with their {target} translation where there is one: read it to resolve pronouns, names and tone, but do not translate it. "glossary" gives approved renderings that must be used exactly. "memory" gives approved translations of similar sentences.
Translate every segment completely and faithfully into {target}, in the register of the book. Keep every number, name and quotation; keep line breaks within a segment.
Answer with one JSON object and nothing else: each segment's number as the key, its {target} translation as the value."""


def prompt_template(settings: LLMSettings) -> str:
    return settings.prompt or SYSTEM_PROMPT


def prompt_hash(settings: LLMSettings) -> str:
    return hashlib.sha256((PROMPT_VERSION + "\x00" + prompt_template(settings)).encode("utf-8")).hexdigest()


@dataclass
class Request:
    """One question to the server: numbered segments (number → unit ID and source) and what goes with them."""

    target: str
    segments: dict[str, tuple[str, str]]  # "1" → (unit id, source text)
    context: list[dict[str, str]] = field(default_factory=list)
    glossary: dict[str, str] = field(default_factory=dict)
    memory: list[dict[str, Any]] = field(default_factory=list)

    def user_content(self) -> str:
        body: dict[str, Any] = {}
        if self.context:
            body["context"] = self.context
        if self.glossary:
            body["glossary"] = self.glossary
        if self.memory:
            body["memory"] = self.memory
        body["segments"] = {number: text for number, (_, text) in self.segments.items()}
        return json.dumps(body, ensure_ascii=False)


def brief_text(metadata: dict, settings: LLMSettings | None = None) -> str:
    """The book brief from its metadata: title, author, and the YAML's ``brief:`` (period, register, notes)."""
    lines = []
    if metadata.get("title"):
        lines.append(f"The book: «{metadata['title']}»" + (f", {metadata['subtitle']}" if metadata.get("subtitle") else "") + ".")
    if metadata.get("author"):
        lines.append(f"Its author: {metadata['author']}.")
    brief = metadata.get("brief")
    if isinstance(brief, str) and brief.strip():
        lines.append(brief.strip())
    elif isinstance(brief, dict):
        for key in ("period", "register", "voice", "notes"):
            if brief.get(key):
                lines.append(f"{key.capitalize()}: {str(brief[key]).strip()}")
    return "\n".join(lines)


def messages_for(request: Request, settings: LLMSettings, brief: str) -> list[dict[str, str]]:
    target = language(request.target)
    system = prompt_template(settings).format(source=language(SOURCE).name, target=target.name, brief=brief)
    return [{"role": "system", "content": system}, {"role": "user", "content": request.user_content()}]


def answer_schema(numbers: list[str]) -> dict:
    return {"type": "object", "properties": {n: {"type": "string"} for n in numbers}, "required": list(numbers), "additionalProperties": False}


# --- the HTTP client -------------------------------------------------------------------------------


class LLMError(EngineError):
    """The server could not be asked: out of attempts (the request's sentences fall back), or
    ``fatal``: refused in a way asking again cannot mend (a wrong key, no such model), which stops the run."""

    def __init__(self, message: str, *, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


@dataclass
class Answer:
    content: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    attempts: int = 1


Sleep = Callable[[float], None]


class LLMClient:
    """Chat completions over one pooled HTTP client, shared by the worker threads.

    429 and 503 are retried after ``Retry-After`` (capped at ``max_wait``), other 5xx, timeouts
    and dropped connections after an exponential back-off with jitter, ``attempts`` times in
    all; a field the server refuses (``response_format``, ``seed``, ``stream_options``) is left
    out from then on."""

    OPTIONAL = ("response_format", "seed", "stream_options")

    def __init__(self, settings: LLMSettings, *, sleep: Sleep = time.sleep):
        import httpx

        self.settings = settings
        self._httpx = httpx
        headers = {"Content-Type": "application/json"}
        key = api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.client = httpx.Client(base_url=settings.base_url.rstrip("/") + "/", headers=headers,
                                   timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 30.0)),
                                   limits=httpx.Limits(max_connections=max(1, settings.concurrency), max_keepalive_connections=max(1, settings.concurrency)))
        self.sleep = sleep
        self.dropped: set[str] = set()
        self.lock = threading.Lock()
        self.requests = 0  # HTTP requests sent, retries included

    def close(self) -> None:
        self.client.close()

    def body(self, messages: list[dict], numbers: list[str]) -> dict:
        s = self.settings
        body: dict[str, Any] = {"model": s.model, "messages": messages, "temperature": s.temperature, "max_tokens": s.max_tokens}
        if s.seed is not None:
            body["seed"] = s.seed
        if s.structured:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "translations", "strict": True, "schema": answer_schema(numbers)}}
        if s.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        for name in self.dropped:
            body.pop(name, None)
        return body

    def complete(self, messages: list[dict], numbers: list[str]) -> Answer:
        httpx = self._httpx
        started = time.perf_counter()
        last = ""
        attempt = 0
        while attempt < self.settings.attempts:
            attempt += 1
            body = self.body(messages, numbers)
            wait = None
            with self.lock:
                self.requests += 1
            try:
                if body.get("stream"):
                    answer = self._stream(body)
                else:
                    response = self.client.post("chat/completions", json=body)
                    if response.status_code == 200:
                        answer = self._parse(response)
                    else:
                        answer, wait, last = None, *self._refusal(response, body)
                if answer is not None:
                    answer.seconds, answer.attempts = time.perf_counter() - started, attempt
                    return answer
            except _Refused as refused:
                wait, last = refused.wait, refused.reason
            except httpx.TimeoutException:
                last = f"no answer within {self.settings.timeout:g} s"
            except httpx.TransportError as exc:
                last = f"the connection failed ({exc.__class__.__name__})"
            if wait == -1:  # a field was left out: ask again at once, not counted as an attempt
                attempt -= 1
                continue
            if attempt < self.settings.attempts:
                self.sleep(min(self.settings.max_wait, wait if wait is not None else (2 ** (attempt - 1)) * (0.5 + random.random() / 2)))
        raise LLMError(f"the server at {self.settings.server} did not answer after {self.settings.attempts} attempts: {last}")

    def _refusal(self, response, body) -> tuple[float | None, str]:
        """(seconds to wait, or -1 to ask again at once; the reason) for a non-200 answer; raises for one not worth retrying."""
        status = response.status_code
        detail = _detail(response)
        if status in (400, 422):
            for name in self.OPTIONAL:
                if name in body and name not in self.dropped and (name in detail or (status == 422 and name != "response_format")):
                    with self.lock:
                        self.dropped.add(name)
                    return -1, f"{status}: {detail}"
        if status == 429 or status == 503:
            return _retry_after(response.headers.get("retry-after")), f"{status} {'too many requests' if status == 429 else 'unavailable'}"
        if status >= 500:
            return None, f"{status}: {detail}"
        if status in (400, 413, 422):  # this request (too long for the model's context, say), not the run
            raise LLMError(f"the server at {self.settings.server} refused this request ({status}: {detail})")
        if status in (401, 403):
            raise LLMError(f"the server at {self.settings.server} refused the key ({status}: {detail}); set $TARJOMAN_LLM_API_KEY", fatal=True)
        if status == 404:
            raise LLMError(f"the server at {self.settings.server} has no chat completions or no model {self.settings.model!r} (404: {detail})", fatal=True)
        raise LLMError(f"the server at {self.settings.server} refused the request ({status}: {detail})", fatal=True)

    def _parse(self, response) -> Answer | None:
        try:
            data = response.json()
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Refused(None, "the server's answer is not a chat completion") from None
        usage = data.get("usage") or {}
        return Answer(content or "", int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))

    def _stream(self, body) -> Answer | None:
        pieces, usage = [], {}
        with self.client.stream("POST", "chat/completions", json=body) as response:
            if response.status_code != 200:
                response.read()
                wait, reason = self._refusal(response, body)
                raise _Refused(wait, reason)
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except ValueError:
                    raise _Refused(None, "the server streamed a line that is not JSON") from None
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        pieces.append(delta)
        return Answer("".join(pieces), int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))


class _Refused(Exception):
    def __init__(self, wait: float | None, reason: str):
        super().__init__(reason)
        self.wait, self.reason = wait, reason


def _detail(response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return str(error.get("message", error))[:300]
        return str(error or data.get("detail") or data)[:300]
    return str(data)[:300]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


# --- checking an answer ----------------------------------------------------------------------------


class AnswerError(ValueError):
    """The answer as a whole cannot be read back to the segments."""


_FENCE = re.compile(r"^```[a-zA-Z]*\s*(.*?)\s*```$", re.S)
_COMMENTARY = re.compile(
    r"^\s*(here(?:'s| is| are)\b|sure\b|certainly\b|of course\b|translation\s*:|translated\s*:|note\s*:|as an ai\b|i (?:cannot|can't|am unable)\b"
    r"|voici\b|traduction\s*:|la traduction\b|الترجمة\s*:|إليك|ترجمه\s*:|ترجمہ\s*:)", re.I)
_MARKERS = re.compile(r"[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]|\[\d+\]|\[[۰-۹]+\]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def parse_answer(content: str, numbers: list[str]) -> dict[str, Any]:
    """The answer's number → value mapping; :class:`AnswerError` with the reason when it is not one JSON object."""
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0:
        raise AnswerError(f"the answer is not a JSON object: «{_clip(text) or 'nothing'}»")
    if end < start:
        end = len(text) - 1  # cut short: json says where
    outside = (text[:start] + " " + text[end + 1:]).strip()
    if outside:
        raise AnswerError(f"commentary around the JSON: «{_clip(outside)}»")
    seen: list[str] = []

    def pairs(items):
        for key, _ in items:
            if key in seen and key in numbers:
                raise AnswerError(f"segment {key} is answered twice")
            seen.append(key)
        return dict(items)

    try:
        data = json.loads(text[start:end + 1], object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise AnswerError(f"the answer is not valid JSON ({exc.msg} at character {exc.pos})") from None
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), dict) and next(iter(data)) not in numbers:
        data = next(iter(data.values()))  # {"translations": {"1": …}}
    if not isinstance(data, dict):
        raise AnswerError("the answer is not a JSON object of numbered translations")
    return data


@dataclass(frozen=True)
class Checked:
    accepted: dict[str, str]  # number → translation that passed every check
    problems: dict[str, str]  # number → why it was refused

    def reason(self) -> str:
        if len(self.problems) > 1 and len(set(self.problems.values())) == 1:
            return next(iter(self.problems.values()))
        return "; ".join(f"segment {n}: {why}" for n, why in sorted(self.problems.items(), key=lambda item: int(item[0]) if item[0].isdigit() else 0))


def verify(request: Request, content: str, *, terms=None, others: tuple[str, ...] | None = None) -> Checked:
    """Check an answer before anything is kept: each segment answered once and only once, in
    the target language and script, with the source's numbers and note markers, the approved
    glossary renderings, a plausible length, and no commentary. ``terms`` is the target's
    :class:`~tarjoman.glossary.terms.TermBinder`."""
    numbers = list(request.segments)
    try:
        data = parse_answer(content, numbers)
    except AnswerError as exc:
        return Checked({}, {n: str(exc) for n in numbers})
    problems: dict[str, str] = {}
    extra = [k for k in data if k not in request.segments]
    if extra:
        reason = f"the answer has segments that were not asked for ({', '.join(map(str, extra[:5]))})"
        return Checked({}, {n: reason for n in numbers})
    accepted = {}
    for number in numbers:
        if number not in data:
            problems[number] = "not answered"
            continue
        value = data[number]
        if not isinstance(value, str):
            problems[number] = "the answer is not text"
            continue
        why = check_translation(request.segments[number][1], value.strip(), request.target, terms=terms, others=others)
        if why:
            problems[number] = why
        else:
            accepted[number] = value.strip()
    return Checked(accepted, problems)


def check_translation(source: str, text: str, lang: str, *, terms=None, others: tuple[str, ...] | None = None) -> str | None:
    """Why ``text`` cannot be kept as the machine's ``lang`` draft of ``source``, or None.
    ``others``: the languages it may be caught in instead (default the four first targets)."""
    from ..glossary.terms import is_rendered
    from ..qa import DEFAULT_BOUNDS, LENGTH_BOUNDS, UNSPACED_BOUNDS, numbers

    if not text:
        return "no translation"
    if _COMMENTARY.search(text):
        return f"commentary instead of a translation: «{_clip(text)}»"
    target = language(lang)
    script = target_share(text, target.script)
    if script is not None and script < 0.5:
        return f"not in the {target.name} script ({script:.0%} of its letters are)"
    if text == source.strip() and _LETTER.search(source):
        return "the source itself, not a translation"
    from ..langid import knows, wrong_language

    if knows(lang):
        from ..languages import TARGETS

        candidates = TARGETS if others is None else others
        reason = wrong_language(text, lang, source_lang=SOURCE, others=[o for o in candidates if o != lang and knows(o)])
        if reason:
            return reason
    want, got = numbers(source), numbers(text)
    if want != got:
        lost = sorted((want - got).elements())
        added = sorted((got - want).elements())
        return "; ".join(([f"{', '.join(lost)} lost"] if lost else []) + ([f"{', '.join(added)} added"] if added else [])) + " (numbers)"
    source_marks, marks = Counter(_MARKERS.findall(source.translate(_TO_LATIN))), Counter(_MARKERS.findall(text.translate(_TO_LATIN)))
    if source_marks != marks:
        return f"note markers {' '.join(sorted(source_marks.elements())) or 'none'} in the source, {' '.join(sorted(marks.elements())) or 'none'} in the answer"
    if source.count("\n") != text.count("\n"):
        return f"{source.count(chr(10)) + 1} lines in the source, {text.count(chr(10)) + 1} in the answer"
    if terms is not None:
        for term, rendering in terms.applied(source):
            if not is_rendered(rendering, text, lang):
                return f"the approved rendering «{rendering}» of «{term}» is missing"
    if len(source) >= 20:
        low, high = LENGTH_BOUNDS.get(lang) or (DEFAULT_BOUNDS if target.spaced else UNSPACED_BOUNDS)
        ratio = len(text) / len(source)
        if not low <= ratio <= high:
            return f"{ratio:.1f}× the length of the source (expected {low}–{high}×)"
    return None


_TO_LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_SCRIPT_ALIASES = {"Hans": "Hani", "Hant": "Hani", "Jpan": "Hani", "Kore": "Hang"}


def target_share(text: str, script: str) -> float | None:
    """The share of ``text``'s letters written in ``script`` (ISO 15924); None with too few letters to say."""
    import regex

    letters = regex.findall(r"\p{L}", text)
    if len(letters) < 4:
        return None
    code = _SCRIPT_ALIASES.get(script, script)
    if script == "Jpan":
        pattern = r"[\p{Script=Hani}\p{Script=Hira}\p{Script=Kana}]"
    elif script == "Kore":
        pattern = r"[\p{Script=Hang}\p{Script=Hani}]"
    else:
        try:
            pattern = rf"\p{{Script={code}}}"
            regex.compile(pattern)
        except regex.error:
            return None
    return len(regex.findall(pattern, "".join(letters))) / len(letters)


def _clip(text: str, size: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size - 1] + "…"


# --- the engine --------------------------------------------------------------------------------------


class LLMEngine:
    """The LLM back-end as the drafting code sees it: settings, signature, client."""

    backend = "llm"

    def __init__(self, settings: LLMSettings, *, sleep: Sleep = time.sleep):
        settings.check()
        self.settings = settings
        self.client = LLMClient(settings, sleep=sleep)
        self.halted = threading.Event()  # set by a refusal that stops the run (a wrong key): no more requests

    @property
    def signature(self) -> dict:
        s = self.settings
        return {"engine": "llm", "server": s.server, "model": s.model, "prompt": prompt_hash(s), "temperature": s.temperature,
                "seed": s.seed, "context": s.context, "tarjoman": __version__}

    def signature_text(self) -> str:
        s = self.settings
        return f"llm:{s.model}@{s.server}|prompt:{prompt_hash(s)[:12]}|temperature:{s.temperature:g}|seed:{s.seed}|tarjoman:{__version__}"

    def cache_identity(self) -> str:
        s = dict(self.signature)
        s.pop("tarjoman")
        return json.dumps(s, sort_keys=True)

    def close(self) -> None:
        self.client.close()
