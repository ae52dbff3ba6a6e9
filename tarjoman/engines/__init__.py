"""Machine-translation engines. Back-ends are imported only when asked for.

    >>> engine = load_engine("models/nllb-tiny", backend="transformers")
    >>> engine.translate(["سلام"], "fa", "en")
"""

from __future__ import annotations

import threading

from ..errors import EngineError
from .base import DEFAULT_MODEL, Engine, GenerationSettings, ModelInfo

BACKENDS = ("transformers", "ctranslate2")
_ENGINES: dict[tuple, Engine] = {}
_LOCK = threading.Lock()

__all__ = ["BACKENDS", "DEFAULT_MODEL", "Engine", "GenerationSettings", "ModelInfo", "check_model_targets", "load_engine"]


def load_engine(model: str = DEFAULT_MODEL, *, backend: str = "transformers", settings: GenerationSettings | None = None, device: str | None = None) -> Engine:
    """The engine for a model and back-end, created once per process and reused."""
    settings = settings or GenerationSettings()
    key = (model, backend, settings, device)
    with _LOCK:  # tasks on threads ask at once: the model is still loaded once
        if key not in _ENGINES:
            _ENGINES[key] = _create(model, backend, settings, device)
        return _ENGINES[key]


def check_model_targets(model: str, targets) -> None:
    """Refuse a target a local model folder cannot write, from its JSON files alone: before
    transformers is imported or anything is loaded. (A hub ID is checked once its tokenizer is.)"""
    from ..languages import model_code
    from .base import folder_languages, local_folder

    folder = local_folder(model)
    found = folder_languages(folder) if folder is not None and folder.is_dir() else None
    if found:
        family, languages = found
        for target in targets:
            model_code(family, target, languages, model=model)


def _create(model: str, backend: str, settings: GenerationSettings, device: str | None) -> Engine:
    if backend == "transformers":
        from .hf import TransformersEngine as cls
    elif backend == "ctranslate2":
        from .ct2 import CTranslate2Engine as cls
    else:
        raise EngineError(f"unknown back-end {backend!r}; choose {' or '.join(BACKENDS)}")
    return cls(model, settings, device)
