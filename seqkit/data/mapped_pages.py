"""Hand back the pages of memory-mapped Arrow files that this process has read, so its memory stays flat.

A page of a memory-mapped file that a process touched counts in its resident memory until the kernel needs
the room, and a fault maps a whole page-cache folio around it: a pass over a 4-million-row table's offsets, or
`datasets` scanning the files it converts, makes the process's resident size grow with the corpus although
nothing was copied. `madvise(MADV_DONTNEED)` on those mappings unmaps the pages from this process only: they
stay in the page cache, the file is unchanged, and the next read faults them back in from memory.

The ranges are taken from /proc/self/maps by file name, never from buffer addresses: a table stored in several
files is several mappings with other memory between them, and MADV_DONTNEED on anonymous memory would zero it.
For the same reason the background release (`released_while_running`), whose mappings may be unmapped and
their addresses reused between reading the map and advising, uses MADV_PAGEOUT, which never loses data: on
anonymous memory it can only swap out. On systems without /proc or madvise, nothing is released.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

MAPS = Path("/proc/self/maps")


class FileMapping(NamedTuple):
    start: int  # address of the mapping's first byte
    length: int
    file_offset: int  # where in the file that first byte lies
    path: str


def file_mappings(files: Iterable[str], maps_text: str, folder: str | None = None) -> list[FileMapping]:
    """Every read-only mapping in `maps_text` (the /proc/self/maps format) of one of `files`, or of any file
    under `folder`.

    Writable mappings are left out: MADV_DONTNEED would throw away what was written to a private one.
    """
    wanted = {os.path.realpath(name) for name in files}
    prefix = os.path.join(os.path.realpath(folder), "") if folder is not None else None
    mappings = []
    for line in maps_text.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or "w" in fields[1]:
            continue
        if fields[5] in wanted or (prefix is not None and fields[5].startswith(prefix)):
            start, end = (int(address, 16) for address in fields[0].split("-"))
            mappings.append(FileMapping(start, end - start, int(fields[2], 16), fields[5]))
    return mappings


def mapped_ranges(files: Iterable[str], maps_text: str, folder: str | None = None) -> list[tuple[int, int]]:
    """(start, length) of each of file_mappings(files, maps_text, folder)."""
    return [(mapping.start, mapping.length) for mapping in file_mappings(files, maps_text, folder)]


def _madvise():
    if not MAPS.exists() or not hasattr(mmap, "MADV_DONTNEED"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


MADVISE = _madvise()
# Linux's value (5.4 and later); an older kernel refuses it with EINVAL and nothing happens.
MADV_PAGEOUT = getattr(mmap, "MADV_PAGEOUT", 21)


def ranges_of(files: Iterable[str]) -> list[tuple[int, int]]:
    """This process's read-only mappings of `files` now; they stay valid while the mapping's owner lives."""
    return mapped_ranges(files, MAPS.read_text()) if MADVISE is not None else []


def release_ranges(ranges: Iterable[tuple[int, int]], advice: int = mmap.MADV_DONTNEED) -> int:
    """Drop this process's resident pages in `ranges` (from ranges_of, whose mappings must still be alive);
    returns how many bytes were advised."""
    if MADVISE is None:
        return 0
    advised = 0
    for start, length in ranges:
        if MADVISE(start, length, advice) == 0:
            advised += length
    return advised


def release(files: Iterable[str]) -> int:
    """Drop this process's resident pages of the memory-mapped `files`; returns how many bytes were advised."""
    return release_ranges(ranges_of(files))


@contextmanager
def released_while_running(folder: Path, interval: float = 0.02) -> Iterator[None]:
    """Hand back, every `interval` seconds, this process's pages of every file mapped from under `folder`.

    For work done inside a library that maps and scans whole files (building a table with `datasets`), where
    there is no loop of ours to release pages in. A sequential scan faults in at most a few tens of MiB
    between two passes.
    """
    if MADVISE is None:
        yield
        return
    stop = threading.Event()

    def keep_releasing() -> None:
        while not stop.wait(interval):
            # PAGEOUT, not DONTNEED: a mapping may be gone, its addresses reused, by the time it is advised.
            release_ranges(mapped_ranges([], MAPS.read_text(), folder=str(folder)), MADV_PAGEOUT)

    thread = threading.Thread(target=keep_releasing, name="seqkit-page-release", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
