"""Build small translation models offline: a sentencepiece vocabulary trained on a few
hundred lines and a model of a real architecture with random weights.

They run the same code path as real NLLB, mBART-50 and Marian models, so the
tests, the benchmarks and anyone without internet can exercise drafting. Their
output is nonsense: assert on token IDs and structure, never on words.

    build_model(Path("models/nllb-tiny"), family="nllb", size="tiny", lines=corpus)
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from ..errors import EngineError

# (d_model, encoder layers, decoder layers, attention heads, feed-forward, vocabulary of the real model)
SIZES = {
    "tiny": (64, 2, 2, 4, 128, None),
    "demo": (256, 3, 3, 4, 1024, None),  # the demo model: learns the sample by heart, a few MB in float16
    "half": (512, 6, 6, 8, 2048, 256206),  # STACK.md's 175M-parameter half shape of NLLB-600M
    "full": (1024, 12, 12, 16, 4096, 256206),  # the real NLLB-200-distilled-600M shape
}
FAMILIES = ("nllb", "mbart50", "marian")


def _train_spm(lines: list[str], vocab_size: int, model_type: str) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size, model_type=model_type,
        character_coverage=1.0, hard_vocab_limit=False, minloglevel=2, num_threads=1,
    )
    return model.getvalue()


def build_model(folder: Path, *, family: str = "nllb", size: str = "tiny", lines: list[str], seed: int = 0, vocab: int = 2000) -> Path:
    """Write a model folder that ``transformers`` (and Tarjoman) load like a downloaded one."""
    import torch

    if family not in FAMILIES or size not in SIZES:
        raise EngineError(f"unknown family/size {family}/{size}; families {FAMILIES}, sizes {tuple(SIZES)}")
    if len(lines) < 50:
        raise EngineError("need at least 50 lines of text to train a vocabulary")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    d_model, enc, dec, heads, ffn, real_vocab = SIZES[size]
    dims = dict(d_model=d_model, encoder_layers=enc, decoder_layers=dec, encoder_attention_heads=heads,
                decoder_attention_heads=heads, encoder_ffn_dim=ffn, decoder_ffn_dim=ffn, max_position_embeddings=1024)
    if family == "nllb":
        tokenizer, model = _nllb(folder, lines, vocab, dims, real_vocab)
    elif family == "mbart50":
        tokenizer, model = _mbart(folder, lines, vocab, dims, real_vocab)
    else:
        tokenizer, model = _marian(folder, lines, vocab, dims)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "TARJOMAN_TINY_MODEL.json").write_text(
        json.dumps({"family": family, "size": size, "seed": seed, "note": "random weights; output is nonsense"}, indent=1)
    )
    return folder


def _nllb(folder, lines, vocab, dims, real_vocab):
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    (folder / "sentencepiece.bpe.model").write_bytes(_train_spm(lines, vocab, "bpe"))
    # STACK.md: NllbTokenizer(vocab_file=…) ignores the file, and the language codes must be passed.
    tokenizer = NllbTokenizer.from_pretrained(str(folder), src_lang="pes_Arab", extra_special_tokens=FAIRSEQ_LANGUAGE_CODES)
    config = M2M100Config(
        vocab_size=max(len(tokenizer), real_vocab or 0), **dims, scale_embedding=True,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id, tokenizer_class="NllbTokenizer",
    )
    return tokenizer, M2M100ForConditionalGeneration(config)


def _mbart(folder, lines, vocab, dims, real_vocab):
    from transformers import MBart50Tokenizer, MBartConfig, MBartForConditionalGeneration

    # STACK.md: mBART-50 wants a unigram model saved under the BPE name.
    (folder / "sentencepiece.bpe.model").write_bytes(_train_spm(lines, vocab, "unigram"))
    tokenizer = MBart50Tokenizer.from_pretrained(str(folder), src_lang="fa_IR")
    config = MBartConfig(
        vocab_size=max(len(tokenizer), real_vocab and 250054 or 0), **dims, scale_embedding=True,
        # As in facebook/mbart-large-50-many-to-many-mmt's config; CTranslate2 reads both.
        normalize_before=True, tokenizer_class="MBart50Tokenizer",
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
    )
    return tokenizer, MBartForConditionalGeneration(config)


def _marian(folder, lines, vocab, dims):
    import sentencepiece as spm
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    source = target = _train_spm(lines, vocab // 2, "unigram")
    (folder / "source.spm").write_bytes(source)
    (folder / "target.spm").write_bytes(target)
    pieces = {"</s>": 0, "<unk>": 1}
    for proto in (source, target):
        processor = spm.SentencePieceProcessor(model_proto=proto)
        for i in range(processor.get_piece_size()):
            piece = processor.id_to_piece(i)
            if piece not in pieces and piece not in ("<s>", "</s>", "<unk>"):
                pieces[piece] = len(pieces)
    pieces["<pad>"] = len(pieces)  # STACK.md: the pad token comes last in Marian vocabularies
    (folder / "vocab.json").write_text(json.dumps(pieces, ensure_ascii=False))
    tokenizer = MarianTokenizer(source_spm=str(folder / "source.spm"), target_spm=str(folder / "target.spm"), vocab=str(folder / "vocab.json"))
    config = MarianConfig(
        vocab_size=len(tokenizer), **dims, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    return tokenizer, MarianMTModel(config)
