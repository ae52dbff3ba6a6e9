"""Drafting speed on the sample memoir, four ways, in one run.

    .venv/bin/python benchmarks/draft_speed.py [--size tiny|half|full] [--model DIR] [--tokens N]

(a) the naive loop a user would write: one ``generate()`` per sentence;
(b) Tarjoman's transformers back-end (length-sorted batches, inference mode), cold cache;
(c) Tarjoman's CTranslate2 back-end (int8 on CPU), conversion time reported apart;
(d) Tarjoman again with a warm cache.
Every way generates exactly ``--tokens`` new tokens per sentence (min = max), greedy,
so random weights compare fairly. The model is an NLLB-architecture model with
random weights (half the NLLB-600M shape by default; ``--size full`` for the real
one), built once into .cache/bench-models/. Goals: a/b ≥ 6, b/c ≥ 3, d/b ≤ 0.03.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def timed(work):
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def naive_loop(model_dir: str, texts: list[str], tokens: int) -> None:
    """What a user writes first: the pipeline-era recipe, one sentence at a time."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, src_lang="pes_Arab")
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    target = tokenizer.convert_tokens_to_ids("eng_Latn")
    for text in texts:
        inputs = tokenizer(text, return_tensors="pt")
        model.generate(**inputs, forced_bos_token_id=target, min_new_tokens=tokens, max_new_tokens=tokens, num_beams=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["tiny", "half", "full"], default="half")
    parser.add_argument("--model", help="an NLLB-architecture model folder to use instead of building one")
    parser.add_argument("--tokens", type=int, default=24, help="new tokens per sentence, forced")
    args = parser.parse_args()

    from make_model import make

    from tarjoman.cache import DraftCache
    from tarjoman.drafting import DraftOptions, draft_language
    from tarjoman.engines import GenerationSettings, load_engine
    from tarjoman.manuscript import read_manuscript

    model_dir = args.model or str(REPO / ".cache" / "bench-models" / f"nllb-{args.size}")
    if not (Path(model_dir) / "config.json").exists():
        seconds, _ = timed(lambda: make(Path(model_dir), "nllb", args.size))
        print(f"built nllb-{args.size} in {seconds:.0f} s: {model_dir}")
    manuscript, _ = read_manuscript(REPO / "sources" / "sample.docx", book="bench")
    texts = [s.text for s in manuscript.segments() if s.lang == "fa"]
    settings = GenerationSettings(num_beams=1, min_new_tokens=args.tokens, max_new_tokens=args.tokens, no_repeat_ngram_size=0)
    generated = len(texts) * args.tokens
    print(f"{len(texts)} sentences of the sample × {args.tokens} new tokens = {generated} tokens per way")

    a, _ = timed(lambda: naive_loop(model_dir, texts, args.tokens))
    engine = load_engine(model_dir, settings=settings)
    with tempfile.TemporaryDirectory() as tmp:
        cache = DraftCache(Path(tmp) / "drafts.sqlite")
        b, _ = timed(lambda: draft_language(manuscript, "en", engine, cache, options=DraftOptions()))
        d, (_, warm) = timed(lambda: draft_language(manuscript, "en", engine, cache, options=DraftOptions()))
        assert warm.model_calls == 0, "a warm run must not call the model"
    convert, ct2 = timed(lambda: load_engine(model_dir, backend="ctranslate2", settings=settings))
    c, _ = timed(lambda: ct2.translate(texts, "fa", "en"))

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, seconds in (("(a) naive loop", a), ("(b) transformers", b), ("(c) ctranslate2", c), ("(d) warm cache", d)):
        print(f"{name:<18} {seconds:8.2f} s  {generated / seconds:10.1f} tokens/s")
    print(f"CTranslate2 conversion (once, cached): {convert:.1f} s")
    print(f"a/b = {a / b:.1f} (goal ≥ 6)   b/c = {b / c:.1f} (goal ≥ 3)   d/b = {d / b:.4f} (goal ≤ 0.03)   peak RSS {rss_mb:.0f} MB")
    print(f"RESULT naive_over_transformers={a / b:.2f} transformers_over_ctranslate2={b / c:.2f} warm_over_cold={d / b:.4f} peak_rss_mb={rss_mb:.0f} size={args.size} tokens={args.tokens}")


if __name__ == "__main__":
    main()
