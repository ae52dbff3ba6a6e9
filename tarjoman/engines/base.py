"""What every translation engine offers, and the settings it generates with."""

from __future__ import annotations

import json
import os
import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import __version__
from ..errors import EngineError
from ..languages import LANGUAGES, Language

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

    @abstractmethod
    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """Translate ``texts`` from ``source`` to ``target`` (ISO codes); same order, same length."""

    @abstractmethod
    def count_tokens(self, text: str, source: str) -> int:
        """Source tokens the model sees for ``text``."""


def language_code(family: str, lang: Language) -> str:
    return {"nllb": lang.nllb, "m2m100": lang.m2m100, "mbart50": lang.mbart, "marian": lang.opus}[family]


def cpu_threads() -> int:
    """Threads for CPU inference: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def check_family_languages(info: ModelInfo, vocabulary: set[str] | None) -> None:
    """Refuse a tokenizer that lacks the language codes Tarjoman needs (wrong output language otherwise)."""
    if vocabulary is None or info.family == "marian":
        return
    needed = {language_code(info.family, lang) for lang in LANGUAGES.values()}
    if info.family == "m2m100":
        needed = {f"__{code}__" for code in needed}
    missing = sorted(needed - vocabulary)
    if missing:
        raise EngineError(
            f"the tokenizer lacks the language codes {', '.join(missing)}; it cannot say which language to write",
            path=info.source,
        )


def local_folder(model: str) -> Path | None:
    path = Path(model).expanduser()
    return path if path.exists() or model.startswith((".", "/", "~")) else None


def one_line(exc: BaseException) -> str:
    """The first line of a library's message (torch's run to a dozen lines), for a one-line error."""
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
