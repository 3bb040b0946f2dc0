"""The many-to-one head: every pooling, the CNN and the bag of n-grams; padding never changes a result."""

import pytest
import torch

from seqkit.heads.classifier import ClassifierHead
from seqkit.layers.conv import TextCNN
from seqkit.layers.pooling import AttentionPooling, max_pool, mean_pool, sum_pool
from seqkit.layers.rnn import RecurrentLayer

LENGTHS = torch.tensor([5, 2, 3])


def make_head(context, pooling):
    torch.manual_seed(3)
    layers = {
        "rnn": lambda: RecurrentLayer(6, 4, bidirectional=True, cell="lstm"),
        "gru": lambda: RecurrentLayer(6, 4, bidirectional=False, cell="gru"),
        "cnn": lambda: TextCNN(6, (2, 3), 5),
        "none": lambda: None,
    }
    return ClassifierHead(layers[context](), input_size=6, num_classes=3, pooling=pooling).eval()


CASES = [(c, p) for c in ("rnn", "gru") for p in ("last", "mean", "max", "attention")]
CASES += [("cnn", "max"), ("none", "mean"), ("none", "sum"), ("none", "max"), ("none", "attention")]


@pytest.mark.parametrize(("context", "pooling"), CASES)
def test_shapes_loss_and_padding_invariance(context, pooling):
    head = make_head(context, pooling)
    encoded = torch.randn(3, 5, 6)  # (B, T, D)
    batch = {"lengths": LENGTHS, "label": torch.tensor([0, 2, 1])}
    output = head(encoded, batch)
    assert output.logits.shape == (3, 3)
    assert output.loss is not None and torch.isfinite(output.loss)
    output.loss.backward()
    assert all(p.grad is not None for p in head.parameters())
    # Each document alone gives the same logits as inside the padded batch.
    for row, length in enumerate(LENGTHS.tolist()):
        alone = head(encoded[row : row + 1, :length], {"lengths": torch.tensor([length])})
        torch.testing.assert_close(alone.logits, output.logits[row : row + 1], atol=1e-5, rtol=1e-5)
        assert alone.loss is None
    if pooling == "attention":
        weights = output.extras["attention"]
        assert weights.shape == (3, 5)
        torch.testing.assert_close(weights.sum(dim=1), torch.ones(3))
        assert (weights[1, 2:] == 0).all()


def test_pooling_functions_by_hand():
    outputs = torch.tensor([[[1.0, -4.0], [3.0, 2.0], [100.0, 100.0]]])  # (1, 3, 2), last position is padding
    mask = torch.tensor([[True, True, False]])
    assert mean_pool(outputs, mask).tolist() == [[2.0, -1.0]]
    assert sum_pool(outputs, mask).tolist() == [[4.0, -2.0]]
    assert max_pool(outputs, mask).tolist() == [[3.0, 2.0]]
    attention = AttentionPooling(2, 3)
    with torch.no_grad():
        for parameter in attention.parameters():
            parameter.zero_()
    pooled, weights = attention(outputs, mask)  # equal scores: the plain mean
    assert weights.tolist() == [[0.5, 0.5, 0.0]]
    assert pooled.tolist() == [[2.0, -1.0]]


def test_invalid_combinations_are_refused():
    with pytest.raises(ValueError, match="needs a recurrent layer"):
        ClassifierHead(None, 6, 2, pooling="last")
    with pytest.raises(ValueError, match="pools by max"):
        ClassifierHead(TextCNN(6), 6, 2, pooling="mean")
    with pytest.raises(ValueError, match="unknown pooling"):
        ClassifierHead(None, 6, 2, pooling="median")
