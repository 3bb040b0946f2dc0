"""Featurized training examples stored once as a memory-mapped Arrow table (the `datasets` library), re-used.

A corpus larger than memory is converted in one streaming pass: `Dataset.from_generator` writes the raw rows to
Arrow in chunks, `Dataset.map(batched=True, num_proc=...)` featurizes them in several processes, and
`save_to_disk` stores the result. Later runs `load_from_disk`, which memory-maps the files: a batch reads only
its own rows, so a process's memory does not grow with the corpus.

The table lives under `$SEQKIT_CACHE_DIR/arrow/<key>/`, where the key hashes what the ids depend on: the data
files (resolved path, size, modification time), the featurization settings and the vocabularies' contents.
Any change gives a new key, hence a new table. The folder is built beside its final place and renamed in, with
a marker file recording its row count and file sizes; a table that fails those checks (a crash, a truncated
file) is reported in one line and rebuilt. Under torchrun the first process builds it while the others wait.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import datasets

from seqkit.data import mapped_pages
from seqkit.data.sources import cache_root
from seqkit.errors import SeqkitError
from seqkit.runtime import distributed

# Bump when the stored columns change meaning, so that old tables are not read as new ones.
FORMAT_VERSION = 1
MARKER = "seqkit-table.json"
# Featurizing fewer rows than this in several processes costs more in start-up than it saves.
PARALLEL_FROM_ROWS = 20_000
RECORD_BATCH_ROWS = 100_000


def file_identity(path: Path) -> dict:
    """What a cached table knows about one source file: change the file and the key changes."""
    status = os.stat(path)
    return {"path": str(Path(path).resolve()), "size": status.st_size, "mtime_ns": status.st_mtime_ns}


def table_key(identity: dict) -> str:
    text = json.dumps({"format": FORMAT_VERSION, **identity}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cached_table(
    identity: dict,
    rows: Callable[[], Iterator[dict]],
    featurize: Callable[[dict], dict],
    features: datasets.Features,
) -> datasets.Dataset:
    """The memory-mapped table for `identity`, built from `rows()` through `featurize` when not cached yet.

    `featurize` takes and returns a batch (a dict of column lists) and may drop rows; `features` types its
    output columns.
    """
    folder = cache_root() / "arrow" / table_key(identity)
    if distributed.is_main():
        table = _load(folder, complain=True)
        if table is None:
            _build(folder, identity, rows, featurize, features)
    distributed.barrier()
    table = _load(folder, complain=False)
    if table is None:
        raise SeqkitError(f"{folder}: the featurized Arrow table could not be read after it was built")
    return table


def _load(folder: Path, complain: bool) -> datasets.Dataset | None:
    """The table in `folder` when it is complete and intact; None otherwise (saying why when asked)."""
    if not folder.exists():
        return None
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        for name, size in marker["files"].items():
            found = (folder / name).stat().st_size if (folder / name).is_file() else None
            if found != size:
                raise ValueError(f"{name} has {found} bytes, {size} were written")
        table = datasets.load_from_disk(str(folder), keep_in_memory=False)
        if len(table) != marker["rows"]:
            raise ValueError(f"{len(table)} rows, {marker['rows']} were written")
        return table
    except Exception as error:  # noqa: BLE001 - any damage means the same thing: rebuild
        if complain:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            sys.stderr.write(f"seqkit: {folder}: cached Arrow table is damaged ({reason}); rebuilding it\n")
            shutil.rmtree(folder, ignore_errors=True)
        return None


def _build(folder: Path, identity: dict, rows, featurize, features: datasets.Features) -> None:
    work = folder.parent / f".{folder.name}.building-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sys.stderr.write(f"seqkit: converting the training corpus once into an Arrow table at {folder}\n")
    try:
        # datasets maps and scans the raw and featurized files whole (reading them back, writing the table),
        # which would make this process's resident memory grow with the corpus: see mapped_pages.py.
        with mapped_pages.released_while_running(work):
            table_folder = _convert(work, folder.name, identity, rows, featurize, features)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(table_folder, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _convert(work: Path, key: str, identity: dict, rows, featurize, features: datasets.Features) -> Path:
    """Raw rows -> featurized table in `work`/table with its marker; returns that folder."""
    raw = datasets.Dataset.from_generator(_rows_of, gen_kwargs={"rows": rows, "key": key}, cache_dir=str(work / "raw"))
    processes = min(os.cpu_count() or 1, 8) if len(raw) >= PARALLEL_FROM_ROWS else None
    featurized = raw.map(
        featurize,
        batched=True,
        batch_size=1000,
        num_proc=processes,
        remove_columns=raw.column_names,
        features=features,
        cache_file_name=str(work / "featurized.arrow"),
        desc="featurizing",
    )
    table_folder = work / "table"
    # Few, large record batches: opening a table reads every batch's header, and with the default 1,000
    # rows per batch that (with the kernel's read-ahead) faults in nearly all of the mapped file.
    default_rows, datasets.config.DEFAULT_MAX_BATCH_SIZE = datasets.config.DEFAULT_MAX_BATCH_SIZE, RECORD_BATCH_ROWS
    try:
        featurized.save_to_disk(str(table_folder))
    finally:
        datasets.config.DEFAULT_MAX_BATCH_SIZE = default_rows
    sizes = {path.name: path.stat().st_size for path in table_folder.iterdir() if path.is_file()}
    marker = {"rows": len(featurized), "files": sizes, "identity": identity}
    (table_folder / MARKER).write_text(json.dumps(marker, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return table_folder


def _rows_of(rows: Callable[[], Iterator[dict]], key: str) -> Iterator[dict]:
    """Generator for Dataset.from_generator (`key` only makes its fingerprint differ between tables)."""
    yield from rows()
