"""Beam search throughput against batch size on Multi30k test_2016, and the whole test set's decoding time.

    PYTHONPATH=. SEQKIT_DATA_DIR=../shared/data python -m benchmarks.beam_scaling RUN_DIR [--beam 5] \
        [--sentences 256] [--threads 1]

For each batch size 1, 2, 4, ..., 128 the first --sentences test sentences are translated (tokenizing, search
and detokenizing: `Translator.translate`'s path) and sentences/s is printed; the curve should rise with the
batch size, because finished sentences leave the batch and beams are reordered without copying the encoder
memory. Then the whole test split is translated once at --full-batch-size and its seconds are reported.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from benchmarks.common import machine
from seqkit.run_dirs.run_dir import load_run
from seqkit.runtime.memory import peak_memory_mib
from seqkit.tasks import generation, get_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--largest-batch", type=int, default=128)
    parser.add_argument("--full-batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    recipe, vocabularies, model = load_run(arguments.run_dir)
    test = get_task(recipe.task).load_splits(recipe, None, ("test",))["test"]
    texts = [pair.source for pair in test]
    sample = texts[: arguments.sentences]

    def translate(items: list[str], batch_size: int) -> float:
        started = time.perf_counter()
        generation.generate(model, recipe, vocabularies, items, beam=arguments.beam, batch_size=batch_size)
        return time.perf_counter() - started

    translate(sample[:8], 8)  # warm-up
    curve = {}
    batch_size = 1
    while batch_size <= arguments.largest_batch:
        curve[str(batch_size)] = round(len(sample) / translate(sample, batch_size), 1)
        batch_size *= 2
    full_seconds = translate(texts, arguments.full_batch_size)
    report = {
        "run_dir": arguments.run_dir,
        "beam": arguments.beam,
        "threads": arguments.threads,
        "curve_sentences": len(sample),
        "sentences_per_second_by_batch_size": curve,
        "test_sentences": len(texts),
        "test_batch_size": arguments.full_batch_size,
        "test_seconds": round(full_seconds, 2),
        "test_sentences_per_second": round(len(texts) / full_seconds, 1),
        "peak_rss_mib": peak_memory_mib(),
        "machine": machine(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
