"""Slot-filling speed on real ATIS: training tokens/s, batched tagging sentences/s, single-sentence latency,
peak memory. Prints one JSON document.

    SEQKIT_DATA_DIR=../shared/data python -m benchmarks.tagging [--recipe atis] [--run-dir RUN] [--repeats 5] \
        [--engine torch|onnx]

Speed does not depend on what the weights have learned, so without --run-dir the model is freshly built from
the recipe (same shapes as a trained one). Each figure is the median of --repeats runs. A pretrained encoder
remembers the sentences it has encoded; its memory is emptied before every timed tagging call, so tagging is
timed on sentences it reads for the first time (training, like a real run's later epochs, reads remembered ones).
`--engine onnx` tags through the run dir's ONNX export and onnxruntime (seqkit.export.tagger.OnnxTagger, one onnxruntime
thread) instead of PyTorch; training is timed in PyTorch either way.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import forget_pretrained, machine, median_rate
from benchmarks.roofline import matmul_peak_flops, recurrent_flops_per_token
from seqkit.api import load_recipe
from seqkit.model import build_model
from seqkit.predict.tagger import Tagger
from seqkit.run_dirs.run_dir import load_run
from seqkit.runtime.memory import peak_memory_mib
from seqkit.runtime.quantization import quantize
from seqkit.tasks import get_task


def main() -> None:
    parser = argparse.ArgumentParser(description="ATIS tagging benchmark (prints JSON)")
    parser.add_argument("--recipe", default="atis")
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--training-batches", type=int, default=40)
    parser.add_argument("--quantize", default=None, help="Tag with the model quantized at load (int8).")
    parser.add_argument("--engine", choices=("torch", "onnx"), default="torch")
    arguments = parser.parse_args()
    if arguments.engine == "onnx" and (arguments.run_dir is None or arguments.quantize):
        parser.error("--engine onnx needs --run-dir (it tags through the run dir's export) and no --quantize")
    if arguments.threads:
        torch.set_num_threads(arguments.threads)

    if arguments.run_dir:
        recipe, vocabularies, model = load_run(arguments.run_dir)
    else:
        recipe = load_recipe("slot-filling", arguments.recipe)
    task = get_task(recipe.task)
    splits = task.load_splits(recipe, None, ("train", "test"))
    if not arguments.run_dir:
        vocabularies = task.build_vocabularies(recipe, splits["train"])
        torch.manual_seed(recipe.seed)
        model = build_model(recipe, vocabularies)

    batches = task.training_batches(recipe, vocabularies, splits["train"])(0)[: arguments.training_batches]
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.train.learning_rate)

    def train_some() -> int:
        model.train()
        for batch in batches:
            optimizer.zero_grad(set_to_none=True)
            model(batch).loss.backward()
            optimizer.step()
        return sum(int(batch["lengths"].sum()) for batch in batches)

    tagging_model = model  # an int8 copy with --quantize; the ONNX engine tags without it
    if arguments.engine == "onnx":
        from seqkit.export import export_onnx
        from seqkit.export.tagger import OnnxTagger

        with tempfile.TemporaryDirectory(prefix="seqkit-onnx-") as folder:
            tagger = OnnxTagger(export_onnx(Path(arguments.run_dir), Path(folder)))  # reads every file at once
    else:
        tagging_model = quantize(model.eval(), arguments.quantize)
        tagger = Tagger(recipe, vocabularies, tagging_model)
    texts = [" ".join(sentence.tokens) for sentence in splits["test"]]

    def tag_all() -> int:
        forget_pretrained(tagging_model)
        return len(tagger.tag(texts))

    train_some()  # warm-up: first calls allocate
    training_rate, training_runs = median_rate(train_some, arguments.repeats)
    tag_all()
    tagging_rate, tagging_runs = median_rate(tag_all, arguments.repeats)
    latencies = []
    for text in texts[:200]:
        forget_pretrained(tagging_model)
        started = time.perf_counter()
        tagger.tag([text])
        latencies.append((time.perf_counter() - started) * 1000)
    # The most sentences/s the recurrent layers' arithmetic alone allows at this thread count.
    tokens = sum(len(sentence.tokens) for sentence in splits["test"])
    flops_per_sentence = recurrent_flops_per_token(model) * tokens / len(texts)
    peak = matmul_peak_flops()
    report = {
        "benchmark": "tagging",
        "recipe": arguments.recipe if not arguments.run_dir else str(arguments.run_dir),
        "quantize": arguments.quantize,
        "engine": arguments.engine,
        "training_tokens_per_second": round(training_rate, 1),
        "training_runs": [round(rate, 1) for rate in training_runs],
        "tagging_sentences_per_second": round(tagging_rate, 1),
        "tagging_runs": [round(rate, 1) for rate in tagging_runs],
        "tagged_sentences": len(texts),
        "single_sentence_latency_ms_median": round(statistics.median(latencies), 3),
        "single_sentence_latency_ms_p90": round(sorted(latencies)[int(0.9 * len(latencies))], 3),
        "recurrent_mflops_per_sentence": round(flops_per_sentence / 1e6, 2),
        "matmul_peak_gflops": round(peak / 1e9, 1),
        "arithmetic_ceiling_sentences_per_second": round(peak / flops_per_sentence, 1),
        "peak_rss_mib": peak_memory_mib(),
        "machine": machine(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
