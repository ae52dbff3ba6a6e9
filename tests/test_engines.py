"""Engines on tiny models of the real architectures (random weights: assert on token IDs and structure)."""

import ast
import json
import shutil
from pathlib import Path

import pytest

from tarjoman.engines import GenerationSettings, load_engine
from tarjoman.engines.hf import length_sorted_batches, load_tokenizer
from tarjoman.errors import EngineError

GREEDY = GenerationSettings(num_beams=1, max_new_tokens=12)
SENTENCES = [
    "روز ۳۱ شهریور ۱۳۵۹ در خانهٔ پدری‌ام در خرمشهر بودم.",
    "سلام.",
    "ما در کوچه‌های شهر، خانه به خانه می‌جنگیدیم و تا غروب پل را نگه داشتیم.",
    "علی صفری از بچه‌های آبادان بود.",
]


@pytest.mark.parametrize(
    "family, codes",
    [
        ("nllb", {"ar": "arb_Arab", "en": "eng_Latn", "fr": "fra_Latn", "ur": "urd_Arab"}),
        ("mbart50", {"ar": "ar_AR", "en": "en_XX", "fr": "fr_XX", "ur": "ur_PK"}),
    ],
)
def test_target_language_token_is_forced(tiny_models, family, codes):
    engine = load_engine(tiny_models[family], settings=GREEDY)
    assert engine.info.family == family
    tokenizer = load_tokenizer(engine.info.path)
    for target, code in codes.items():
        ids = engine.generate_ids(SENTENCES[:2], "fa", target)
        expected = tokenizer.convert_tokens_to_ids(code)
        assert all(row[1] == expected for row in ids), (target, ids)


def test_source_language_token_is_set(tiny_models):
    engine = load_engine(tiny_models["nllb"], settings=GREEDY)
    assert engine.count_tokens("سلام", "fa") >= 3  # language code + pieces + </s>
    tokenizer = load_tokenizer(engine.info.path)
    tokenizer.src_lang = "pes_Arab"
    assert tokenizer("سلام")["input_ids"][0] == tokenizer.convert_tokens_to_ids("pes_Arab")


def test_batching_keeps_order(tiny_models):
    engine = load_engine(tiny_models["nllb"], settings=GREEDY)
    one_by_one = [engine.generate_ids([s], "fa", "en")[0] for s in SENTENCES]
    small_batches = load_engine(tiny_models["nllb"], settings=GenerationSettings(num_beams=1, max_new_tokens=12, batch_tokens=40))
    calls = small_batches.calls
    batched = small_batches.generate_ids(SENTENCES, "fa", "en")
    assert small_batches.calls - calls > 1  # the budget forced several batches
    assert batched == one_by_one


def test_length_sorted_batches_respect_the_budget():
    lengths = [5, 50, 7, 30, 30, 2, 49, 12]
    settings = GenerationSettings(batch_tokens=100, max_batch=3)
    batches = length_sorted_batches(lengths, settings)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3 and len(batch) * max(lengths[i] for i in batch) <= 100 or len(batch) == 1
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat, reverse=True)


def test_length_limit_is_relative_to_the_source():
    settings = GenerationSettings(max_ratio=2.0, max_extra=10, max_new_tokens=100)
    assert settings.length_limit(20) == 50
    assert settings.length_limit(80) == 100
    assert GenerationSettings(min_new_tokens=30, max_new_tokens=30).length_limit(3) == 30


def test_marian_pivots_through_english(tiny_models):
    engine = load_engine(tiny_models["marian"], settings=GREEDY)
    assert engine.info.family == "marian"
    before = engine.calls
    out = engine.translate(SENTENCES[:2], "fa", "ar")  # there is no fa-ar pair
    assert len(out) == 2 and engine.calls - before == 2  # fa→en, then en→ar
    with pytest.raises(EngineError, match="no Marian model for fa→fr"):
        engine.translate(["سلام"], "fa", "fr")  # en-fr is missing too


def test_ctranslate2_backend(tiny_models):
    engine = load_engine(tiny_models["nllb"], backend="ctranslate2", settings=GREEDY)
    out = engine.translate(SENTENCES, "fa", "fr")
    assert len(out) == 4 and all(isinstance(t, str) for t in out)
    assert engine.signature["backend"] == "ctranslate2" and engine.signature["compute_type"] == "int8"
    model_bin = engine.folder / "model.bin"
    stamp = model_bin.stat().st_mtime_ns
    from tarjoman.engines.ct2 import CTranslate2Engine

    again = CTranslate2Engine(tiny_models["nllb"], GREEDY)  # a new process would do the same
    assert again.folder == engine.folder and model_bin.stat().st_mtime_ns == stamp  # converted once


def test_auto_is_ctranslate2_on_a_cpu_and_transformers_on_a_gpu_or_for_marian(tiny_models):
    from tarjoman.engines import default_backend

    assert default_backend(tiny_models["nllb"]) == "ctranslate2"  # these machines have no GPU
    assert default_backend(tiny_models["mbart50"], "cpu") == "ctranslate2"
    assert default_backend(tiny_models["nllb"], "cuda") == "transformers"
    assert default_backend(tiny_models["marian"]) == "transformers"  # a folder of pairs
    assert default_backend(str(Path(tiny_models["marian"]) / "fa-en")) == "transformers"  # one pair
    assert default_backend("Helsinki-NLP/opus-mt-{src}-{tgt}") == "transformers"
    engine = load_engine(tiny_models["nllb"], backend="auto", settings=GREEDY)
    assert engine.backend == "ctranslate2" and engine is load_engine(tiny_models["nllb"], backend="ctranslate2", settings=GREEDY)


def test_signature_records_what_made_the_draft(tiny_models):
    engine = load_engine(tiny_models["nllb"], settings=GREEDY)
    signature = engine.signature
    assert signature["model"] == tiny_models["nllb"] and signature["backend"] == "transformers"
    assert signature["settings"]["num_beams"] == 1 and len(signature["revision"]) == 64
    assert signature["tarjoman"]


def test_model_is_loaded_once_per_process(tiny_models):
    first = load_engine(tiny_models["nllb"], settings=GREEDY)
    assert load_engine(tiny_models["nllb"], settings=GREEDY) is first


@pytest.fixture
def causal_lm(tmp_path, tiny_models):
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path / "gpt2"
    GPT2LMHeadModel(GPT2Config(n_embd=32, n_layer=1, n_head=2, vocab_size=100)).save_pretrained(folder)
    return folder


def test_wrong_models_are_refused(tmp_path, causal_lm, tiny_models):
    with pytest.raises(EngineError, match="model folder not found"):
        load_engine(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineError, match="no config.json"):
        load_engine(str(tmp_path / "empty"))
    with pytest.raises(EngineError, match="gpt2 model, not a seq2seq translation model"):
        load_engine(str(causal_lm))
    single = tmp_path / "one-pair"
    shutil.copytree(tiny_models["marian"] + "/fa-en", single)
    with pytest.raises(EngineError, match="translates one pair"):
        load_engine(str(single))
    with pytest.raises(EngineError, match="unknown back-end"):
        load_engine(tiny_models["nllb"], backend="onnx")


def _without_codes(tmp_path, tiny_models, codes) -> Path:
    broken = tmp_path / "nllb-no-codes"
    shutil.copytree(tiny_models["nllb"], broken)
    tokenizer = json.loads((broken / "tokenizer.json").read_text())
    tokenizer["added_tokens"] = [t for t in tokenizer["added_tokens"] if t["content"] not in codes]
    (broken / "tokenizer.json").write_text(json.dumps(tokenizer))
    config = json.loads((broken / "tokenizer_config.json").read_text())
    for key in ("extra_special_tokens", "additional_special_tokens"):
        value = config.get(key)
        if isinstance(value, str):  # transformers 5 writes the list as its repr
            value = ast.literal_eval(value)
        if isinstance(value, list):
            config[key] = [t for t in value if t not in codes]
    config.pop("added_tokens_decoder", None)
    (broken / "tokenizer_config.json").write_text(json.dumps(config))
    return broken


def test_tokenizer_without_the_sources_code_is_refused(tmp_path, tiny_models):
    # Both Persian codes: without Western Persian, NLLB's Dari (prs_Arab, of the macrolanguage fa) would read it.
    broken = _without_codes(tmp_path, tiny_models, ("pes_Arab", "prs_Arab"))
    with pytest.raises(EngineError, match="lacks the language codes of Persian"):
        load_engine(str(broken))


def test_a_target_the_tokenizer_has_no_code_for_is_refused_before_loading(tmp_path, tiny_models):
    from tarjoman.engines import check_model_targets
    from tarjoman.languages import UnknownLanguage

    broken = _without_codes(tmp_path, tiny_models, ("urd_Arab", "arb_Arab"))
    check_model_targets(str(broken), ["en", "id", "zh-Hans"])  # the rest it can write
    with pytest.raises(UnknownLanguage, match=r"nllb-no-codes cannot write Urdu \(ur\)"):
        check_model_targets(str(broken), ["en", "ur"])  # from its JSON files alone
    engine = load_engine(str(broken))
    with pytest.raises(UnknownLanguage, match=r"cannot write Arabic \(ar\)"):
        engine.check_targets(["ar"])
    with pytest.raises(UnknownLanguage, match="cannot write Arabic"):
        engine.translate(["سلام"], "fa", "ar")
    engine.check_targets(["en", "ckb", "ps"])
