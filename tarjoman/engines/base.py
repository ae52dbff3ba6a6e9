"""What every translation engine offers, and the settings it generates with."""

from __future__ import annotations

import json
import os
import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import __version__
from ..errors import EngineError
from ..languages import SOURCE, language, model_code, model_languages

DEFAULT_MODEL = "facebook/nllb-200-distilled-600M"


@dataclass(frozen=True)
class GenerationSettings:
    """How drafts are generated; recorded in every draft's signature.

    The output may be at most ``max_ratio`` × the source tokens + ``max_extra``
    (capped at ``max_new_tokens``); ``no_repeat_ngram_size`` and
    ``repetition_penalty`` guard against the repetition loops NLLB falls into.
    ``min_new_tokens`` exists for benchmarks that must force one output length.
    """

    num_beams: int = 4
    max_ratio: float = 2.0
    max_extra: int = 16
    max_new_tokens: int = 256
    min_new_tokens: int = 0
    no_repeat_ngram_size: int = 4
    repetition_penalty: float = 1.0
    batch_tokens: int = 4096  # padded source tokens per batch
    max_batch: int = 64

    def length_limit(self, source_tokens: int) -> int:
        limit = int(source_tokens * self.max_ratio) + self.max_extra
        return max(self.min_new_tokens, min(self.max_new_tokens, limit))


@dataclass(frozen=True)
class ModelInfo:
    """A model as found on disk or named on the hub: where, which family, which revision."""

    source: str  # the folder or hub ID the user gave
    path: str  # the folder loaded from (the hub cache folder for hub IDs)
    family: str  # nllb, m2m100, mbart50, marian
    model_type: str
    revision: str  # hub commit, or a content hash of the folder's weights
    # Canonical language code → the model's code for it, from the tokenizer's language tokens
    # (empty for Marian, whose languages are its pair folders).
    languages: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # False while the tokenizer has not been loaded and found to be the model's own (a local
    # folder described from its JSON files alone: see Engine.ready).
    tokenizer_checked: bool = field(default=True, compare=False, hash=False)


class Engine(ABC):
    """Translate batches of segments. One instance per (model, back-end, settings); it is
    expensive to create, so callers keep it for the life of the process."""

    backend = ""

    def __init__(self, info: ModelInfo, settings: GenerationSettings):
        self.info = info
        self.settings = settings
        self.calls = 0  # generate() calls made, for "never twice" checks
        self.segments_translated = 0
        self.lock = threading.Lock()
        self._ready_lock = threading.Lock()

    @property
    def signature(self) -> dict:
        """What made a draft: recorded beside it, and part of the cache key."""
        return {
            "model": self.info.source,
            "family": self.info.family,
            "revision": self.info.revision,
            "backend": self.backend,
            "settings": asdict(self.settings),
            "tarjoman": __version__,
        }

    def signature_text(self) -> str:
        s = self.signature
        return f"{s['model']}@{s['revision'][:12]}|{s['backend']}|beams:{self.settings.num_beams}|tarjoman:{s['tarjoman']}"

    def cache_identity(self) -> str:
        """The signature without the tarjoman version: upgrading Tarjoman does not invalidate drafts."""
        s = dict(self.signature)
        s.pop("tarjoman")
        return json.dumps(s, sort_keys=True)

    def check_targets(self, targets) -> None:
        """Refuse a target this model cannot write, naming the nearest codes it can."""
        check_targets(self.info, targets)

    def ready(self) -> None:
        """Load and check what a model described from its files alone has not loaded yet (its
        tokenizer), before its first sentence; the model's identity (its cache key) stays as it was."""
        if self.info.tokenizer_checked:
            return
        from .hf import check_tokenizer

        with self._ready_lock:  # not self.lock: callers may hold it around translate()
            if not self.info.tokenizer_checked:
                checked = check_tokenizer(self.info)
                if checked.family != self.info.family:
                    raise EngineError(f"its tokenizer is of the {checked.family} family, its files say {self.info.family}", path=self.info.source)
                self.info = checked

    @abstractmethod
    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """Translate ``texts`` from ``source`` to ``target`` (ISO codes); same order, same length."""

    @abstractmethod
    def count_tokens(self, text: str, source: str) -> int:
        """Source tokens the model sees for ``text``."""


def language_code(info: ModelInfo, lang: str) -> str:
    """What the model calls ``lang`` where its tokenizer and ``generate()`` want it: NLLB
    ``pes_Arab``, mBART-50 ``fa_IR``, M2M100 ``fa`` (its token is ``__fa__``), Marian ``fa``."""
    if info.family == "marian":
        return language(lang).subtag
    code = model_code(info.family, lang, info.languages, model=info.source)
    return code.strip("_") if info.family == "m2m100" else code


def check_targets(info: ModelInfo, targets) -> None:
    """Refuse, before anything is drafted, a target the model cannot write (naming the nearest it can)."""
    if info.family == "marian" or not info.languages:
        return
    for target in targets:
        model_code(info.family, target, info.languages, model=info.source)


def cpu_threads() -> int:
    """Threads for CPU inference: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def family_languages(info: ModelInfo, vocabulary: set[str] | None) -> dict[str, str]:
    """The languages the tokenizer has codes for; a tokenizer without the source's (Persian) code
    is refused: the model could not be told what it reads, nor any target what to write."""
    if vocabulary is None or info.family == "marian":
        return {}
    languages = model_languages(info.family, vocabulary)
    if SOURCE not in languages:
        raise EngineError(
            f"the tokenizer lacks the language codes of Persian{' and of every other language' if not languages else ''}; "
            "it cannot say which language to read or write",
            path=info.source,
        )
    return languages


def folder_languages(folder: Path) -> tuple[str, dict[str, str]] | None:
    """(family, languages) read from a model folder's JSON files alone, without loading the
    tokenizer or transformers: for refusing a target before minutes of model loading. None when
    the folder does not say (a Marian pair template, a tokenizer with its codes elsewhere)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8")) if (folder / "tokenizer_config.json").is_file() else {}
    except (OSError, ValueError):
        return None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    tokenizer_class = str(tokenizer_config.get("tokenizer_class", "")) if isinstance(tokenizer_config, dict) else ""
    family = "nllb" if "Nllb" in tokenizer_class else {"m2m_100": "m2m100", "mbart": "mbart50"}.get(model_type or "")
    if family is None:
        return None
    tokens: set[str] = set()
    try:
        if (folder / "tokenizer.json").is_file():
            tokens |= {t.get("content", "") for t in json.loads((folder / "tokenizer.json").read_text(encoding="utf-8")).get("added_tokens", [])}
        for key in ("extra_special_tokens", "additional_special_tokens"):
            value = tokenizer_config.get(key)
            if isinstance(value, str) and value.startswith("["):
                import ast

                value = ast.literal_eval(value)
            if isinstance(value, (list, dict)):
                tokens |= {str(t) for t in value}
    except (OSError, ValueError, SyntaxError, AttributeError):
        return None
    languages = model_languages(family, tokens)
    return (family, languages) if SOURCE in languages else None


def local_folder(model: str) -> Path | None:
    path = Path(model).expanduser()
    return path if path.exists() or model.startswith((".", "/", "~")) else None


def one_line(exc: BaseException) -> str:
    """The first line of a library's message (torch's run to a dozen lines), for a one-line error."""
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
