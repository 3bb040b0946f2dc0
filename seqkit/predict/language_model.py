"""The LanguageModel predictor and its results: SentenceScore (how likely a sentence is) and Sample (a continuation)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from seqkit.config import Recipe
from seqkit.errors import InputError
from seqkit.predict.loading import load_predictor_parts
from seqkit.tasks import get_task


@dataclass
class SentenceScore:
    """How likely a language model finds one sentence: the tokens it read, the natural-log probability of the whole
    sentence (each word, then its end), its perplexity (exp of minus that over the predictions), and each
    prediction's log-probability (one per token, then one for the end)."""

    text: str
    tokens: list[str]
    log_probability: float
    perplexity: float
    token_log_probabilities: list[float]

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Sample:
    """Words a language model drew after a prompt; `ended` when it drew the end of the sentence before `words`."""

    prompt: str
    words: list[str]
    text: str
    ended: bool

    def to_json(self) -> dict:
        return asdict(self)


# More words than any sentence of the training data holds; each drawn word reads the sentence so far once more.
MAX_SAMPLED_WORDS = 200


class LanguageModel:
    """A language model loaded from a run dir (of any task whose `predictor` is "LanguageModel"): `score` says how
    likely sentences are, `sample` continues a prompt word by word."""

    def __init__(self, recipe: Recipe, vocabularies, model):
        self.recipe, self.vocabularies, self.model = recipe, vocabularies, model
        self.task = get_task(recipe.task)

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None) -> LanguageModel:
        return cls(*load_predictor_parts(run_dir, "LanguageModel", device, quantize))

    def _tokens(self, text, where: str) -> list[str]:
        if not isinstance(text, str):
            raise InputError(f"{where}: expected a string, got {type(text).__name__}")
        tokens = self.task.tokenize(self.recipe, text)
        if not tokens:
            raise InputError(f"{where}: empty text, nothing to score")
        return tokens

    def score(self, texts: list[str]) -> list[SentenceScore]:
        """Each sentence's log-probability and perplexity; an empty text is an InputError naming it (`texts[2]`)."""
        from seqkit.tasks.language_model import perplexity

        if isinstance(texts, str):
            raise InputError("score() takes a list of texts; wrap a single text in a list")
        token_lists = [self._tokens(text, f"texts[{index}]") for index, text in enumerate(texts)]
        found = self.task.log_probabilities(self.model, self.recipe, self.vocabularies, token_lists)
        return [
            SentenceScore(text, tokens, sum(values), perplexity(values), values)
            for text, tokens, values in zip(texts, token_lists, found, strict=True)
        ]

    def sample(self, prompt: str, words: int = 20, temperature: float = 1.0, seed: int = 0) -> Sample:
        """Up to `words` words drawn after `prompt` (stopping at the end of the sentence), each from the model's
        distribution sharpened (temperature < 1) or flattened (> 1); the same seed draws the same words."""
        tokens = self._tokens(prompt, "prompt")
        if isinstance(words, bool) or not isinstance(words, int) or not 1 <= words <= MAX_SAMPLED_WORDS:
            raise InputError(f"words: expected a whole number from 1 to {MAX_SAMPLED_WORDS}, got {words!r}")
        if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not 0 < temperature <= 100:
            raise InputError(f"temperature: expected a number above 0 and at most 100, got {temperature!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise InputError(f"seed: expected a whole number from 0 to 2**63 - 1, got {seed!r}")
        generator = torch.Generator().manual_seed(seed)
        arguments = (tokens, words, float(temperature), generator)
        drawn, ended = self.task.sample(self.model, self.recipe, self.vocabularies, *arguments)
        return Sample(prompt, drawn, " ".join([*tokens, *drawn]), ended)
