"""Adaptive drafting: fine-tune the drafting model on what translators approved.

Pairs are the approved entries of a book's review files (Persian source, approved
translation), of one book or several, optionally with a parallel reference file.
A share is held out, chosen by a hash of the source text (the same sentences on
every run); the model is trained with AdamW, a short warm-up and a linear decay,
label smoothing and gradient clipping, and evaluated after every epoch on the
held-out pairs with the same decoding as drafting (greedy). Training stops early
when held-out chrF has not improved for ``patience`` epochs; the best epoch is
kept. The output folder holds the model, its tokenizer and ``TARJOMAN_ADAPTED.json``:
the base model, the data (books, counts, a hash), the settings and the scores
before and after (sacrebleu chrF and BLEU).

Approved glossary terms are taught too: a pair whose source holds an approved term
(and whose translation its rendering) is added a second time with the rendering
injected into the source, as drafting injects it, so the model learns to copy it.
Families: NLLB, M2M100 and mBART-50 (one model, many languages); a Marian model
translates one pair and is adapted for that pair only (give it one ``--lang``; put the
result in a folder of pairs, ``<src>-<tgt>/``, to draft with it).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from . import __version__
from .errors import EngineError, ProjectError
from .finishing import finish
from .languages import TARGETS
from .project import Project
from .text import detect_language

PROVENANCE = "TARJOMAN_ADAPTED.json"


@dataclass(frozen=True)
class Pair:
    source: str
    target: str
    lang: str
    origin: str = ""  # book/chapter, or the reference file
    source_lang: str = "fa"


def _line_pairs(source: str, target: str, lang: str, origin: str, source_lang: str) -> list[Pair]:
    """A verse unit is drafted line by line, so it is learned line by line (when the lines agree)."""
    sources, targets = source.split("\n"), target.split("\n")
    if len(sources) > 1 and len(sources) == len(targets):
        return [Pair(s.strip(), t.strip(), lang, origin, source_lang) for s, t in zip(sources, targets) if s.strip() and t.strip()]
    return [Pair(source, target, lang, origin, source_lang)]


@dataclass
class AdaptOptions:
    epochs: int = 8
    learning_rate: float = 5e-5  # fine-tuning a real model; training from scratch wants ~1e-3
    batch_size: int = 16
    holdout: float = 0.1
    patience: int = 2  # evaluations without a better held-out chrF before stopping
    eval_every: int = 1  # epochs between evaluations (the last epoch is always evaluated)
    label_smoothing: float = 0.1
    max_length: int = 256
    seed: int = 0
    from_scratch: bool = False  # start from random weights of the base model's shape (the demo model)
    dropout: float | None = None  # None: the base model's own
    teach_terms: bool = True
    half: bool = False  # save float16 weights (half the size; loaded as float32 on CPU)
    device: str | None = None


@dataclass
class Scores:
    chrf: float
    bleu: float
    pairs: int


@dataclass
class AdaptResult:
    out: Path
    train_pairs: int
    heldout_pairs: int
    before: dict[str, Scores]
    after: dict[str, Scores]
    epochs_run: int
    best_epoch: int
    seconds: float
    history: list[dict] = field(default_factory=list)


Progress = Callable[[dict], None]


# --- data ---------------------------------------------------------------------------------

def approved_pairs(project: Project, book: str, langs: list[str], chapters: set[str] | None = None) -> list[Pair]:
    """Every approved (not carried over) translation of ``book`` in ``langs``, from the review store."""
    from .queue import approved_translations

    if not project.manuscript_path(book).is_file():
        raise ProjectError(f"book {book!r} has no review files: it was never extracted; extract, draft and review it first", path=project.manuscript_path(book))
    pairs = []
    for chapter, lang, segment, translation in approved_translations(project, book, langs):
        if chapters is not None and chapter not in chapters:
            continue
        if translation.origin != "carried" and translation.text.strip() != segment.source.strip():
            pairs += _line_pairs(segment.source, translation.text, lang, f"{book}/{chapter}", detect_language(segment.source, "fa") or "fa")
    return pairs


def reference_pairs(path: Path, langs: list[str]) -> list[Pair]:
    """Pairs from a parallel YAML file: a list of ``{fa: …, en: …, ar: …, fr: …, ur: …}``."""
    import yaml

    from .errors import TarjomanError

    try:
        rows = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TarjomanError(f"cannot be read as parallel YAML ({exc})", path=path) from None
    if not isinstance(rows, list):
        raise TarjomanError("must be a list of entries, each {fa: …, en: …, …}", path=path)
    pairs = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not str(row.get("fa") or "").strip():
            raise TarjomanError("an entry without a Persian (fa) text", path=path, where=f"entry {index}")
        source_lang = str(row.get("source_lang") or "fa")
        for lang in langs:
            if str(row.get(lang) or "").strip() and lang != source_lang:
                pairs += _line_pairs(str(row["fa"]).strip(), str(row[lang]).strip(), lang, f"{Path(path).name}#{index}", source_lang)
    return pairs


def split_heldout(pairs: list[Pair], share: float) -> tuple[list[Pair], list[Pair]]:
    """(train, held out): a sentence is held out in every language or in none, chosen by its hash."""
    if share <= 0:
        return list(pairs), []
    sources = sorted({p.source for p in pairs}, key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    held = set(sources[:max(1, round(share * len(sources)))]) if len(sources) > 1 else set()
    return [p for p in pairs if p.source not in held], [p for p in pairs if p.source in held]


def with_terms(pairs: list[Pair], terms) -> list[Pair]:
    """``pairs`` plus, for each pair with approved terms rendered as approved, its source with the
    renderings injected (what drafting feeds the model)."""
    from .glossary import is_rendered

    out = list(pairs)
    for pair in pairs:
        binder = terms.binder(pair.lang)
        applied = binder.applied(pair.source)
        if applied and all(is_rendered(r, pair.target, pair.lang) for _, r in applied):
            out.append(Pair(binder.inject(pair.source), pair.target, pair.lang, pair.origin + "+terms", pair.source_lang))
    return out


def data_hash(pairs: list[Pair]) -> str:
    digest = hashlib.sha256()
    for pair in sorted(pairs, key=lambda p: (p.lang, p.source, p.target)):
        digest.update(f"{pair.lang}\0{pair.source}\0{pair.target}\0".encode())
    return digest.hexdigest()[:16]


# --- scoring ------------------------------------------------------------------------------

def evaluate(engine, pairs: list[Pair]) -> dict[str, Scores]:
    """chrF and BLEU per language of ``engine``'s drafts of ``pairs``, finished as drafting finishes them."""
    import sacrebleu

    scores = {}
    for lang in sorted({p.lang for p in pairs}):
        group = [p for p in pairs if p.lang == lang]
        drafts = {}
        for source_lang in sorted({p.source_lang for p in group}):
            texts = [p.source for p in group if p.source_lang == source_lang]
            drafts.update(zip(((source_lang, t) for t in texts), _translate_lines(engine, texts, source_lang, lang)))
        hypotheses = [finish(drafts[(p.source_lang, p.source)], lang) for p in group]
        references = [finish(p.target, lang) for p in group]
        scores[lang] = Scores(
            round(sacrebleu.corpus_chrf(hypotheses, [references]).score, 2),
            round(sacrebleu.corpus_bleu(hypotheses, [references], tokenize="intl").score, 2),  # as metrics.py: no download
            len(group),
        )
    return scores


def _translate_lines(engine, texts: list[str], source_lang: str, lang: str) -> list[str]:
    """Translate as drafting does: verse lines one by one."""
    lines = [line for text in texts for line in text.split("\n")]
    translated = iter(engine.translate(lines, source_lang, lang))
    return ["\n".join(next(translated) for _ in text.split("\n")) for text in texts]


def mean_chrf(scores: dict[str, Scores]) -> float:
    total = sum(s.pairs for s in scores.values())
    return sum(s.chrf * s.pairs for s in scores.values()) / total if total else 0.0


# --- training -----------------------------------------------------------------------------

def adapt_model(base: str, out: Path, train: list[Pair], heldout: list[Pair], options: AdaptOptions | None = None,
                *, progress: Progress | None = None, provenance: dict | None = None) -> AdaptResult:
    """Fine-tune ``base`` on ``train``, keep the epoch with the best held-out chrF, write it to ``out``."""
    import torch

    from .engines import GenerationSettings
    from .engines.hf import TransformersEngine, load_tokenizer

    options = options or AdaptOptions()
    if not train:
        raise ProjectError("no approved translations to learn from: approve some review entries first")
    started = time.perf_counter()
    random.seed(options.seed)
    torch.manual_seed(options.seed)
    engine = TransformersEngine(base, GenerationSettings(num_beams=1), device=options.device, single_pair=True)
    engine.ready()  # training needs the tokenizer now, checked as the model's own
    if engine.template:
        raise EngineError("is a template of Marian pairs; adapt one pair model folder at a time", path=base)
    family = engine.info.family
    langs = sorted({p.lang for p in train})
    if family == "marian" and len(langs) > 1:
        raise EngineError(f"is a Marian model, which translates one pair; pass --lang with one language (not {', '.join(langs)})", path=base)
    tokenizer = load_tokenizer(engine.info.path)
    loaded = engine._model(engine.info.path)  # shared with drafting in this process: train a copy
    config = copy.deepcopy(loaded.config)
    if options.dropout is not None:
        config.dropout = config.attention_dropout = config.activation_dropout = options.dropout
    model = type(loaded)(config) if options.from_scratch else copy.deepcopy(loaded)
    if options.dropout is not None and not options.from_scratch:
        model.config = config
        for module in model.modules():  # the seq2seq families keep their dropout rates as plain floats
            for name in ("dropout", "attention_dropout", "activation_dropout"):
                if isinstance(getattr(module, name, None), float):
                    setattr(module, name, options.dropout)
    model.to(engine.device).train()
    engine.use_model(model)

    evaluation = heldout or train
    model.eval()
    before = evaluate(engine, evaluation)
    batches = _batches(tokenizer, engine, train, options)
    steps = max(1, options.epochs * len(batches))
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.learning_rate, weight_decay=0.01)
    warmup = max(1, steps // 20)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=options.label_smoothing)
    rng = random.Random(options.seed)
    best_chrf, best_epoch, best_state, waited = mean_chrf(before), 0, None, 0
    history = []
    epoch = 0
    for epoch in range(1, options.epochs + 1):
        model.train()
        rng.shuffle(batches)
        total = 0.0
        for batch in batches:
            batch = {k: v.to(engine.device) for k, v in batch.items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).logits
            loss = loss_fn(logits.reshape(-1, logits.size(-1)), batch["labels"].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            total += loss.item()
        record = {"epoch": epoch, "loss": round(total / len(batches), 4)}
        if epoch % options.eval_every and epoch != options.epochs:
            history.append(record)
            if progress:
                progress(record)
            continue
        model.eval()
        chrf = mean_chrf(evaluate(engine, evaluation))
        record["chrf"] = round(chrf, 2)
        history.append(record)
        if progress:
            progress(record)
        if chrf > best_chrf or best_state is None:
            best_chrf, best_epoch, waited = chrf, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= options.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    after = evaluate(engine, evaluation)
    result = AdaptResult(Path(out), len(train), len(heldout), before, after, epoch, best_epoch, 0.0, history)
    result.seconds = round(time.perf_counter() - started, 1)
    _save(model, tokenizer, Path(out), options, result, base, engine, train, heldout, provenance or {})
    return result


def _batches(tokenizer, engine, pairs: list[Pair], options: AdaptOptions) -> list[dict]:
    """Tokenized batches of similar length, each of one language pair (its language tokens)."""
    from .engines.base import language_code

    batches = []
    for source_lang, lang in sorted({(p.source_lang, p.lang) for p in pairs}):
        group = sorted((p for p in pairs if p.lang == lang and p.source_lang == source_lang), key=lambda p: len(p.source))
        if engine.info.family != "marian":
            tokenizer.src_lang = language_code(engine.info, source_lang)
            tokenizer.tgt_lang = language_code(engine.info, lang)
        for start in range(0, len(group), options.batch_size):
            chunk = group[start:start + options.batch_size]
            encoded = tokenizer([p.source for p in chunk], text_target=[p.target for p in chunk], truncation=True,
                                max_length=options.max_length, padding=True, return_tensors="pt")
            labels = encoded["labels"]
            labels[labels == tokenizer.pad_token_id] = -100
            batches.append({"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "labels": labels})
    return batches


def _save(model, tokenizer, out: Path, options, result, base, engine, train, heldout, provenance) -> None:
    """Write the model folder next to ``out`` and move it into place in one step."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    staging.chmod(0o755)  # mkdtemp makes it private; a model folder is shared like any other
    try:
        to_save = model.half() if options.half else model
        to_save.save_pretrained(staging)
        if options.half:
            model.float()
        tokenizer.save_pretrained(staging)
        record = {
            "tarjoman": __version__,
            "base": {"model": base, "revision": engine.info.revision, "family": engine.info.family, "from_scratch": options.from_scratch},
            "data": {"train_pairs": len(train), "heldout_pairs": len(heldout), "languages": sorted({p.lang for p in train}),
                     "origins": sorted({p.origin.split("/")[0].split("#")[0].replace("+terms", "") for p in train}),
                     "hash": data_hash(train + heldout), **provenance},
            "settings": {k: v for k, v in asdict(options).items() if k != "device"},
            "scores": {"before": {k: asdict(v) for k, v in result.before.items()}, "after": {k: asdict(v) for k, v in result.after.items()},
                       "on": "held-out pairs" if heldout else "training pairs (nothing held out)"},
            "epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "history": result.history, "seconds": result.seconds,
        }
        (staging / PROVENANCE).write_text(json.dumps(record, ensure_ascii=False, indent=1))
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
        staging.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def adapt_books(project: Project, books: list[str], base: str, out: Path, *, langs: list[str] | None = None,
                references: Path | None = None, options: AdaptOptions | None = None, progress: Progress | None = None) -> AdaptResult:
    """Fine-tune ``base`` on the approved translations of ``books`` (and ``references``)."""
    from .glossary import load_termbase

    options = options or AdaptOptions()
    langs = langs or list(TARGETS)
    pairs: list[Pair] = []
    for book in books:
        if references is None or (project.book_dir(book) / "review").is_dir():
            pairs += approved_pairs(project, book, langs)
    if references is not None:
        pairs += reference_pairs(references, langs)
    train, heldout = split_heldout(pairs, options.holdout)
    if options.teach_terms:
        for book in books or []:
            train = with_terms(train, load_termbase(project, book))
    provenance = {"books": books, "references": str(references) if references else None}
    return adapt_model(base, out, train, heldout, options, progress=progress, provenance=provenance)

