"""Do ONNX exports predict what PyTorch predicts? Every test item of a run dir's data, as one JSON document.

    SEQKIT_DATA_DIR=../shared/data python -m benchmarks.onnx_parity --run-dir RUN [--out FOLDER]

Exports the run dir (slot-filling, sentiment, translation or title generation) with `export_onnx`, predicts the
whole test split with the PyTorch model (the task's own `predict`, or `generate` with the recipe's beam) and with
onnxruntime (OnnxTagger / OnnxClassifier / OnnxGenerator) on the same tokens, and counts the items whose
predictions are equal: a tagger's tag sequence and intent, a classifier's label, a generated text. The largest
gap between the two probabilities (intent, or every class) or search scores is reported beside the counts.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from seqkit.export import export_onnx
from seqkit.export.classifier import OnnxClassifier
from seqkit.export.seq2seq import OnnxGenerator
from seqkit.export.tagger import OnnxTagger
from seqkit.run_dirs.run_dir import load_run, read_recipe
from seqkit.tasks import get_task


def tagger_parity(run_dir: Path, folder: Path) -> dict:
    recipe, vocabularies, model = load_run(run_dir)
    task = get_task(recipe.task)
    sentences = task.load_splits(recipe, None, ("test",))["test"]
    token_lists = [list(sentence.tokens) for sentence in sentences]
    expected = task.predict(model, recipe, vocabularies, token_lists)
    found = OnnxTagger(folder).predict(token_lists)
    same_tags = sum(a["tags"] == b["tags"] for a, b in zip(found, expected, strict=True))
    same_intents = sum(a.get("intent") == b.get("intent") for a, b in zip(found, expected, strict=True))
    gaps = [abs(a["intent_probability"] - b["intent_probability"]) for a, b in zip(found, expected, strict=True)
            if "intent_probability" in b]
    return {
        "items": len(token_lists),
        "equal_tags": same_tags,
        "equal_intents": same_intents,
        "max_intent_probability_gap": max(gaps, default=0.0),
    }


def classifier_parity(run_dir: Path, folder: Path) -> dict:
    recipe, vocabularies, model = load_run(run_dir)
    task = get_task(recipe.task)
    examples = task.load_splits(recipe, None, ("test",))["test"]
    documents = task.documents(recipe, [e.text for e in examples], "test", [e.source for e in examples])
    expected = task.predict(model, recipe, vocabularies, documents).numpy()  # (N, C)
    found = OnnxClassifier(folder).predict(documents)
    return {
        "items": len(documents),
        "equal_labels": int((found.argmax(axis=1) == expected.argmax(axis=1)).sum()),
        "max_probability_gap": float(np.abs(found - expected).max()),
    }


def generation_parity(run_dir: Path, folder: Path) -> dict:
    from seqkit.tasks.generation import generate

    recipe, vocabularies, model = load_run(run_dir)
    task = get_task(recipe.task)
    sources = [pair.source for pair in task.load_splits(recipe, None, ("test",))["test"]]
    expected = [found[0] for found in generate(model, recipe, vocabularies, sources)]
    found = [outputs[0] for outputs in OnnxGenerator(folder).generate(sources)]
    return {
        "items": len(sources),
        "beam": recipe.head.beam,
        "equal_outputs": sum(a.tokens == b.tokens for a, b in zip(found, expected, strict=True)),
        "max_score_gap": max(abs(a.score - b.score) for a, b in zip(found, expected, strict=True)),
    }


PARITY = {"slot-filling": tagger_parity, "sentiment": classifier_parity, "translation": generation_parity,
          "title-generation": generation_parity}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None, help="Export folder (default: a temporary one).")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as temporary:
        folder = export_onnx(arguments.run_dir, arguments.out or Path(temporary) / "export")
        started = time.perf_counter()
        task = read_recipe(arguments.run_dir).task
        parity = PARITY[task]
        result = {"run_dir": str(arguments.run_dir), "task": task, **parity(arguments.run_dir, folder)}
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
