"""Export a trained document classifier (sentiment) to ONNX, and classify with the exported file via onnxruntime.

`seqkit export RUN_DIR --format onnx` on a sentiment run dir writes RUN_DIR/export/ (or --out): `classifier.onnx`,
the whole network (the input encoders, the context layer, pooling and the output layer, then a softmax), with
the batch's features in (words (B, T), plus bigrams (B, T) and/or trigrams (B, T, K) as the recipe's encoders
read them, and lengths (B,)) and class probabilities (B, C) out; beside it the run's config.yaml and vocab/, so
that OnnxClassifier cleans, tokenizes, truncates and featurizes text with the very code the trained model used.

Unlike the tagger's recurrent layer, the bag-of-n-grams model (fastText: mean pooling over word and bigram
vectors, Joulin et al. 2017) and the text CNN (Kim 2014) handle padding by masks inside the network, so the
graph takes padded batches of any length mix. Recurrent context layers run on packed sequences, which ONNX
cannot express; they are refused. The text CNN needs at least as many positions as its widest filter: shorter
batches are padded up to that width (padding never changes the result; see seqkit/layers/conv.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqkit.errors import ConfigError, InputError
from seqkit.export.onnx_trace import feature_examples, write_onnx
from seqkit.layers.conv import TextCNN
from seqkit.predict.classifier import Classification

GRAPH = "classifier.onnx"


class ClassifierNetwork(nn.Module):
    """The classifier as a function of tensors: (features..., lengths) -> class probabilities (B, C)."""

    def __init__(self, model: nn.Module, features: list[str]):
        super().__init__()
        if model.head.context is not None and not isinstance(model.head.context, TextCNN):
            raise ConfigError(
                "head.context: recurrent classifiers cannot be exported (packed sequences); "
                "the bag of n-grams (context: none) and the text CNN (context: cnn) can"
            )
        self.model = model
        self.features = features

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        batch = dict(zip([*self.features, "lengths"], inputs, strict=True))
        return self.model(batch).logits.softmax(dim=-1)  # (B, C)


def minimum_length(model: nn.Module) -> int:
    """Positions a batch needs at least: the widest filter of a text CNN, else 1."""
    context = model.head.context
    return max(context.widths) if isinstance(context, TextCNN) else 1


def export_classifier_onnx(run_dir: Path, out: Path) -> Path:
    """Write the ONNX graph, config.yaml and vocabularies of a sentiment run dir into `out`; returns `out`."""
    from seqkit.encoders import needed_features
    from seqkit.files import atomic_write_with
    from seqkit.run_dirs.layout import CONFIG, VOCABULARY_FOLDER
    from seqkit.run_dirs.run_dir import load_run

    recipe, _, model = load_run(run_dir)
    features = sorted(needed_features(recipe.encoder))  # words always; a fixed order names the graph's inputs
    network = ClassifierNetwork(model, features).eval()
    length = max(8, minimum_length(model))
    examples, axes = feature_examples(features, length)
    # Two rows of different lengths, so that the masks are traced.
    inputs = (*examples, torch.tensor([length, length - 2]))
    output_axes = {"lengths": {0: "batch"}, "probabilities": {0: "batch"}}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_with(
        out / GRAPH,
        lambda path: write_onnx(
            network, inputs, path, [*features, "lengths"], ["probabilities"], {**axes, **output_axes}
        ),
    )
    shutil.copyfile(run_dir / CONFIG, out / CONFIG)
    shutil.copytree(run_dir / VOCABULARY_FOLDER, out / VOCABULARY_FOLDER, dirs_exist_ok=True)
    return out


class OnnxClassifier:
    """Classifies texts with an exported folder through onnxruntime; the same answers as seqkit.Classifier."""

    def __init__(self, folder: Path):
        from seqkit.export.onnx_session import inference_session
        from seqkit.run_dirs.run_dir import read_recipe, read_vocabularies
        from seqkit.tasks import get_task

        folder = Path(folder)
        self.session = inference_session(folder / GRAPH, "OnnxClassifier")
        self.recipe = read_recipe(folder)
        self.vocabularies = read_vocabularies(folder)
        self.task = get_task(self.recipe.task)
        self.inputs = [node.name for node in self.session.get_inputs()]
        head = self.recipe.head
        self.minimum_length = max(head.cnn_widths) if head.context == "cnn" else 1

    def predict(self, documents: list[list[str]], batch_size: int = 256) -> np.ndarray:
        """Class probabilities (N, C) of tokenized documents, in their order (as SentimentTask.predict)."""
        probabilities = np.zeros((len(documents), len(self.vocabularies["labels"])), dtype=np.float32)
        for indices, batch in self.task.batches(self.recipe, self.vocabularies, documents, batch_size):
            feeds = {name: batch[name].numpy() for name in self.inputs}
            shortfall = self.minimum_length - feeds["words"].shape[1]
            if shortfall > 0:  # zero ids are padding, masked out by the lengths
                for name in self.inputs:
                    if name != "lengths":
                        widths = [(0, 0), (0, shortfall)] + [(0, 0)] * (feeds[name].ndim - 2)
                        feeds[name] = np.pad(feeds[name], widths)
            (probabilities[indices],) = self.session.run(None, feeds)
        return probabilities

    def classify(self, texts: list[str], batch_size: int = 256) -> list[Classification]:
        """The most likely label of each raw text, with class probabilities."""
        if isinstance(texts, str):
            raise InputError("classify() takes a list of texts; wrap a single text in a list")
        documents = self.task.documents(self.recipe, list(texts), "texts")
        labels = self.vocabularies["labels"].tokens
        results = []
        for text, row in zip(texts, self.predict(documents, batch_size).tolist(), strict=True):
            best = max(range(len(labels)), key=row.__getitem__)
            results.append(Classification(text, labels[best], row[best], dict(zip(labels, row, strict=True))))
        return results
