"""Settings a text classifier takes from its training data: `head.dropout: auto`.

The dropout on the averaged document vector helps documents and costs sentences. Scored on held-out tenths of
the training files (benchmarks/textcls_nested.py; no test file read), the bag of n-grams of `my_texts` with
dropout 0.5 against none:

| corpus | mean words per text | dropout 0.5 | none |
|---|---|---|---|
| MPQA (opinion phrases) | 3 | 84.47 | 85.22 |
| TREC (questions) | 10 | 87.77 | 87.61 |
| CR (review sentences) | 20 | 81.71 | 81.42 |
| Subj (movie sentences) | 24 | 92.92 | 92.87 |
| IMDB (reviews) | 230 | 89.56 | 89.04 |

So `auto` takes no dropout for sentences and 0.5 for documents. The line between them is drawn at
DOCUMENT_WORDS words per training text on average, between the longest sentence corpus measured (24) and the
reviews (230); nothing in between was measured.
"""

from __future__ import annotations

import dataclasses

from seqkit.config import Recipe

AUTO = "auto"
DOCUMENT_WORDS = 60
DOCUMENT_DROPOUT = 0.5


def mean_words(texts: list[str]) -> float:
    """Whitespace-separated words per text, on average (0 for no texts)."""
    return sum(len(text.split()) for text in texts) / max(1, len(texts))


def settle_dropout(recipe: Recipe, texts: list[str]) -> tuple[Recipe, str | None]:
    """The recipe with `head.dropout: auto` replaced by a number chosen from the training `texts`, and a note
    saying what was chosen (None when the recipe names a number itself)."""
    if recipe.head.dropout != AUTO:
        return recipe, None
    words = mean_words(texts)
    dropout = DOCUMENT_DROPOUT if words > DOCUMENT_WORDS else 0.0
    kind = "documents" if words > DOCUMENT_WORDS else "sentences"
    note = (
        f"head.dropout auto: {dropout} ({kind}: {words:.1f} words per training text on average; "
        f"over {DOCUMENT_WORDS} take {DOCUMENT_DROPOUT})"
    )
    return dataclasses.replace(recipe, head=dataclasses.replace(recipe.head, dropout=dropout)), note
