"""Scale-out figures as JSON: peak memory while training over growing synthetic parallel corpora (streamed
through the cached Arrow table), the one-off conversion time, and training throughput with 1 and 2 processes.

    PYTHONPATH=. python -m benchmarks.scale_out --sizes 40000 400000 4000000 --out benchmarks/results/scale_out.json

The corpora (short sentences over a 2,000-word vocabulary) are written into a temporary folder and deleted.
Every measurement runs in a fresh process: `convert` builds the table (timed), then `train` trains a tiny
translation model for a fixed number of steps on the cached table and reports its peak resident memory
(ru_maxrss, which also counts pages of the memory-mapped table that were read) and the sampled peaks of its
anonymous memory (the heap) and of its file-backed memory (mapped libraries and table pages: clean page cache
that the kernel can drop at any time).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import emit, machine

VOCABULARY = 2000
RECIPE = [
    "data.file_pattern={split}.{lang}", "data.src_lang=src", "data.tgt_lang=tgt", "data.valid=dev",
    "data.stream=true", "data.subwords.vocab_size=null", "encoder.embedding_size=32", "rnn.hidden_size=32",
    "head.embedding_size=32", "head.hidden_size=64", "head.beam=1", "head.label_smoothing=0.0",
    "train.epochs=1", "train.batch_size=64", "train.threads=1",
]


def write_corpus(folder: Path, pairs: int, seed: int = 1) -> float:
    """train.src/train.tgt with `pairs` lines of 3-8 words, dev with 20; returns mean tokens per pair (both sides)."""
    randomness = random.Random(seed)
    words = [f"w{index}" for index in range(VOCABULARY)]
    tokens = 0
    for split, count in (("train", pairs), ("dev", 20)):
        with open(folder / f"{split}.src", "w") as sources, open(folder / f"{split}.tgt", "w") as targets:
            for _ in range(count):
                sentence = randomness.choices(words, k=randomness.randint(3, 8))
                sources.write(" ".join(sentence) + "\n")
                targets.write(" ".join(reversed(sentence)) + "\n")
                tokens += 2 * len(sentence) if split == "train" else 0
    return tokens / pairs


def memory_now() -> dict:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {name: int(status[name].split()[0]) / 1024 for name in ("RssAnon", "RssFile") if name in status}


class PeakSampler:
    """Samples RssAnon and RssFile every 20 ms: the kernel tracks only the peak of their sum (ru_maxrss)."""

    def __init__(self):
        self.peaks = {"RssAnon": 0.0, "RssFile": 0.0}
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            for name, value in memory_now().items():
                self.peaks[name] = max(self.peaks[name], value)
            time.sleep(0.02)

    def stop(self) -> dict:
        self.running = False
        self.thread.join()
        return {name: round(value, 1) for name, value in self.peaks.items()}


def child_convert(folder: Path) -> dict:
    from seqkit import api
    from seqkit.tasks import get_task

    started = time.perf_counter()
    config = api.load_recipe("translation", None, RECIPE)
    task = get_task("translation")
    train = task.load_splits(config, folder, ("train",))["train"]
    vocabularies = task.build_vocabularies(config, train)
    vocabulary_seconds = time.perf_counter() - started
    task.training_batches(config, vocabularies, train)
    return {
        "vocabulary_seconds": round(vocabulary_seconds, 1),
        "conversion_seconds": round(time.perf_counter() - started - vocabulary_seconds, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def sized(width: int) -> list[str]:
    """RECIPE with the model `width` units wide (embeddings and encoder; the decoder is twice as wide)."""
    sizes = {"encoder.embedding_size": width, "rnn.hidden_size": width, "head.embedding_size": width,
             "head.hidden_size": 2 * width}
    return [item for item in RECIPE if item.split("=")[0] not in sizes] + [f"{k}={v}" for k, v in sizes.items()]


def child_train(folder: Path, steps: int, out: Path, width: int) -> dict:
    from seqkit import api

    sampler = PeakSampler()
    started = time.perf_counter()
    api.train("translation", data_dir=folder, out=out, overrides=[*sized(width), f"train.max_steps={steps}"],
              overwrite=True, show_progress=False)
    record = json.loads((out / "log.jsonl").read_text().splitlines()[-1])
    return {
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "sampled_peak_mib": sampler.stop(),
        "end_rss_mib": {name: round(value, 1) for name, value in memory_now().items()},
        "epoch_seconds": record["seconds"],
        "steps": record["step"],
        "total_seconds": round(time.perf_counter() - started, 1),
    }


def run_child(*arguments: str, processes: int = 1) -> dict:
    command = [sys.executable, "-m", "benchmarks.scale_out", *arguments]
    if processes > 1:  # through torchrun, as `seqkit train --nproc` does; rank 0 prints the JSON
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
                   "-m", "benchmarks.scale_out", *arguments]
    finished = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{finished.stderr[-3000:]}")
    return json.loads([line for line in finished.stdout.splitlines() if line.startswith("{")][-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[40_000, 400_000, 4_000_000])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3, help="runs per throughput figure (median); 0 skips them")
    parser.add_argument("--note", default="", help="what else the machine was doing")
    parser.add_argument("--width", type=int, default=32, help="model width (the memory runs' default is tiny)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", choices=["convert", "train"])
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--run-dir", type=Path)
    arguments = parser.parse_args()
    if arguments.child == "convert":
        print(json.dumps(child_convert(arguments.folder)))
        return
    if arguments.child == "train":
        result = child_train(arguments.folder, arguments.steps, arguments.run_dir, arguments.width)
        if int(os.environ.get("RANK", "0")) == 0:
            print(json.dumps(result))
        return

    results = {"machine": machine(), "recipe": sized(arguments.width), "steps": arguments.steps,
               "note": arguments.note,
               "memory": [], "throughput": {}}
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["SEQKIT_CACHE_DIR"] = str(Path(scratch) / "cache")
        for size in sorted(arguments.sizes):
            folder = Path(scratch) / f"corpus-{size}"
            folder.mkdir()
            started = time.perf_counter()
            tokens_per_pair = write_corpus(folder, size)
            entry = {"pairs": size, "corpus_mib": round(sum(f.stat().st_size for f in folder.iterdir()) / 2**20, 1),
                     "generation_seconds": round(time.perf_counter() - started, 1)}
            entry["convert"] = run_child("--child", "convert", "--folder", str(folder))
            entry["train"] = run_child("--child", "train", "--folder", str(folder), "--steps", str(arguments.steps),
                                       "--run-dir", str(Path(scratch) / "run"), "--width", str(arguments.width))
            results["memory"].append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
            if size == min(arguments.sizes) and arguments.repeats:  # throughput on the smallest: 1 and 2 processes
                global_batch = 64
                for processes in (1, 2):
                    runs = [run_child("--child", "train", "--folder", str(folder), "--steps", str(arguments.steps),
                                      "--run-dir", str(Path(scratch) / "run"), "--width", str(arguments.width),
                                      processes=processes)
                            for _ in range(arguments.repeats)]
                    rates = [run["steps"] * global_batch / run["epoch_seconds"] for run in runs]
                    results["throughput"][f"{processes}_process"] = {
                        "pairs_per_second_median": round(statistics.median(rates), 1),
                        "tokens_per_second_median": round(statistics.median(rates) * tokens_per_pair, 1),
                        "pairs_per_second_runs": [round(rate, 1) for rate in rates],
                    }
                print(json.dumps(results["throughput"]), file=sys.stderr, flush=True)
            for path in folder.iterdir():
                path.unlink()
    peaks = [entry["train"]["peak_rss_mib"] for entry in results["memory"]]
    results["peak_rss_growth"] = round(max(peaks) / min(peaks) - 1, 3)
    anonymous = [entry["train"]["sampled_peak_mib"]["RssAnon"] for entry in results["memory"]]
    results["peak_anonymous_growth"] = round(max(anonymous) / min(anonymous) - 1, 3)
    emit(results, arguments.out)


if __name__ == "__main__":
    main()
