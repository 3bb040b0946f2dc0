"""The Reader predictor (a bAbI memory network) and its answer, ReadAnswer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from seqkit.config import Recipe
from seqkit.errors import InputError
from seqkit.predict.loading import load_predictor_parts
from seqkit.tasks import get_task


@dataclass
class ReadAnswer:
    """A memory network's answer: the word, its probability, and attention per hop over the story's sentences.

    `attention[k][i]` is hop k+1's weight on `story[i]`; sentences older than the memory window get 0.
    """

    answer: str
    probability: float
    attention: list[list[float]]
    story: list[str]
    question: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Reader:
    """A bAbI memory network loaded from a run dir (of any task whose `predictor` is "Reader"); `answer` reads a
    story and answers one question."""

    recipe: Recipe
    vocabularies: dict
    model: torch.nn.Module

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None) -> Reader:
        return cls(*load_predictor_parts(run_dir, "Reader", device, quantize))

    def answer(self, story_sentences: list[str], question: str) -> ReadAnswer:
        """Answer `question` about the story; an empty question or sentence raises InputError."""
        return self._answer_all([(story_sentences, question)], [""])[0]

    def answer_many(self, questions: list[tuple[list[str], str]], batch_size: int = 256) -> list[ReadAnswer]:
        """Answer (story sentences, question) pairs in batched model calls; an error names the pair's index."""
        if isinstance(questions, tuple):
            raise InputError("answer_many() takes a list of (story sentences, question) pairs")
        prefixes = [f"questions[{index}]." for index in range(len(questions))]
        return self._answer_all(list(questions), prefixes, batch_size)

    def _answer_all(self, pairs: list, prefixes: list[str], batch_size: int = 256) -> list[ReadAnswer]:
        from seqkit.data.babi import BabiQuestion, tokenize

        examples = []
        for (story_sentences, question), prefix in zip(pairs, prefixes, strict=True):
            if isinstance(story_sentences, str):
                raise InputError(f"{prefix}story_sentences: pass the story as a list of sentences")
            sentences = []
            for index, sentence in enumerate(story_sentences):
                if not isinstance(sentence, str) or not tokenize(sentence):
                    raise InputError(f"{prefix}story_sentences[{index}]: a sentence needs at least one word")
                sentences.append(tokenize(sentence))
            if not sentences:
                raise InputError(f"{prefix}story_sentences: the story is empty, nothing to read")
            if not isinstance(question, str) or not tokenize(question):
                raise InputError(f"{prefix}question: empty question, nothing to answer")
            examples.append(BabiQuestion(0, tuple(sentences), tokenize(question), "", ()))
        task = get_task(self.recipe.task)
        predictions, _ = task.predict(self.model, self.recipe, self.vocabularies, examples, batch_size)
        results = []
        for (story_sentences, question), prediction in zip(pairs, predictions, strict=True):
            # Sentences older than the memory window were never read: they get weight 0 in every hop.
            skipped = len(story_sentences) - len(prediction["attention"][0])
            attention = [[0.0] * skipped + hop for hop in prediction["attention"]]
            results.append(
                ReadAnswer(prediction["answer"], prediction["probability"], attention, list(story_sentences), question)
            )
        return results
