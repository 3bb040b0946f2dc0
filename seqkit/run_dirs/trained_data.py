"""The data folder a run was trained on, kept in its run.json, so that evaluation finds the same data.

A run trained with `--data DIR` records DIR (absolute). `seqkit evaluate RUN` then reads that folder while it
still exists; `--data` overrides it, and without either the dataset is looked up by name as usual
(seqkit/data/sources.py). When the recorded folder is gone, the not-found error says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from seqkit.errors import DataNotFoundError
from seqkit.files import atomic_write_json
from seqkit.run_dirs.layout import RUN_INFO

DATA_KEY = "data_dir"


def record_data_folder(run_dir: Path, data_dir: Path | None) -> None:
    """Note `data_dir` (the `--data` of training) in the run dir's run.json; nothing when it is None."""
    path = Path(run_dir) / RUN_INFO
    if data_dir is None or not path.is_file():
        return
    info = json.loads(path.read_text(encoding="utf-8"))
    atomic_write_json(path, {**info, DATA_KEY: str(Path(data_dir).resolve())})


def trained_data_folder(run_dir: Path) -> Path | None:
    """The data folder recorded for `run_dir`, or None (no record, or a run dir that is not a folder)."""
    path = Path(run_dir) / RUN_INFO
    if not path.is_file():
        return None
    try:
        recorded = json.loads(path.read_text(encoding="utf-8")).get(DATA_KEY)
    except (ValueError, AttributeError):
        return None  # run.json itself is checked where it is loaded; here a bad one only means no record
    return Path(recorded) if isinstance(recorded, str) else None


def evaluation_data(run_dir: Path, data_dir: Path | None) -> tuple[Path | None, str]:
    """(the data folder to evaluate on, a note for a not-found error): `data_dir` first, then the record."""
    if data_dir is not None:
        return data_dir, ""
    recorded = trained_data_folder(run_dir)
    if recorded is None:
        return None, ""
    if recorded.is_dir():
        return recorded, ""
    return None, f"this run was trained with --data {recorded}, which no longer exists"


def with_note(error: DataNotFoundError, note: str) -> DataNotFoundError:
    """`error` with `note` put first (the same error when there is no note)."""
    return DataNotFoundError(f"{note}; {error}") if note else error
