"""The CTranslate2 back-end: the same models, converted on first use (int8 on CPU, float16 on GPU).

Tokenisation stays with the model's own transformers tokenizer; only the
network runs in CTranslate2. Converted models live in a cache folder
(``$TARJOMAN_CACHE``, default ``~/.cache/tarjoman``), keyed by the model's revision.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

from ..errors import EngineError
from ..files import cache_root
from .base import Engine, GenerationSettings, cpu_threads, language_code, one_line
from .hf import inspect_model, length_sorted_batches, load_tokenizer

_TRANSLATORS: dict[tuple[str, str, str], object] = {}
_LOCK = threading.Lock()


def _discard(folder: Path) -> None:
    """Move a damaged conversion aside (a process still reading it keeps its files) and delete it."""
    aside = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".damaged-"))
    try:
        os.replace(folder, aside / "model")
    except OSError:
        pass  # already gone: another process discarded it
    shutil.rmtree(aside, ignore_errors=True)


class CTranslate2Engine(Engine):
    backend = "ctranslate2"

    def __init__(self, model: str, settings: GenerationSettings | None = None, device: str | None = None):
        try:
            import ctranslate2
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise EngineError("the ctranslate2 back-end needs the ctranslate2 package (pip install ctranslate2)") from exc
        info = inspect_model(model, defer_tokenizer=True)
        if info.family == "marian":
            raise EngineError("the ctranslate2 back-end takes one model for all pairs (NLLB, M2M100, mBART-50); use --backend transformers for Marian pairs", path=model)
        super().__init__(info, settings or GenerationSettings())
        self.device = device or ("cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu")
        self.compute_type = "float16" if self.device == "cuda" else "int8"
        self.folder = self._converted()
        # The converted model is loaded (and a damaged conversion in the cache redone) before the
        # first sentence that needs it: a draft whose every sentence is cached never loads it.

    @property
    def signature(self) -> dict:
        return {**super().signature, "compute_type": self.compute_type}

    def _converted(self) -> Path:
        key = hashlib.sha256(f"{self.info.source}|{self.info.revision}|{self.compute_type}".encode()).hexdigest()[:16]
        target = cache_root() / "ct2" / f"{Path(self.info.source).name}-{self.compute_type}-{key}"
        if (target / "model.bin").is_file():
            return target
        from ctranslate2.converters import TransformersConverter

        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
        try:
            TransformersConverter(self.info.path, load_as_float16=False).convert(str(scratch / "model"), quantization=self.compute_type, force=True)
            try:
                os.replace(scratch / "model", target)
            except OSError:
                if not (target / "model.bin").is_file():  # else another process converted it first
                    raise
        except Exception as exc:
            raise EngineError(f"cannot be converted for CTranslate2 ({type(exc).__name__}: {one_line(exc)})", path=self.info.source) from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return target

    def _translator(self):
        """The loaded CTranslate2 model. One that cannot be loaded from the cache (cut short, a file
        missing) is converted again once; if that cannot be loaded either, it is reported."""
        key = (str(self.folder), self.device, self.compute_type)
        with _LOCK:
            if key not in _TRANSLATORS:
                try:
                    _TRANSLATORS[key] = self._load_translator()
                except (RuntimeError, ValueError, OSError):
                    _discard(self.folder)
                    self.folder = self._converted()
                    try:
                        _TRANSLATORS[key] = self._load_translator()
                    except (RuntimeError, ValueError, OSError) as exc:
                        raise EngineError(
                            f"the model converted for CTranslate2 cannot be loaded, even converted again ({one_line(exc)}); use --backend transformers",
                            path=self.folder / "model.bin",
                        ) from exc
            return _TRANSLATORS[key]

    def _load_translator(self):
        import ctranslate2

        return ctranslate2.Translator(
            str(self.folder), device=self.device, compute_type=self.compute_type,
            intra_threads=cpu_threads() if self.device == "cpu" else 0,
        )

    def count_tokens(self, text: str, source: str) -> int:
        self.ready()
        tokenizer = load_tokenizer(self.info.path)
        tokenizer.src_lang = language_code(self.info, source)
        return len(tokenizer(text)["input_ids"])

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if not texts:
            return []
        self.ready()
        tokenizer = load_tokenizer(self.info.path)
        tokenizer.src_lang = language_code(self.info, source)
        encoded = tokenizer(texts, truncation=True, max_length=1024)["input_ids"]
        tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in encoded]
        code = language_code(self.info, target)
        prefix = f"__{code}__" if self.info.family == "m2m100" else code
        translator = self._translator()
        results: list[str | None] = [None] * len(texts)
        for batch in length_sorted_batches([len(t) for t in tokens], self.settings):
            longest = max(len(tokens[i]) for i in batch)
            output = translator.translate_batch(
                [tokens[i] for i in batch],
                target_prefix=[[prefix]] * len(batch),
                beam_size=self.settings.num_beams,
                max_decoding_length=self.settings.length_limit(longest) + 1,
                min_decoding_length=(self.settings.min_new_tokens + 1) if self.settings.min_new_tokens else 0,
                no_repeat_ngram_size=self.settings.no_repeat_ngram_size,
                repetition_penalty=self.settings.repetition_penalty,
                max_batch_size=self.settings.max_batch,
            )
            self.calls += 1
            for index, result in zip(batch, output):
                hypothesis = result.hypotheses[0][1:]  # drop the forced language token
                ids = tokenizer.convert_tokens_to_ids(hypothesis)
                results[index] = tokenizer.decode(ids, skip_special_tokens=True).strip()
        self.segments_translated += len(texts)
        return results  # type: ignore[return-value]
