"""The transformers back-end (the only module that imports transformers and torch).

Serves NLLB-200 and M2M100 (one model, every language, language tokens),
mBART-50 many-to-many, and Marian/OPUS-MT (one model per pair, pivoting
through English where a pair is missing). A model is a local folder or a hub
ID; its family is recognised from its config and tokenizer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import struct
import threading
import zipfile
from pathlib import Path

from ..errors import EngineError
from ..languages import language
from .base import Engine, GenerationSettings, ModelInfo, cpu_threads, family_languages, language_code, local_folder, one_line

SEQ2SEQ_TYPES = {"m2m_100": "m2m100", "mbart": "mbart50", "marian": "marian"}

# The files a model type's tokenizer is read from: one of these sets must be in the folder, or
# transformers quietly builds a default tokenizer of special tokens whose drafts are garbage.
TOKENIZER_FILES = {
    "m2m_100": (("tokenizer.json",), ("sentencepiece.bpe.model",)),  # NLLB; M2M100 reads vocab.json beside its .model
    "mbart": (("tokenizer.json",), ("sentencepiece.bpe.model",)),
    "marian": (("vocab.json", "source.spm", "target.spm"),),
}
JSON_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json", "generation_config.json")
SENTENCEPIECE_FILES = ("sentencepiece.bpe.model", "source.spm", "target.spm")
# Where transformers looks for weights, in its order of preference.
WEIGHTS_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
# Embedding rows no token uses: NLLB-200 has 256206 rows for its 256204 tokens, M2M100 128112 for
# 128104, and fine-tuned models are often padded to a multiple of 64 or 128.
SPARE_EMBEDDINGS = 128
DAMAGED = "download or copy the model again"

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
            except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:  # RuntimeError: sentencepiece
                raise EngineError(f"has no usable tokenizer ({one_line(exc)})", path=path) from exc
        return _TOKENIZERS[path]


# --- checking a model folder before anything is loaded ------------------------


def check_model_folder(folder: Path, model_type: str) -> None:
    """Refuse a folder whose tokenizer or weights files are missing, damaged or cut short.

    Cheap: JSON files are parsed, sentencepiece models opened, and of the weights only the
    safetensors header or the zip directory of a ``.bin`` is read."""
    groups = TOKENIZER_FILES[model_type]
    if not any(all((folder / name).is_file() for name in group) for group in groups):
        wanted = " or ".join(" + ".join(group) for group in groups)
        raise EngineError(f"has no tokenizer files ({wanted}); copy the tokenizer files that came with the model into it", path=folder)
    for name in JSON_FILES:
        if (folder / name).is_file():
            _read_json(folder / name)
    for name in SENTENCEPIECE_FILES:
        if (folder / name).is_file():
            _check_sentencepiece(folder / name)
    for path in weights_files(folder):
        if path.suffix == ".safetensors":
            _check_safetensors(path)
        else:
            _check_torch_file(path)


def tokenizer_file(folder: Path, model_type: str) -> Path:
    """The file that gives the tokenizer its token IDs (named when the tokenizer does not fit the model)."""
    for group in TOKENIZER_FILES[model_type]:
        if all((folder / name).is_file() for name in group):
            return folder / group[0]
    return folder


def weights_files(folder: Path) -> list[Path]:
    """The weights files transformers will read: one file, or the shards an index lists."""
    for name in WEIGHTS_FILES:
        path = folder / name
        if not path.is_file():
            continue
        if not name.endswith(".index.json"):
            return [path]
        shards = _read_json(path).get("weight_map")
        names = sorted(set(shards.values())) if isinstance(shards, dict) else []
        if not names or not all(isinstance(n, str) and n and Path(n).name == n for n in names):
            raise EngineError(f"the index of the model's weights is damaged (no plain shard file names); {DAMAGED}", path=path)
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise EngineError(f"the weights shard {missing[0]} it lists is missing; {DAMAGED}", path=path)
        return [folder / n for n in names]
    raise EngineError(f"has no weights ({' or '.join(WEIGHTS_FILES[::2])}); {DAMAGED}", path=folder)


def _weights_named(path: str) -> str:
    """What to name when loading the weights fails: the one weights file, else the folder or hub ID."""
    folder = local_folder(path)
    if folder is None or not folder.is_dir():
        return path
    try:
        files = weights_files(folder)
    except EngineError:
        return path
    return str(files[0]) if len(files) == 1 else path


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_bytes())
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
        raise EngineError(f"is damaged or cut short (not JSON: {one_line(exc)}); {DAMAGED}", path=path) from exc
    except OSError as exc:
        raise EngineError(f"cannot be read ({one_line(exc)})", path=path) from exc
    if not isinstance(data, dict):
        raise EngineError(f"is damaged (a JSON {type(data).__name__}, not an object); {DAMAGED}", path=path)
    return data


def _check_sentencepiece(path: Path) -> None:
    import sentencepiece

    try:
        sentencepiece.SentencePieceProcessor(model_file=str(path))
    except (RuntimeError, OSError) as exc:  # its message repeats the path: say it once
        raise EngineError(f"the sentencepiece model is damaged or cut short (it cannot be parsed); {DAMAGED}", path=path) from exc


def _check_safetensors(path: Path) -> None:
    """The header (8 bytes of length, then JSON) is read, and its tensors must cover the rest of
    the file exactly, as the safetensors library checks when it opens one. Read here by hand:
    the library's check imports a tensor framework (torch, or numpy), which a cached draft never needs."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ValueError("the file is shorter than its header")
            (length,) = struct.unpack("<Q", head)
            if length > size - 8:
                raise ValueError(f"the header says {length} bytes, past the end of the file")
            header = json.loads(fh.read(length))
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        spans = sorted(tuple(t["data_offsets"]) for name, t in header.items() if name != "__metadata__")
        position = 0
        for begin, end in spans:
            if begin != position or end < begin:
                raise ValueError(f"the tensors do not follow each other (a gap or overlap at byte {position})")
            position = end
        if position != size - 8 - length:
            raise ValueError(f"the tensors end at byte {position} of {size - 8 - length}")
    except (ValueError, KeyError, TypeError, OSError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise EngineError(f"the model's weights are damaged or cut short ({one_line(exc)}); {DAMAGED}", path=path) from exc


def _check_torch_file(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head[:1] == b"\x80":
        return  # torch's pre-1.6 pickle format: only loading it tells
    try:
        if head != b"PK":
            raise zipfile.BadZipFile("neither a zip archive nor a pickle")
        zipfile.ZipFile(path).close()  # reads the directory at the end, which a cut file lacks
    except (zipfile.BadZipFile, OSError) as exc:
        raise EngineError(f"the model's weights are damaged or cut short ({one_line(exc)}); {DAMAGED}", path=path) from exc


def check_tokenizer_fits(tokenizer, vocabulary: dict[str, int], config: dict, where: str | Path) -> None:
    """Refuse a tokenizer that is not the model's own: more tokens than the model has embeddings,
    far fewer (a default or another model's), or other padding and end-of-sentence IDs."""
    size = max(len(tokenizer), max(vocabulary.values(), default=-1) + 1)
    rows = config.get("vocab_size")
    problem = ""
    if isinstance(rows, int) and size > rows:
        problem = f"it has {size} tokens, more than the {rows} the model has embeddings for (config.json's vocab_size)"
    elif isinstance(rows, int) and size < rows - SPARE_EMBEDDINGS:
        problem = f"it has {size} tokens but the model has {rows} (config.json's vocab_size)"
    else:
        for name in ("pad_token_id", "eos_token_id"):
            want, have = config.get(name), getattr(tokenizer, name, None)
            if isinstance(want, int) and have is not None and have != want:
                problem = f"its {name} is {have} and the model's {want} (config.json)"
                break
    if problem:
        raise EngineError(f"is not this model's tokenizer: {problem}; copy the tokenizer files that came with the model", path=where)


def inspect_model(model: str, *, defer_tokenizer: bool = False) -> ModelInfo:
    """Find a model and say what it is; refuse what is not a seq2seq translation model.

    With ``defer_tokenizer``, a local folder whose JSON files say its family and languages is
    described from them alone (its files checked, its revision hashed): transformers is not
    imported and the tokenizer not loaded until :func:`check_tokenizer` is called, on the first
    sentence that needs the model. A draft whose every sentence is cached never loads either."""
    folder = local_folder(model)
    if folder is not None:
        config, model_type = _local_config(folder, model)
        check_model_folder(folder, model_type)  # before the tokenizer or the weights are loaded
        path, revision = str(folder), _folder_revision(folder)
        if defer_tokenizer:
            from .base import folder_languages

            found = folder_languages(folder)
            if found is not None:
                family, languages = found
                return ModelInfo(source=model, path=path, family=family, model_type=model_type, revision=revision, languages=languages,
                                 tokenizer_checked=False)
    else:
        from transformers import AutoConfig

        try:
            loaded = AutoConfig.from_pretrained(model)
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot be found locally or on the Hugging Face hub ({one_line(exc)})", path=model) from exc
        config, path, revision = loaded.to_dict(), model, getattr(loaded, "_commit_hash", None) or "unknown"
        model_type = _seq2seq_type(config, model)
    info = ModelInfo(source=model, path=path, family=SEQ2SEQ_TYPES[model_type], model_type=model_type, revision=revision)
    return check_tokenizer(info, config)


def check_tokenizer(info: ModelInfo, config: dict | None = None) -> ModelInfo:
    """``info`` with its family and languages as the loaded tokenizer says, once the tokenizer is
    found to be the model's own (:func:`check_tokenizer_fits`)."""
    folder = local_folder(info.source)
    if config is None:
        config, _ = _local_config(folder, info.source) if folder is not None else ({}, "")
    tokenizer = load_tokenizer(info.path)
    vocabulary = tokenizer.get_vocab()
    check_tokenizer_fits(tokenizer, vocabulary, config, tokenizer_file(folder, info.model_type) if folder else info.source)
    family = SEQ2SEQ_TYPES[info.model_type]
    if family == "m2m100" and "Nllb" in type(tokenizer).__name__:
        family = "nllb"
    info = dataclasses.replace(info, family=family)
    return dataclasses.replace(info, languages=family_languages(info, set(vocabulary)), tokenizer_checked=True)


def _local_config(folder: Path, model: str) -> tuple[dict, str]:
    """A local model folder's config.json and its seq2seq model type; refused when it has none."""
    if not folder.is_dir():
        raise EngineError("model folder not found", path=model)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise EngineError("is not a transformers model folder (no config.json)", path=model)
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EngineError(f"config.json cannot be read ({one_line(exc)})", path=model) from exc
    if not isinstance(config, dict):
        raise EngineError("config.json cannot be read (not a JSON object)", path=model)
    return config, _seq2seq_type(config, model)


def _seq2seq_type(config: dict, model: str) -> str:
    model_type = config.get("model_type", "")
    if model_type not in SEQ2SEQ_TYPES or not config.get("is_encoder_decoder", True):
        raise EngineError(
            f"is a {model_type or 'unknown'} model, not a seq2seq translation model (NLLB, M2M100, mBART-50 or Marian)",
            path=model,
        )
    return model_type


def marian_pairs(model: str) -> str | None:
    """A Marian template (``…{src}-{tgt}…``), from the model string or a folder of ``<src>-<tgt>`` subfolders."""
    if "{src}" in model and "{tgt}" in model:
        return model
    folder = local_folder(model)
    if folder is not None and folder.is_dir() and not (folder / "config.json").exists():
        if any(p.is_dir() and (p / "config.json").exists() and "-" in p.name for p in folder.iterdir()):
            return str(folder / "{src}-{tgt}")
    return None


def _local_pairs(template: str) -> list[Path]:
    folder = local_folder(template.split("{")[0])
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and "-" in p.name and (p / "config.json").is_file())


class TransformersEngine(Engine):
    backend = "transformers"

    def __init__(self, model: str, settings: GenerationSettings | None = None, device: str | None = None, *, single_pair: bool = False):
        """``single_pair``: accept one Marian pair model and translate with it whatever the languages
        (for fine-tuning that pair); drafting always wants a template or a folder of pairs."""
        settings = settings or GenerationSettings()
        self.template = marian_pairs(model)
        if self.template:
            for pair in _local_pairs(self.template):
                inspect_model(str(pair))  # a damaged pair is refused now, not halfway through a book
            info = ModelInfo(source=model, path=self.template, family="marian", model_type="marian", revision=self._template_revision())
        else:
            info = inspect_model(model, defer_tokenizer=True)
            if info.family == "marian" and not single_pair:
                raise EngineError(
                    "is a Marian model, which translates one pair: pass a template such as "
                    "'Helsinki-NLP/opus-mt-{src}-{tgt}' or a folder of <src>-<tgt> model folders",
                    path=model,
                )
        super().__init__(info, settings)
        self._in_memory = None  # a model being trained (tarjoman.adapt), used instead of the folder's
        self._device = device

    @property
    def device(self) -> str:
        """cpu, or the GPU when there is one; torch is imported on the first question, not before."""
        if self._device is None:
            import torch

            self._device = "cuda" if torch.cuda.is_available() else "cpu"
            if self._device == "cpu":
                torch.set_num_threads(cpu_threads())
        return self._device

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
                from safetensors import SafetensorError

                try:
                    model = AutoModelForSeq2SeqLM.from_pretrained(path, dtype=dtype)
                except (OSError, ValueError, RuntimeError, EOFError, SafetensorError, pickle.UnpicklingError) as exc:
                    raise EngineError(f"cannot be loaded as a translation model ({one_line(exc)}); {DAMAGED}", path=_weights_named(path)) from exc
                model.to(self.device).eval()
                _MODELS[key] = model
            return _MODELS[key]

    def _pair_path(self, source: str, target: str) -> str | None:
        """The Marian model for a pair, or None when there is none."""
        path = self.template.format(src=language(source).subtag, tgt=language(target).subtag)
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
        self.ready()
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
        self.ready()
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
        self.ready()
        return self._generate(self.info.path, texts, source, target)

    def _set_source(self, tokenizer, source: str) -> None:
        if self.info.family != "marian" and not self.template:
            tokenizer.src_lang = language_code(self.info, source)

    def _forced_bos(self, tokenizer, target: str) -> int | None:
        if self.template or self.info.family == "marian":
            return None
        code = language_code(self.info, target)
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
