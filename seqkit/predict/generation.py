"""The text-generation predictors, Translator and Summarizer, and what they share: a seq2seq run dir and batched
generation from raw texts. Both answer a Generated (seqkit/tasks/generation.py) per text, or n-best lists."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from seqkit.errors import InputError
from seqkit.predict.loading import load_predictor_parts


class _GenerationModel:
    """What Translator and Summarizer share: a seq2seq run dir and batched generation from raw texts."""

    def __init__(
        self,
        run_dir: str | Path,
        predictor: str,
        device: str = "auto",
        quantize: str | None = None,
        ensemble: list[str | Path] = (),
    ):
        """`ensemble`: more run dirs that decode together with `run_dir` (seqkit/predict/ensemble.py)."""
        if ensemble:
            from seqkit.predict.ensemble import load_ensemble

            parts = load_ensemble([run_dir, *ensemble], predictor, device, quantize)
        else:
            parts = load_predictor_parts(run_dir, predictor, device, quantize)
        self.recipe, self.vocabularies, self.model = parts

    def generate(self, texts: list[str], beam: int | None, n_best: int, with_attention: bool, batch_size: int):
        """Per text, its n_best outputs, best first. The API and the CLI (`--n-best`) both come through here.

        Without a `beam`, the recipe's beam is used, widened to `n_best` when that asks for more outputs.
        """
        from seqkit.tasks.generation import generate

        if isinstance(texts, str):
            raise InputError("pass a list of texts; wrap a single text in a list")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"texts[{index}]: expected a string, got {type(text).__name__}")
            if not text.strip():
                raise InputError(f"texts[{index}]: empty text, nothing to generate from")
        if beam is None:
            beam = max(self.recipe.head.beam, n_best)
        arguments = (list(texts), beam, n_best, with_attention, batch_size)
        return generate(self.model, self.recipe, self.vocabularies, *arguments)


class _GenerationPredictor:
    """A text-generation predictor: loading and the best / n-best outputs. Each subclass names its verb
    (translate, summarize) and, as `served_as`, the predictor name that the tasks it loads declare."""

    served_as: str

    def __init__(self, generator: _GenerationModel):
        self.generator = generator

    @classmethod
    def load(
        cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None, ensemble: list[str | Path] = ()
    ) -> Self:
        """The model of `run_dir`; with `ensemble` (more run dirs sharing its vocabularies), all of them decoding
        together, each word scored by the mean of their probabilities."""
        return cls(_GenerationModel(run_dir, cls.served_as, device, quantize, ensemble))

    def generate(
        self,
        texts: list[str],
        beam: int | None = None,
        with_attention: bool = False,
        batch_size: int = 64,
        n_best: int | None = None,
    ):
        """The best output for each text (a Generated: text, tokens, score, optional attention), or with `n_best`
        a list per text of its n_best outputs, best first; what `translate` and `summarize` answer."""
        return self._outputs(texts, beam, n_best, with_attention, batch_size)

    def _outputs(self, texts: list[str], beam: int | None, n_best: int | None, with_attention: bool, batch_size: int):
        """The best output per text (n_best None), else a list of n_best outputs per text, best first."""
        found = self.generator.generate(texts, beam, n_best or 1, with_attention, batch_size)
        return [outputs[0] for outputs in found] if n_best is None else found


class Translator(_GenerationPredictor):
    """A translation model from a run dir: `Translator.load(run).translate(texts, beam=5)`."""

    served_as = "Translator"

    def translate(
        self,
        texts: list[str],
        beam: int | None = None,
        with_attention: bool = False,
        batch_size: int = 64,
        n_best: int | None = None,
    ):
        """The best translation of each text (a Generated: text, tokens, score, optional attention).

        With `n_best`, a list per text of its n_best translations, best first: what `seqkit translate --n-best`
        prints. Without a `beam`, the recipe's beam is used, widened to n_best if that is larger.
        """
        return self._outputs(texts, beam, n_best, with_attention, batch_size)

    def translate_n_best(self, texts: list[str], beam: int | None, n_best: int, batch_size: int = 64):
        """Per text, its n_best translations, best first (the same as `translate(..., n_best=n_best)`)."""
        return self._outputs(texts, beam, n_best, False, batch_size)


class Summarizer(_GenerationPredictor):
    """A title-generation model from a run dir: `Summarizer.load(run).summarize(texts)`."""

    served_as = "Summarizer"

    def summarize(
        self,
        texts: list[str],
        beam: int | None = None,
        with_attention: bool = False,
        batch_size: int = 64,
        n_best: int | None = None,
    ):
        """The best title for each text (a Generated: text, tokens, score, optional attention).

        With `n_best`, a list per text of its n_best titles, best first, as `seqkit summarize --n-best` prints.
        """
        return self._outputs(texts, beam, n_best, with_attention, batch_size)

    def summarize_n_best(self, texts: list[str], beam: int | None, n_best: int, batch_size: int = 64):
        """Per text, its n_best titles, best first (the same as `summarize(..., n_best=n_best)`)."""
        return self._outputs(texts, beam, n_best, False, batch_size)
