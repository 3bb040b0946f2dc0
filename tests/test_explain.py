"""Explanations on a toy model whose answer is known by hand."""

import pytest
import torch

from seqkit.api import load_recipe
from seqkit.model import build_model
from seqkit.predict.classifier import Classifier
from seqkit.text.vocab import Vocab
from seqkit.viz.explain import colorize

VOCABULARIES = {
    "words": Vocab(["<pad>", "<unk>", "good", "bad", "film"]),
    "labels": Vocab(["neg", "pos"], None),
}


def toy_classifier(pooling="mean"):
    """Mean of 2-d word vectors, then a linear layer: good -> [1, 0], bad -> [-1, 0], film -> [0, 1]."""
    recipe = load_recipe(
        "sentiment",
        "my_texts",
        [
            "encoder.features=[embedding]",
            "encoder.embedding_size=2",
            f"head.pooling={pooling}",
        ],
    )
    model = build_model(recipe, VOCABULARIES).eval()
    with torch.no_grad():
        model.encoder.encoders["embedding"].embedding.weight.copy_(
            torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
        )
        model.head.output.weight.copy_(torch.tensor([[-1.0, 0.5], [1.0, 0.5]]))  # rows: neg, pos
        model.head.output.bias.copy_(torch.tensor([0.3, -0.1]))
    return Classifier(recipe, VOCABULARIES, model)


def test_gradient_times_input_gives_the_exact_linear_contributions():
    classifier = toy_classifier()
    positive, negative = classifier.explain(["Good good bad film", "bad bad good"])
    # Class score = logit minus mean logit; the shared `film` weight cancels, each token adds +-1/T.
    assert positive.label == "pos" and positive.tokens == ["good", "good", "bad", "film"]
    assert positive.contributions == pytest.approx([0.25, 0.25, -0.25, 0.0])
    assert negative.label == "neg"
    assert negative.contributions == pytest.approx([1 / 3, 1 / 3, -1 / 3])
    # The contributions add up to the class score minus its value at a zero input (the bias's share).
    logits = torch.tensor([-0.25 + 0.125 + 0.3, 0.25 + 0.125 - 0.1])  # mean vector [0.25, 0.25]
    centered = logits - logits.mean()
    bias_share = torch.tensor([0.3, -0.1]) - 0.1
    assert sum(positive.contributions) == pytest.approx(float(centered[1] - bias_share[1]))
    assert positive.probability == pytest.approx(float(logits.softmax(0)[1]))
    assert positive.attention is None
    (classified,) = classifier.classify(["Good good bad film"])
    assert classified.label == "pos" and classified.probability == pytest.approx(positive.probability)


def test_attention_weights_come_with_the_explanation():
    classifier = toy_classifier(pooling="attention")
    (result,) = classifier.explain(["good film bad good"])
    assert len(result.attention) == 4 == len(result.contributions)
    assert sum(result.attention) == pytest.approx(1.0)


def test_colorize_marks_for_and_against():
    coloured = colorize(["great", "plot", "awful"], [2.0, 0.01, -1.0])
    assert "\x1b[48;5;46m\x1b[30mgreat\x1b[0m" in coloured  # strongest green
    assert " plot " in coloured  # near zero: left plain
    assert "\x1b[48;5;" in coloured.split("plot")[1] and "awful" in coloured
