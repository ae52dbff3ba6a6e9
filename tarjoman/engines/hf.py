"""The transformers back-end (the only module that imports transformers and torch).

Serves NLLB-200 and M2M100 (one model, every language, language tokens),
mBART-50 many-to-many, and Marian/OPUS-MT (one model per pair, pivoting
through English where a pair is missing). A model is a local folder or a hub
ID; its family is recognised from its config and tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from ..errors import EngineError
from ..languages import language
from .base import Engine, GenerationSettings, ModelInfo, check_family_languages, cpu_threads, language_code, local_folder

SEQ2SEQ_TYPES = {"m2m_100": "m2m100", "mbart": "mbart50", "marian": "marian"}

# Loaded once per process: (path, device) → model, path → tokenizer.
_MODELS: dict[tuple[str, str], object] = {}
_TOKENIZERS: dict[str, object] = {}
_LOCK = threading.Lock()


def _folder_revision(folder: Path) -> str:
    """A content hash of the files that define a local model (names, sizes, and the small files whole)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode())
        digest.update(str(path.stat().st_size).encode())
        if path.stat().st_size < 4 * 1024 * 1024:
            digest.update(path.read_bytes())
        else:
            with open(path, "rb") as fh:
                digest.update(fh.read(1024 * 1024))
    return digest.hexdigest()


def load_tokenizer(path: str):
    with _LOCK:
        if path not in _TOKENIZERS:
            from transformers import AutoTokenizer

            try:
                _TOKENIZERS[path] = AutoTokenizer.from_pretrained(path)
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise EngineError(f"has no usable tokenizer ({exc})", path=path) from exc
        return _TOKENIZERS[path]


def inspect_model(model: str) -> ModelInfo:
    """Find a model and say what it is; refuse what is not a seq2seq translation model."""
    folder = local_folder(model)
    if folder is not None:
        if not folder.is_dir():
            raise EngineError("model folder not found", path=model)
        config_file = folder / "config.json"
        if not config_file.is_file():
            raise EngineError("is not a transformers model folder (no config.json)", path=model)
        try:
            config = json.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EngineError(f"config.json cannot be read ({exc})", path=model) from exc
        path, revision = str(folder), _folder_revision(folder)
    else:
        from transformers import AutoConfig

        try:
            loaded = AutoConfig.from_pretrained(model)
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot be found locally or on the Hugging Face hub ({exc})", path=model) from exc
        config, path, revision = loaded.to_dict(), model, getattr(loaded, "_commit_hash", None) or "unknown"
    model_type = config.get("model_type", "")
    if model_type not in SEQ2SEQ_TYPES or not config.get("is_encoder_decoder", True):
        raise EngineError(
            f"is a {model_type or 'unknown'} model, not a seq2seq translation model (NLLB, M2M100, mBART-50 or Marian)",
            path=model,
        )
    tokenizer = load_tokenizer(path)
    family = SEQ2SEQ_TYPES[model_type]
    if family == "m2m100" and "Nllb" in type(tokenizer).__name__:
        family = "nllb"
    info = ModelInfo(source=model, path=path, family=family, model_type=model_type, revision=revision)
    check_family_languages(info, set(tokenizer.get_vocab()))
    return info


def marian_pairs(model: str) -> str | None:
    """A Marian template (``…{src}-{tgt}…``), from the model string or a folder of ``<src>-<tgt>`` subfolders."""
    if "{src}" in model and "{tgt}" in model:
        return model
    folder = local_folder(model)
    if folder is not None and folder.is_dir() and not (folder / "config.json").exists():
        if any(p.is_dir() and (p / "config.json").exists() and "-" in p.name for p in folder.iterdir()):
            return str(folder / "{src}-{tgt}")
    return None


class TransformersEngine(Engine):
    backend = "transformers"

    def __init__(self, model: str, settings: GenerationSettings | None = None, device: str | None = None, *, single_pair: bool = False):
        """``single_pair``: accept one Marian pair model and translate with it whatever the languages
        (for fine-tuning that pair); drafting always wants a template or a folder of pairs."""
        import torch

        settings = settings or GenerationSettings()
        self.template = marian_pairs(model)
        if self.template:
            info = ModelInfo(source=model, path=self.template, family="marian", model_type="marian", revision=self._template_revision())
        else:
            info = inspect_model(model)
            if info.family == "marian" and not single_pair:
                raise EngineError(
                    "is a Marian model, which translates one pair: pass a template such as "
                    "'Helsinki-NLP/opus-mt-{src}-{tgt}' or a folder of <src>-<tgt> model folders",
                    path=model,
                )
        super().__init__(info, settings)
        self._in_memory = None  # a model being trained (tarjoman.adapt), used instead of the folder's
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if self.device == "cpu":
            torch.set_num_threads(cpu_threads())

    def _template_revision(self) -> str:
        digest = hashlib.sha256()
        folder = local_folder(self.template.split("{")[0]) if self.template else None
        if folder is not None and folder.is_dir():
            for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
                digest.update(sub.name.encode() + _folder_revision(sub).encode())
        else:
            digest.update(self.template.encode())
        return digest.hexdigest()

    # --- loading -----------------------------------------------------------

    def use_model(self, model) -> None:
        """Translate with ``model`` (same architecture and tokenizer as the folder), e.g. while training it."""
        self._in_memory = model

    def _model(self, path: str):
        import torch

        if self._in_memory is not None and path == self.info.path:
            return self._in_memory
        key = (path, self.device)
        with _LOCK:
            if key not in _MODELS:
                from transformers import AutoModelForSeq2SeqLM

                dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
                try:
                    model = AutoModelForSeq2SeqLM.from_pretrained(path, dtype=dtype)
                except (OSError, ValueError) as exc:
                    raise EngineError(f"cannot be loaded as a translation model ({exc})", path=path) from exc
                model.to(self.device).eval()
                _MODELS[key] = model
            return _MODELS[key]

    def _pair_path(self, source: str, target: str) -> str | None:
        """The Marian model for a pair, or None when there is none."""
        path = self.template.format(src=language(source).opus, tgt=language(target).opus)
        folder = local_folder(path)
        if folder is not None:
            return path if (folder / "config.json").is_file() else None
        try:
            inspect_model(path)
        except EngineError:
            return None
        return path

    # --- translating ---------------------------------------------------------

    def count_tokens(self, text: str, source: str) -> int:
        path = self.info.path
        if self.template:
            path = self._pair_path(source, "en")
            if path is None:
                from ..text import estimate_tokens

                return estimate_tokens(text)
        tokenizer = load_tokenizer(path)
        self._set_source(tokenizer, source)
        return len(tokenizer(text)["input_ids"])

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if not texts:
            return []
        if self.template:
            return self._translate_marian(texts, source, target)
        return self._decode(self.info.path, self.generate_ids(texts, source, target))

    def _translate_marian(self, texts: list[str], source: str, target: str) -> list[str]:
        direct = self._pair_path(source, target)
        if direct:
            return self._decode(direct, self._generate(direct, texts, source, target))
        legs = [(source, "en"), ("en", target)]
        missing = [f"{a}→{b}" for a, b in legs if a == b or self._pair_path(a, b) is None]
        if "en" in (source, target) or missing:
            raise EngineError(
                f"no Marian model for {source}→{target}, and no pivot through English (missing {', '.join(missing) or f'{source}→{target}'})",
                path=self.template,
            )
        middle = self._translate_marian(texts, source, "en")
        return self._translate_marian(middle, "en", target)

    def _decode(self, path: str, ids: list[list[int]]) -> list[str]:
        tokenizer = load_tokenizer(path)
        # Embedding matrices are often larger than the vocabulary (padded, or made-up
        # words in NLLB); an ID past the vocabulary has no text.
        known = len(tokenizer)
        ids = [[i for i in row if i < known] for row in ids]
        return [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]

    def generate_ids(self, texts: list[str], source: str, target: str) -> list[list[int]]:
        """Output token IDs for each text (NLLB/M2M100/mBART-50), in the order given."""
        return self._generate(self.info.path, texts, source, target)

    def _set_source(self, tokenizer, source: str) -> None:
        if self.info.family != "marian" and not self.template:
            tokenizer.src_lang = language_code(self.info.family, language(source))

    def _forced_bos(self, tokenizer, target: str) -> int | None:
        if self.template or self.info.family == "marian":
            return None
        code = language_code(self.info.family, language(target))
        if self.info.family == "m2m100":
            return tokenizer.get_lang_id(code)
        return tokenizer.convert_tokens_to_ids(code)

    def _generate(self, path: str, texts: list[str], source: str, target: str) -> list[list[int]]:
        import torch

        tokenizer = load_tokenizer(path)
        model = self._model(path)
        self._set_source(tokenizer, source)
        limit = getattr(model.config, "max_position_embeddings", 1024) or 1024
        encoded = tokenizer(texts, truncation=True, max_length=min(limit, 1024))["input_ids"]
        forced = self._forced_bos(tokenizer, target)
        results: list[list[int] | None] = [None] * len(texts)
        for batch in length_sorted_batches([len(ids) for ids in encoded], self.settings):
            padded = tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt").to(self.device)
            longest = max(len(encoded[i]) for i in batch)
            kwargs = dict(
                num_beams=self.settings.num_beams,
                max_new_tokens=self.settings.length_limit(longest),
                min_new_tokens=self.settings.min_new_tokens or None,
                no_repeat_ngram_size=self.settings.no_repeat_ngram_size or None,
                repetition_penalty=self.settings.repetition_penalty,
                early_stopping=self.settings.num_beams > 1 or None,
            )
            if forced is not None:
                kwargs["forced_bos_token_id"] = forced
            with torch.inference_mode():
                output = model.generate(**padded, **{k: v for k, v in kwargs.items() if v is not None})
            self.calls += 1
            for row, index in zip(output.tolist(), batch):
                results[index] = row
        self.segments_translated += len(texts)
        return results  # type: ignore[return-value]


def length_sorted_batches(lengths: list[int], settings: GenerationSettings) -> list[list[int]]:
    """Indexes grouped longest first, each batch's padded size within the token budget."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = lengths[current[0]] if current else lengths[index]
        if current and ((len(current) + 1) * longest > settings.batch_tokens or len(current) >= settings.max_batch):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches
