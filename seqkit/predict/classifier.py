"""The Classifier predictor (any classification task) and its results: Classification and Explanation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from seqkit.config import Recipe
from seqkit.errors import InputError
from seqkit.predict.loading import load_predictor_parts
from seqkit.tasks import get_task


@dataclass
class Classification:
    """One classified text: the predicted label, its probability, and every class's probability."""

    text: str
    label: str
    probability: float
    probabilities: dict[str, float]

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Explanation:
    """Per-token contributions to the predicted label (gradient x input), and attention weights if any."""

    text: str
    label: str
    probability: float
    tokens: list[str]
    contributions: list[float]
    attention: list[float] | None = None

    def to_json(self) -> dict:
        return asdict(self)


class Classifier:
    """A document classifier loaded from a run dir of any classification task (whose `predictor` is
    "Classifier": sentiment, or any other labelled texts); `classify` and `explain` take raw texts."""

    def __init__(self, recipe: Recipe, vocabularies, model):
        self.recipe, self.vocabularies, self.model = recipe, vocabularies, model
        self.task = get_task(recipe.task)

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None) -> Classifier:
        return cls(*load_predictor_parts(run_dir, "Classifier", device, quantize))

    def _documents(self, texts: list[str]) -> list[list[str]]:
        if isinstance(texts, str):
            raise InputError("classify() and explain() take a list of texts; wrap a single text in a list")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"texts[{index}]: expected a string, got {type(text).__name__}")
        sources = [f"texts[{index}]" for index in range(len(texts))]
        return self.task.documents(self.recipe, list(texts), "texts", sources)

    def classify(self, texts: list[str], batch_size: int = 256) -> list[Classification]:
        """The most likely label of each text, with class probabilities."""
        labels = self.vocabularies["labels"].tokens
        documents = self._documents(texts)
        probabilities = self.task.predict(self.model, self.recipe, self.vocabularies, documents, batch_size)
        results = []
        for text, row in zip(texts, probabilities.tolist(), strict=True):
            best = max(range(len(labels)), key=row.__getitem__)
            results.append(Classification(text, labels[best], row[best], dict(zip(labels, row, strict=True))))
        return results

    def explain(self, texts: list[str], batch_size: int = 32) -> list[Explanation]:
        """Each text's predicted label and every kept token's contribution to it (see seqkit/viz/explain.py)."""
        from seqkit.viz.explain import gradient_times_input

        documents = self._documents(texts)
        labels = self.vocabularies["labels"].tokens
        self.model.eval()
        results: list[Explanation | None] = [None] * len(documents)
        for indices, batch in self.task.batches(self.recipe, self.vocabularies, documents, batch_size):
            contributions, classes, output = gradient_times_input(self.model, batch)
            probabilities = output.logits.detach().softmax(dim=-1)  # (B, C)
            attention = output.extras.get("attention")
            for row, index in enumerate(indices):
                length = len(documents[index])
                results[index] = Explanation(
                    text=texts[index],
                    label=labels[int(classes[row])],
                    probability=float(probabilities[row, classes[row]]),
                    tokens=documents[index],
                    contributions=contributions[row, :length].tolist(),
                    attention=attention[row, :length].detach().tolist() if attention is not None else None,
                )
        return results
