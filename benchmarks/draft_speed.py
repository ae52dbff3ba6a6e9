"""Drafting speed on the sample memoir: Tarjoman's back-ends against what a competent user writes.

    .venv/bin/python benchmarks/draft_speed.py [--size tiny|half|full] [--model DIR] [--tokens N] [--rounds 3] [--device cpu|cuda]

Ways, alternated in every round (U16 T C U16 T C …), min and median of each printed:

- U16, the baseline: what a competent user writes with transformers: the same model loaded
  with ``AutoModelForSeq2SeqLM`` (half precision on a GPU), ``model.generate()`` on batches of
  16 sentences in input order, padded, under ``torch.inference_mode()``;
- T: Tarjoman's transformers back-end (``engine.translate``: length-sorted batches under a
  token budget, inference mode; half precision on a GPU);
- C: Tarjoman's CTranslate2 back-end (int8 on CPU, float16 on GPU).

And, as a second, labelled figure, U1: the same user loop one sentence per ``generate()``
(``--u1-rounds``, 1 by default: it is slow).

Every way generates exactly ``--tokens`` new tokens per sentence (min = max), greedy, the same
generation settings, so random weights compare fairly. Not included: loading the model, the
CTranslate2 conversion (timed once, apart), the draft cache and the store (see
``redraft_cost.py``). The model is an NLLB-architecture model with random weights, half the
NLLB-600M shape by default (``--size full`` for the real one), built once into
.cache/bench-models/. Goal (issue #17): the default back-end ≥ 3× U16.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def timed(work):
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def trusted(engine):
    """The engine with its tokenizer taken as the model's own. The bench models have the real
    NLLB shape (256,206 embedding rows, the output layer that is most of the cost per token) but
    a vocabulary of a few thousand pieces trained on the sample, which Tarjoman rightly refuses
    as another model's tokenizer; here that mismatch is the point."""
    import dataclasses

    engine.info = dataclasses.replace(engine.info, tokenizer_checked=True)
    return engine


class UserLoop:
    """The user's script: AutoTokenizer + AutoModelForSeq2SeqLM, ``generate()`` on ``batch`` sentences at a time."""

    def __init__(self, model_dir: str, device: str):
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.torch = torch
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, src_lang="pes_Arab")
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model_dir, dtype=dtype).to(device).eval()
        self.target = self.tokenizer.convert_tokens_to_ids("eng_Latn")

    def run(self, texts: list[str], tokens: int, batch: int) -> None:
        for start in range(0, len(texts), batch):
            inputs = self.tokenizer(texts[start:start + batch], return_tensors="pt", padding=True).to(self.device)
            with self.torch.inference_mode():
                self.model.generate(**inputs, forced_bos_token_id=self.target, min_new_tokens=tokens, max_new_tokens=tokens, num_beams=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["tiny", "half", "full"], default="half")
    parser.add_argument("--model", help="an NLLB-architecture model folder to use instead of building one")
    parser.add_argument("--tokens", type=int, default=24, help="new tokens per sentence, forced")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--u1-rounds", type=int, default=1, help="rounds of the one-sentence-per-call loop (0: leave it out)")
    parser.add_argument("--device", default=None, help="cpu or cuda; default: the GPU when there is one")
    args = parser.parse_args()

    import torch
    from make_model import make

    from tarjoman.engines import GenerationSettings, default_backend, load_engine
    from tarjoman.manuscript import read_manuscript

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model_dir = args.model or str(REPO / ".cache" / "bench-models" / f"nllb-{args.size}")
    if not (Path(model_dir) / "config.json").exists():
        seconds, _ = timed(lambda: make(Path(model_dir), "nllb", args.size))
        print(f"built nllb-{args.size} in {seconds:.0f} s: {model_dir}")
    manuscript, _ = read_manuscript(REPO / "sources" / "sample.docx", book="bench")
    texts = [s.text for s in manuscript.segments() if s.lang == "fa"]
    settings = GenerationSettings(num_beams=1, min_new_tokens=args.tokens, max_new_tokens=args.tokens, no_repeat_ngram_size=0)
    generated = len(texts) * args.tokens
    print(f"{len(texts)} sentences of the sample × {args.tokens} new tokens = {generated} tokens per way, on {device}")

    load_user, user = timed(lambda: UserLoop(model_dir, device))
    transformers_engine = trusted(load_engine(model_dir, settings=settings, device=device))
    load_t, _ = timed(lambda: transformers_engine.translate(texts[:1], "fa", "en"))
    convert, ct2 = timed(lambda: trusted(load_engine(model_dir, backend="ctranslate2", settings=settings, device=device)))
    load_c, _ = timed(lambda: ct2.translate(texts[:1], "fa", "en"))
    print(f"not timed below: user's model load {load_user:.1f} s, Tarjoman's transformers load {load_t:.1f} s, "
          f"CTranslate2 conversion {convert:.1f} s (once, cached) and load {load_c:.1f} s")

    ways = {
        "U16": lambda: user.run(texts, args.tokens, 16),
        "T": lambda: transformers_engine.translate(texts, "fa", "en"),
        "C": lambda: ct2.translate(texts, "fa", "en"),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for round_ in range(args.rounds):
        for name, way in ways.items():
            times[name].append(timed(way)[0])
        print(f"round {round_ + 1}: " + ", ".join(f"{name} {t[-1]:.2f} s" for name, t in times.items()), flush=True)
    if args.u1_rounds:
        times["U1"] = [timed(lambda: user.run(texts, args.tokens, 1))[0] for _ in range(args.u1_rounds)]

    low = {name: min(t) for name, t in times.items()}
    mid = {name: statistics.median(t) for name, t in times.items()}
    labels = {"U16": "user loop, batches of 16 (baseline)", "T": "Tarjoman, transformers", "C": "Tarjoman, CTranslate2",
              "U1": "user loop, one sentence a call"}
    for name in times:
        print(f"{name:>4} {labels[name]:<38} min {low[name]:7.2f} s  median {mid[name]:7.2f} s  {generated / low[name]:8.1f} tokens/s")
    default = default_backend(model_dir, device)
    short = {"transformers": "T", "ctranslate2": "C"}[default]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"U16/T = {low['U16'] / low['T']:.2f}   U16/C = {low['U16'] / low['C']:.2f}   T/C = {low['T'] / low['C']:.2f}"
          + (f"   U1/U16 = {low['U1'] / low['U16']:.1f}" if "U1" in low else "")
          + f"   default back-end on {device}: {default} ({low['U16'] / low[short]:.2f}× the baseline; goal ≥ 3)   peak RSS {rss_mb:.0f} MB")
    fields = [f"device={device}", f"size={args.size}", f"tokens={args.tokens}", f"rounds={args.rounds}",
              f"u16_s={low['U16']:.3f}", f"transformers_s={low['T']:.3f}", f"ctranslate2_s={low['C']:.3f}",
              f"baseline_over_transformers={low['U16'] / low['T']:.2f}", f"baseline_over_ctranslate2={low['U16'] / low['C']:.2f}",
              f"baseline_over_ctranslate2_median={mid['U16'] / mid['C']:.2f}", f"default={default}",
              f"default_speedup={low['U16'] / low[short]:.2f}", f"peak_rss_mb={rss_mb:.0f}"]
    if "U1" in low:
        fields.append(f"u1_s={low['U1']:.3f}")
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
