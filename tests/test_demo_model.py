"""The committed demo model translates the sample as its references do (it was trained on them)."""

from pathlib import Path

import pytest

from tarjoman.adapt import evaluate, mean_chrf, reference_pairs
from tarjoman.engines import GenerationSettings, load_engine

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "sources" / "demo-model"


def test_demo_model_scores_chrf_80_on_the_sample():
    if not (DEMO / "config.json").is_file():
        pytest.fail("sources/demo-model is missing: run `make demo-model`")
    provenance = (DEMO / "TARJOMAN_ADAPTED.json").read_text()
    assert '"from_scratch": true' in provenance and "sample.references.yaml" in provenance
    pairs = reference_pairs(REPO / "sources" / "sample.references.yaml", ["ar", "en", "fr", "ur"])
    scores = evaluate(load_engine(str(DEMO), settings=GenerationSettings(num_beams=1)), pairs)
    assert set(scores) == {"ar", "en", "fr", "ur"}
    assert mean_chrf(scores) >= 80, scores
    assert min(s.chrf for s in scores.values()) >= 70, scores
