"""Word shape: the spelling class of a word (capitalised, all capitals, a number, ...), learned as a small vector.

A name never seen in training falls into the lexicon's "other" slot, and its letter trigrams are mostly new
too; what it still shares with the names that were seen is its shape: `Zbigniew` is capitalised like `Peter`,
`FIFA` is all capitals like `UEFA`, `1-0` is a number with punctuation like `2-1`. Named-entity taggers have
read such spelling features since before neural networks (Collobert et al. 2011 kept a capitalisation
feature beside their word vectors; Huang et al. 2015 and Chiu and Nichols 2016 did too).
"""

from __future__ import annotations

import torch
from torch import nn

# Shape classes; 0 is padding. A word gets the first class whose test it passes, in this order.
SHAPES = (
    "<pad>",
    "lower",  # all letters lower case: "house"
    "capitalised",  # an upper-case letter, then no upper case: "Peter", "U"
    "upper",  # two or more letters, all upper case: "FIFA", "U.S."
    "mixed",  # letters in both cases otherwise: "McDonald", "iPhone"
    "digits",  # digits only: "1996"
    "number",  # digits with punctuation, no letters: "1-0", "3.5", "12:30"
    "alphanumeric",  # letters and digits: "F16", "2nd"
    "punctuation",  # no letters or digits: ",", "--"
)
_CLASS = {name: index for index, name in enumerate(SHAPES)}


def word_shape(word: str) -> int:
    """The shape class (1 .. len(SHAPES) - 1) of a non-empty word."""
    letters = [character for character in word if character.isalpha()]
    has_digit = any(character.isdigit() for character in word)
    if letters and has_digit:
        return _CLASS["alphanumeric"]
    if has_digit:
        return _CLASS["digits"] if word.isdigit() else _CLASS["number"]
    if not letters:
        return _CLASS["punctuation"]
    uppers = sum(character.isupper() for character in letters)
    if uppers == 0:
        return _CLASS["lower"]
    if letters[0].isupper() and uppers == 1:
        return _CLASS["capitalised"]
    if uppers == len(letters):
        return _CLASS["upper"]
    return _CLASS["mixed"]


class WordShapeEncoder(nn.Module):
    """(B, T) shape ids (0 = padding) -> (B, T, D): one learned vector per shape class."""

    feature = "shapes"

    def __init__(self, output_size: int):
        super().__init__()
        self.embedding = nn.Embedding(len(SHAPES), output_size, padding_idx=0)
        self.output_dim = output_size

    def forward(self, shape_ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(shape_ids)  # (B, T, D)
