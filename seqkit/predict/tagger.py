"""The Tagger predictor (slot filling, NER) and what it answers: TaggedText, and the raw or pre-split input it reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from seqkit.config import Recipe
from seqkit.errors import InputError
from seqkit.predict.loading import load_predictor_parts
from seqkit.tasks import get_task
from seqkit.text.tokenize import word_offsets


@dataclass
class TaggedText:
    """One tagged text: tokens as written, a BIO tag per token, the slot spans, and the intent when the model has
    one. Each span holds token indices (`start`, `end`), character offsets into `text` (`start_char`,
    `end_char`) and its `text` as written there."""

    text: str
    tokens: list[str]
    tags: list[str]
    spans: list[dict] = field(default_factory=list)
    intent: str | None = None
    intent_probability: float | None = None

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "tokens": self.tokens,
            "tags": self.tags,
            "spans": self.spans,
            "intent": self.intent,
            "intent_probability": self.intent_probability,
        }


@dataclass(frozen=True)
class TaggerInput:
    """One text to tag: the text as written, its tokens (casing kept) and their character offsets in it."""

    text: str
    tokens: list[str]
    offsets: list[tuple[int, int]]

    def model_tokens(self, lowercase: bool) -> list[str]:
        """The tokens the model reads: lowercased for a model trained on lowercased text, the output keeps them."""
        return [token.lower() for token in self.tokens] if lowercase else self.tokens


def tagger_inputs(texts, is_split_into_words: bool = False) -> tuple[list[TaggerInput], bool]:
    """(the texts to tag, whether one text rather than a list was given); bad input is an InputError naming it.

    Raw text is a string or a list of strings. Pre-split text (`is_split_into_words`, as in Hugging Face
    tokenizers) is one list of tokens or a list of such lists; its text is the tokens joined by single spaces.
    """
    if is_split_into_words:
        if isinstance(texts, str):
            raise InputError("is_split_into_words=True: pass a list of tokens, or a list of such lists")
        single = len(texts) > 0 and all(isinstance(item, str) for item in texts)
        batch = [texts] if single else list(texts)
        names = ["tokens"] if single else [f"texts[{index}]" for index in range(len(batch))]
        return [_split_input(tokens, name) for tokens, name in zip(batch, names, strict=True)], single
    single = isinstance(texts, str)
    batch = [texts] if single else list(texts)
    inputs = []
    for index, text in enumerate(batch):
        name = "text" if single else f"texts[{index}]"
        if not isinstance(text, str):
            raise InputError(f"{name}: expected a string, got {type(text).__name__}")
        offsets = word_offsets(text)
        if not offsets:
            raise InputError(f"{name}: empty text, nothing to tag")
        inputs.append(TaggerInput(text, [text[start:end] for start, end in offsets], offsets))
    return inputs, single


def _split_input(tokens, name: str) -> TaggerInput:
    if isinstance(tokens, str) or not isinstance(tokens, list | tuple):
        raise InputError(f"{name}: expected a list of tokens, got {type(tokens).__name__}")
    if not tokens:
        raise InputError(f"{name}: no tokens, nothing to tag")
    offsets, start = [], 0
    for index, token in enumerate(tokens):
        if not isinstance(token, str) or not token.strip():
            raise InputError(f"{name}[{index}]: a token must be a non-blank string, got {token!r}")
        offsets.append((start, start + len(token)))
        start += len(token) + 1  # the joining space
    return TaggerInput(" ".join(tokens), list(tokens), offsets)


def tagged_text(item: TaggerInput, prediction: dict) -> TaggedText:
    """A TaggedText from a text's input and its prediction (tags, and intent with probability if any)."""
    from seqkit.tasks.slot_filling import spans_of

    return TaggedText(
        text=item.text,
        tokens=list(item.tokens),
        tags=prediction["tags"],
        spans=spans_of(item.text, item.offsets, prediction["tags"]),
        intent=prediction.get("intent"),
        intent_probability=prediction.get("intent_probability"),
    )


class Tagger:
    """A slot-filling / NER model loaded from a run dir (of any task whose `predictor` is "Tagger"); `tag` takes
    one text or a batch, raw or pre-split."""

    def __init__(self, recipe: Recipe, vocabularies, model):
        self.recipe = recipe
        self.vocabularies = vocabularies
        self.model = model
        self.task = get_task(recipe.task)

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None) -> Tagger:
        return cls(*load_predictor_parts(run_dir, "Tagger", device, quantize))

    def tag(
        self, texts: str | list[str] | list[list[str]], batch_size: int = 256, is_split_into_words: bool = False
    ) -> TaggedText | list[TaggedText]:
        """Tag one text (a string: one TaggedText back) or a list of texts (a list back, in order).

        With `is_split_into_words`, `texts` is one list of tokens (one result) or a list of such lists. Tokens
        keep their casing; a model trained on lowercased text reads them lowercased. An empty text raises
        InputError naming it (`texts[3]`).
        """
        inputs, single = tagger_inputs(texts, is_split_into_words)
        lowercase = self.recipe.data.lowercase
        token_lists = [item.model_tokens(lowercase) for item in inputs]
        predictions = self.task.predict(self.model, self.recipe, self.vocabularies, token_lists, batch_size)
        results = [tagged_text(item, prediction) for item, prediction in zip(inputs, predictions, strict=True)]
        return results[0] if single else results
