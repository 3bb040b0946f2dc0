"""Writing and loading run directories (the layout is described in seqkit/run_dirs/checkpoint.py).

Loading checks everything it reads: the config goes through the strict recipe loader, vocabularies through
Vocab.from_json, and every weight tensor's name and shape against the model the config builds, so a tampered,
truncated or mismatched run dir is refused with a message naming the file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from seqkit.config import Recipe, build_recipe, to_dict
from seqkit.errors import ConfigError, RunDirError, TrainingInterrupted
from seqkit.files import (
    atomic_replace_directory,
    atomic_write_json,
    atomic_write_text,
    settled_directory,
    swap_in_directory,
)
from seqkit.run_dirs.checkpoint import load_state_into, load_tensors, read_json
from seqkit.run_dirs.layout import (
    CHECKPOINTS,
    CONFIG,
    LAST_CHECKPOINT,
    LOCK,
    METRICS,
    RUN_FILES,
    RUN_INFO,
    VOCABULARY_FOLDER,
    WEIGHTS,
)
from seqkit.run_dirs.locate import resolve_run_dir
from seqkit.text.vocab import Vocab
from seqkit.version import __version__


def write_run_start(run_dir: Path, recipe: Recipe, vocabularies: dict[str, Vocab]) -> None:
    """Everything known before training: resolved config, vocabularies, version and command line."""
    run_dir = Path(run_dir)
    atomic_write_text(run_dir / CONFIG, yaml.safe_dump(to_dict(recipe), sort_keys=False))

    def fill(folder: Path) -> None:
        for name, vocabulary in vocabularies.items():
            # Lexicons are JSON; other kinds (a sentencepiece model) name their own file suffix.
            suffix = getattr(vocabulary, "file_suffix", ".json")
            vocabulary.save(folder / f"{name}{suffix}")

    # Replaced as a whole: a vocabulary left by an earlier failed start must not be read beside the new ones.
    atomic_replace_directory(run_dir / VOCABULARY_FOLDER, fill)
    atomic_write_json(
        run_dir / RUN_INFO,
        {
            "seqkit_version": __version__,
            "command_line": " ".join(sys.argv),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "task": recipe.task,
        },
    )


def holds_run(run_dir: Path) -> bool:
    """Whether `run_dir` holds a run to keep: a config with best weights or a checkpoint beside it.

    A config alone (with vocabularies and run.json) is a start that was killed before its first epoch ended:
    nothing in it can be loaded or resumed, so a new run may take its place.
    """
    run_dir = Path(run_dir)
    has_state = (run_dir / WEIGHTS).is_file() or settled_directory(run_dir / LAST_CHECKPOINT) is not None
    return (run_dir / CONFIG).is_file() and has_state


def refuse_to_replace(run_dir: Path) -> None:
    """A RunDirError when `run_dir` holds a run (see holds_run) that a new one would replace."""
    if holds_run(run_dir):
        raise RunDirError(f"{run_dir}: already holds a run; choose another --out, --resume it, or pass --overwrite")


@contextlib.contextmanager
def new_run_folder(run_dir: Path, replace: bool) -> Iterator[Path]:
    """The folder a new run is written into; the caller holds the RunLock of `run_dir`.

    To replace a run (`replace` and `run_dir` holds one), the new run is built in a staging folder beside it and
    renamed into place when the body ends without an error; any failure, Ctrl-C included, removes the staging
    folder and leaves the old run exactly as it was. Otherwise the run is written in place, so that a run
    stopped after its first checkpoint can be resumed, and a failure before that checkpoint removes what the
    start wrote: the same command can then simply be run again.
    """
    run_dir = Path(run_dir)
    if replace and holds_run(run_dir):
        staging = run_dir.parent / f".{run_dir.name}.staging"
        shutil.rmtree(staging, ignore_errors=True)  # left by a replacement that was killed (we hold the lock)
        staging.mkdir()
        try:
            yield staging
            # The lock moves in first, so that the swapped-in run dir is never unlocked while we finish.
            shutil.copyfile(run_dir / LOCK, staging / LOCK)
            swap_in_directory(staging, run_dir)
        except BaseException as error:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(error, TrainingInterrupted):  # its own message points at the staging folder, now gone
                raise TrainingInterrupted(
                    f"training stopped; the new run is discarded and {run_dir} keeps the run it held "
                    "(an interrupted --overwrite cannot be resumed)"
                ) from None
            raise
        return
    refuse_to_replace(run_dir)  # checked again under the lock: another run may have finished there meanwhile
    try:
        yield run_dir
    except BaseException:
        if settled_directory(run_dir / LAST_CHECKPOINT) is None:
            remove_run_files(run_dir)
        raise


def remove_run_files(run_dir: Path) -> None:
    """Delete what training writes into `run_dir` (RUN_FILES), leaving any other file there alone."""
    for name in RUN_FILES:
        path = Path(run_dir) / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def finish_run(run_dir: Path, keep_checkpoints: bool) -> None:
    """Record in run.json that training finished; drop checkpoints/ unless asked to keep it.

    The checkpoint only serves --resume, which a finished run no longer needs, and it is several times the size
    of the model (the optimizer's moments). It goes after run.json is marked, so that a process killed while
    deleting leaves a finished run, which --resume recognises, not a broken checkpoint.
    """
    run_dir = Path(run_dir)
    info = read_json(run_dir / RUN_INFO, "run info") if (run_dir / RUN_INFO).is_file() else {}
    atomic_write_json(run_dir / RUN_INFO, {**info, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    folder = run_dir / CHECKPOINTS
    if not keep_checkpoints and folder.exists():
        dropped = run_dir / f".{CHECKPOINTS}.dropped"
        shutil.rmtree(dropped, ignore_errors=True)
        os.replace(folder, dropped)  # one rename: checkpoints/ is whole or gone, never half deleted
        shutil.rmtree(dropped)


def finished_without_checkpoint(run_dir: Path) -> bool:
    """A run that finished training and kept no checkpoint (train.keep_checkpoints false): nothing to resume."""
    path = Path(run_dir) / RUN_INFO
    finished = path.is_file() and "finished" in read_json(path, "run info")
    return finished and settled_directory(Path(run_dir) / LAST_CHECKPOINT) is None


def read_recipe(run_dir: Path) -> Recipe:
    """The config of the model that `run_dir` names (a run dir, a packed file or a hub repo id)."""
    from seqkit.config import read_yaml
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
    file or a Hugging Face hub repo id (seqkit/run_dirs/packing.py resolves all three here, for every command)."""
    from seqkit.model import build_model

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
        self.created_folder = False

    def __enter__(self) -> RunLock:
        # A folder made only to hold the lock goes again with it when nothing else was written there.
        self.created_folder = not self.path.parent.exists()
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
        if self._owner() == os.getpid():  # never another process's lock taken over in the meantime
            self.path.unlink(missing_ok=True)
        if self.created_folder:
            with contextlib.suppress(OSError):  # not empty: a run was written there
                self.path.parent.rmdir()

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
