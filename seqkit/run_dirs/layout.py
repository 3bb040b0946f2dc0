"""The files of a run directory, by name.

A run dir holds everything a predictor needs:

    config.yaml         the resolved recipe (safe YAML)
    model.safetensors   the weights of the best epoch
    vocab/*.json        the lexicon and label sets
    metrics.json        dev (and test, once evaluated) scores
    run.json            seqkit version, command line, timings
    log.jsonl           one line of metrics per epoch
    checkpoints/last/   weights, optimizer and trainer state of the latest step, for --resume (dropped once
                        training finished, unless train.keep_checkpoints)

Every file is written atomically (seqkit/files.py), so a crash leaves either the old file or the new one, never
half of one; checkpoint folders are replaced the same way. Weights load through safetensors, everything else
through JSON or YAML's safe loader.
"""

from pathlib import Path

CONFIG = "config.yaml"
WEIGHTS = "model.safetensors"
VOCABULARY_FOLDER = "vocab"
METRICS = "metrics.json"
RUN_INFO = "run.json"
LOCK = ".lock"
CHECKPOINTS = "checkpoints"
LAST_CHECKPOINT = Path(CHECKPOINTS) / "last"
# Everything training writes into a run dir (the log, curves and TensorBoard files come from seqkit/training/trainer.py
# and seqkit/viz/training_pictures.py): a failed start removes exactly these, never a user's file in the folder.
RUN_FILES = (
    CONFIG,
    RUN_INFO,
    VOCABULARY_FOLDER,
    WEIGHTS,
    METRICS,
    CHECKPOINTS,
    "log.jsonl",
    "curves.png",
    "tensorboard",
)
