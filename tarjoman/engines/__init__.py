"""Machine-translation engines. Back-ends are imported only when asked for.

    >>> engine = load_engine("models/nllb-tiny", backend="transformers")
    >>> engine.translate(["سلام"], "fa", "en")
"""

from __future__ import annotations

import threading

from ..errors import EngineError
from .base import DEFAULT_MODEL, Engine, GenerationSettings, ModelInfo

BACKENDS = ("auto", "transformers", "ctranslate2")
_ENGINES: dict[tuple, Engine] = {}
_LOCK = threading.Lock()

__all__ = ["BACKENDS", "DEFAULT_MODEL", "Engine", "GenerationSettings", "ModelInfo", "check_model_targets", "default_backend", "load_engine"]


def default_backend(model: str, device: str | None = None) -> str:
    """The back-end ``auto`` stands for with this model on this machine: CTranslate2 (int8) on a
    CPU, 4.3× the batched transformers loop a user writes and 3.3× Tarjoman's own transformers
    back-end on the same model (benchmarks/draft_speed.py); transformers (half precision) on a
    GPU, and for Marian pairs, which the CTranslate2 back-end does not take. Asked without
    importing torch: CTranslate2 says whether it sees a GPU."""
    if device is None:
        try:
            import ctranslate2
        except ImportError:
            return "transformers"
        on_gpu = ctranslate2.get_cuda_device_count() > 0
    else:
        on_gpu = device.startswith("cuda")
    if on_gpu or _is_marian(model):
        return "transformers"
    return "ctranslate2"


def _is_marian(model: str) -> bool:
    import json

    from .base import local_folder
    from .hf import marian_pairs

    if marian_pairs(model):
        return True
    folder = local_folder(model)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8")) if folder is not None else {}
    except (OSError, ValueError):
        return False  # the engine refuses it, naming the file
    return isinstance(config, dict) and config.get("model_type") == "marian"


def load_engine(model: str = DEFAULT_MODEL, *, backend: str = "transformers", settings: GenerationSettings | None = None, device: str | None = None) -> Engine:
    """The engine for a model and back-end (``auto``: :func:`default_backend`), created once per process and reused."""
    settings = settings or GenerationSettings()
    if backend == "auto":
        backend = default_backend(model, device)
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
        raise EngineError(f"unknown back-end {backend!r}; choose {', '.join(BACKENDS)}")
    return cls(model, settings, device)
