"""Which words drove a classifier's decision: gradient x input, and how to show it.

Gradient x input (Shrikumar et al. 2016; Baehrens et al. 2010 for the gradient alone) scores token t by the
dot product of its encoder vector x_t with the gradient of the class score at x_t. The class score is the
predicted class's logit minus the mean of all logits, so that what every class shares cancels out and, for
two classes, the score is half the margin between them. For a model that is linear in its inputs (the
bag-of-n-grams recipe: mean pooling and a linear layer) the token scores add up exactly to the class score
minus its value at an all-zero input, so each token's share is its exact contribution; for non-linear models
they are a first-order estimate. Positive scores speak for the predicted class, negative ones against it.
"""

from __future__ import annotations

import torch

# ANSI 256-colour backgrounds, from faint to strong: greens speak for the prediction, reds against it.
_GREENS = (194, 157, 120, 83, 46)
_REDS = (224, 217, 210, 203, 196)


def gradient_times_input(
    model: torch.nn.Module, batch: dict[str, torch.Tensor], classes: torch.Tensor | None = None
):
    """Per-token scores (B, T) for `classes` (B,) (the predicted ones when None), with the head's output.

    `model` is a SeqModel (encoder -> head); the gradient is taken at the encoder's output, so every
    encoder (words, bigrams, letter trigrams) is covered by the same rule. Padding positions score 0.
    """
    with torch.enable_grad():
        encoded = model.encoder(batch).detach().requires_grad_(True)  # (B, T, D)
        output = model.head(encoded, batch)
        logits = output.logits  # (B, C)
        if classes is None:
            classes = logits.argmax(dim=1)
        centered = logits - logits.mean(dim=1, keepdim=True)  # (B, C)
        score = centered.gather(1, classes.unsqueeze(1)).sum()
        (gradient,) = torch.autograd.grad(score, encoded)
    contributions = (gradient * encoded).sum(dim=-1).detach()  # (B, T)
    mask = output.extras.get("mask")
    if mask is not None:
        contributions = contributions.masked_fill(~mask, 0.0)
    return contributions, classes, output


def colorize(tokens: list[str], scores: list[float]) -> str:
    """Tokens with background colours by score: green for the prediction, red against, stronger = larger."""
    largest = max((abs(score) for score in scores), default=0.0) or 1.0
    pieces = []
    for token, score in zip(tokens, scores, strict=True):
        level = min(len(_GREENS) - 1, int(abs(score) / largest * len(_GREENS)))
        if abs(score) / largest < 0.1:
            pieces.append(token)
            continue
        colour = (_GREENS if score > 0 else _REDS)[level]
        pieces.append(f"\x1b[48;5;{colour}m\x1b[30m{token}\x1b[0m")
    return " ".join(pieces)
