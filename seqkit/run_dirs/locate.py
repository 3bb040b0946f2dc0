"""Where a model is: a run dir, a packed `.seqkit` file, or a hub repo, each turned into a folder on disk.

Wherever seqkit takes a run dir (every predictor's `load`, every CLI command), it accepts

    runs/atis-20250101-120000      a run dir written by `seqkit train`
    atis.seqkit                    a packed file written by `seqkit pack` (pack_run_dir)
    org/name                       a Hugging Face hub repo holding a run dir's files

and turns it into a folder on disk in one place, resolve_run_dir, which seqkit/run_dirs/run_dir.py calls before reading.

A packed file is a zip archive of the run dir's small files: the weights (safetensors), config.yaml, the
vocabularies (JSON) and sentencepiece models, run.json, metrics.json and log.jsonl, plus a manifest; never the
checkpoints, and nothing that unpickles. Loading checks every member name against that layout before writing
the member into a private temporary folder (removed when the process exits), so an archive cannot place a
file anywhere else; zip's CRC-32 of each member catches corrupted bytes, and a truncated file has lost the
archive's directory, so both are refused with one line naming the file.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

from seqkit.errors import RunDirError
from seqkit.run_dirs.layout import CONFIG, METRICS, RUN_INFO, VOCABULARY_FOLDER, WEIGHTS
from seqkit.version import __version__

SUFFIX = ".seqkit"
MANIFEST = "seqkit-packed.json"
FORMAT_NAME = "seqkit packed model"
FORMAT_VERSION = 1
# The run dir's files that a predictor reads, or that say where the model came from; checkpoints stay behind.
PACKED_FILES = (CONFIG, WEIGHTS, RUN_INFO, METRICS, "log.jsonl")
VOCABULARY_SUFFIXES = (".json", ".model")
# The only member names a packed file may hold: no folders but vocab/, no leading dot, no `..`, no backslash.
MEMBER_NAME = re.compile(
    "|".join(re.escape(name) for name in (MANIFEST, *PACKED_FILES))
    + rf"|{VOCABULARY_FOLDER}/[A-Za-z0-9_][A-Za-z0-9_.-]*(\.json|\.model)"
)
# A hub repo id is `owner/name`: one slash, no leading dot; anything else is only ever a local path.
REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")
HUB_FILES = [*PACKED_FILES, f"{VOCABULARY_FOLDER}/*"]

# Folders already unpacked or downloaded in this process, so that a command reading a model twice (its recipe,
# then its weights) unpacks it once. Packed files are keyed by size and modification time too.
_resolved: dict[tuple, Path] = {}
_scratch: list[Path] = []


def resolve_run_dir(source: str | Path) -> Path:
    """The folder on disk holding the model that `source` names: a run dir, a packed file, or a hub repo id."""
    path = Path(source)
    if path.is_dir():
        return path
    if path.is_file():
        return unpack(path)
    if REPO_ID.fullmatch(str(source)) and not str(source).endswith(SUFFIX):
        return download_from_hub(str(source))
    raise RunDirError(f"{source}: no such run dir or packed model file")


def unpack(path: Path) -> Path:
    """Unpack a packed file into a private temporary folder (once per process) and return that folder."""
    status = path.stat()
    key = (path.resolve(), status.st_size, status.st_mtime_ns)
    if key in _resolved and _resolved[key].is_dir():
        return _resolved[key]
    # Named after the packed file, so that a message about a member still says which file it came from.
    folder = Path(tempfile.mkdtemp(dir=_scratch_folder())) / path.name
    try:
        with zipfile.ZipFile(path) as archive:
            names = _checked_names(path, archive)
            manifest = json.loads(archive.read(MANIFEST))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
                raise RunDirError(f"{path}: not a packed seqkit model (its manifest names another format)")
            if not isinstance(manifest.get("version"), int) or manifest["version"] > FORMAT_VERSION:
                raise RunDirError(f"{path}: packed by a newer seqkit (format {manifest.get('version')!r})")
            for name in names:
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as error:
        # ValueError covers the manifest's JSON, whose decoding error is a subclass of it.
        shutil.rmtree(folder.parent, ignore_errors=True)
        raise RunDirError(f"{path}: not a readable packed seqkit model ({error})") from None
    except BaseException:
        shutil.rmtree(folder.parent, ignore_errors=True)
        raise
    _resolved[key] = folder
    return folder


def download_from_hub(repo_id: str) -> Path:
    """The local snapshot of a hub repo holding a run dir's files, downloaded unless the hub cache has it."""
    if repo_id in _resolved:
        return _resolved[repo_id]
    from huggingface_hub import snapshot_download

    try:
        folder = Path(
            snapshot_download(repo_id, allow_patterns=HUB_FILES, library_name="seqkit", library_version=__version__)
        )
    except (OSError, ValueError) as error:  # the hub's HTTP, offline-cache and repo-id errors derive from these
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RunDirError(
            f"{repo_id}: no such run dir or packed model file, and no such model on the Hugging Face hub ({reason})"
        ) from None
    _resolved[repo_id] = folder
    return folder


def _checked_names(path: Path, archive: zipfile.ZipFile) -> list[str]:
    """The member names of `archive`, each checked against the run dir layout; RunDirError otherwise."""
    names = [member.filename for member in archive.infolist()]
    for name in names:
        if not MEMBER_NAME.fullmatch(name):
            raise RunDirError(f"{path}: member {name!r} is not part of a seqkit model; refusing to unpack it")
    if len(set(names)) != len(names):
        raise RunDirError(f"{path}: a member name appears twice; refusing to unpack it")
    for required in (MANIFEST, CONFIG, WEIGHTS):
        if required not in names:
            raise RunDirError(f"{path}: not a packed seqkit model ({required} is missing)")
    return names


def _scratch_folder() -> Path:
    """This process's private folder (mode 0700) for unpacked models, removed when the process exits."""
    if not _scratch:
        _scratch.append(Path(tempfile.mkdtemp(prefix="seqkit-packed-")))
        atexit.register(shutil.rmtree, _scratch[0], True)
    return _scratch[0]
