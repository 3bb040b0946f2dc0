"""A short run on real Multi30k files: gzip reading, sentencepiece, training, beam search, sacreBLEU.

Training for seconds cannot teach translation, so the run learns 80 real training pairs and is scored on
those same pairs: a BLEU above 40 is out of reach for a model that does not train, decode or detokenize
properly (outputting the German source scores about 3, an untrained model about 0).
"""

from __future__ import annotations

import pytest

from seqkit import api
from seqkit.metrics import translation_scores
from seqkit.predict.generation import Translator

pytestmark = pytest.mark.slow


def test_a_short_multi30k_run_learns_its_pairs(tmp_path):
    overrides = [
        "data.max_train_pairs=80",
        "data.valid=train",
        "data.max_valid_pairs=80",
        "data.subwords.vocab_size=400",
        "encoder.embedding_size=64",
        "encoder.dropout=0.0",
        "rnn.hidden_size=96",
        "head.embedding_size=64",
        "head.hidden_size=128",
        "head.dropout=0.0",
        "head.label_smoothing=0.0",
        "head.beam=1",
        "train.epochs=14",
        "train.batch_size=40",
        "train.learning_rate=0.01",
        "train.warmup_steps=0",
        "train.threads=1",
        "train.schedule=constant",
    ]
    run_dir = api.train("translation", out=tmp_path / "run", overrides=overrides, show_progress=False)
    scores = api.evaluate(run_dir, "valid")
    assert scores["bleu"] > 40.0, scores
    pairs = api.get_task("translation").load_splits(api.read_recipe(run_dir), None, ("valid",))["valid"]
    beamed = Translator.load(run_dir).translate([p.source for p in pairs], beam=3)
    assert translation_scores([o.text for o in beamed], [p.target for p in pairs])["bleu"] > 40.0
    assert (
        scores["bleu_signature"]
        == "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:"
        + scores["bleu_signature"].rsplit(":", 1)[1]
    )
