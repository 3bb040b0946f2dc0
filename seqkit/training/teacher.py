"""Loading the run dir that a student learns from (`head.teacher`), as train() does before the first epoch."""

from __future__ import annotations

from pathlib import Path

from seqkit.errors import ConfigError, RunDirError
from seqkit.run_dirs.run_dir import load_run
from seqkit.training.distillation import Teacher


def load_teacher(path: str) -> Teacher:
    """The run dir (or packed model) named by `head.teacher`; a missing or unreadable one is a ConfigError that
    names the setting. Whether its task and outputs can teach is the task's to check."""
    if not Path(path).exists():
        raise ConfigError(f"head.teacher: {path} is neither a run dir nor a packed model")
    try:
        return Teacher(*load_run(Path(path)))
    except (RunDirError, ConfigError) as error:
        raise ConfigError(f"head.teacher: {error}") from None
