"""Writing and loading run directories (the layout is described in seqkit/checkpoint.py).

Loading checks everything it reads: the config goes through the strict recipe loader, vocabularies through
Vocab.from_json, and every weight tensor's name and shape against the model the config builds, so a tampered,
truncated or mismatched run dir is refused with a message naming the file.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import yaml

from seqkit.checkpoint import atomic_write_json, atomic_write_text, load_state_into, load_tensors, read_json
from seqkit.config import Recipe, build_recipe, to_dict
from seqkit.errors import ConfigError, RunDirError
from seqkit.text.vocab import Vocab
from seqkit.version import __version__

CONFIG = "config.yaml"
WEIGHTS = "model.safetensors"
VOCABULARY_FOLDER = "vocab"
METRICS = "metrics.json"
RUN_INFO = "run.json"
LOCK = ".lock"


def write_run_start(run_dir: Path, recipe: Recipe, vocabularies: dict[str, Vocab]) -> None:
    """Everything known before training: resolved config, vocabularies, version and command line."""
    run_dir = Path(run_dir)
    atomic_write_text(run_dir / CONFIG, yaml.safe_dump(to_dict(recipe), sort_keys=False))
    for name, vocabulary in vocabularies.items():
        # Lexicons are JSON; other kinds (a sentencepiece model) name their own file suffix.
        suffix = getattr(vocabulary, "file_suffix", ".json")
        vocabulary.save(run_dir / VOCABULARY_FOLDER / f"{name}{suffix}")
    atomic_write_json(
        run_dir / RUN_INFO,
        {
            "seqkit_version": __version__,
            "command_line": " ".join(sys.argv),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "task": recipe.task,
        },
    )


def read_recipe(run_dir: Path) -> Recipe:
    """The config of the model that `run_dir` names (a run dir, a packed file or a hub repo id)."""
    from seqkit.config import read_yaml
    from seqkit.packing import resolve_run_dir
    from seqkit.tasks import get_task

    run_dir = resolve_run_dir(run_dir)
    path = run_dir / CONFIG
    if not path.is_file():
        raise RunDirError(f"{path}: config is missing (is {run_dir} a seqkit run dir?)")
    raw = read_yaml(path)
    try:
        task = get_task(raw.get("task"))
        return build_recipe(raw, {"data": task.data_config, "head": task.head_config})
    except ConfigError as error:
        raise RunDirError(f"{path}: {error}") from None


def read_vocabularies(run_dir: Path) -> dict:
    """Lexicons (`*.json`) and sentencepiece models (`*.model`) of a run dir, by name."""
    from seqkit.text.subwords import SubwordModel

    folder = Path(run_dir) / VOCABULARY_FOLDER
    files = sorted(folder.glob("*.json"))
    if not files:
        raise RunDirError(f"{folder}: no vocabulary files")
    vocabularies = {path.stem: Vocab.load(path) for path in files}
    vocabularies.update({path.stem: SubwordModel.load(path) for path in sorted(folder.glob("*.model"))})
    return vocabularies


def load_run(run_dir: Path):
    """(recipe, vocabularies, model in eval mode) from a finished or interrupted run dir, a packed `.seqkit`
    file or a Hugging Face hub repo id (seqkit/packing.py resolves all three here, for every command)."""
    from seqkit.model import build_model
    from seqkit.packing import resolve_run_dir

    run_dir = resolve_run_dir(run_dir)
    recipe = read_recipe(run_dir)
    vocabularies = read_vocabularies(run_dir)
    try:
        model = build_model(recipe, vocabularies)
    except KeyError as error:
        raise RunDirError(f"{run_dir / VOCABULARY_FOLDER}: vocabulary {error} is missing") from None
    load_state_into(model, load_tensors(run_dir / WEIGHTS), str(run_dir / WEIGHTS))
    model.eval()
    return recipe, vocabularies, model


def update_metrics(run_dir: Path, section: str, scores: dict) -> dict:
    path = Path(run_dir) / METRICS
    metrics = read_json(path) if path.is_file() else {}
    metrics[section] = scores
    atomic_write_json(path, metrics)
    return metrics


class RunLock:
    """A lock file that keeps two training runs out of one run dir; a dead owner's lock is taken over."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and _alive(owner):
                    raise RunDirError(f"{self.path.parent}: in use by another training run (pid {owner})") from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(descriptor, "w") as handle:
                handle.write(str(os.getpid()))
            return self
        raise RunDirError(f"{self.path}: could not take the run dir lock")

    def __exit__(self, *exc_info) -> None:
        self.path.unlink(missing_ok=True)

    def _owner(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
