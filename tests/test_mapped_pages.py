"""Handing back a memory-mapped table's pages: only read-only mappings of the named files are advised, and the
table reads the same afterwards."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import datasets
import pytest

from seqkit.data import mapped_pages
from seqkit.data.streaming import table_files

MAPS = """\
7f0000000000-7f0000004000 r--s 00000000 08:01 42    /data/table/data-00000-of-00002.arrow
7f0000004000-7f0000008000 rw-p 00000000 00:00 0
7f0000010000-7f0000013000 r--s 00000000 08:01 43    /data/table/data-00001-of-00002.arrow
7f0000020000-7f0000021000 rw-p 00000000 08:01 43    /data/table/data-00001-of-00002.arrow
7f0000030000-7f0000031000 r-xp 00000000 08:01 44    /usr/lib/libc.so.6
"""


def test_ranges_are_the_read_only_mappings_of_the_named_files(monkeypatch):
    monkeypatch.setattr(mapped_pages.os.path, "realpath", lambda name: name)
    files = ["/data/table/data-00000-of-00002.arrow", "/data/table/data-00001-of-00002.arrow"]
    ranges = mapped_pages.mapped_ranges(files, MAPS)
    # The anonymous gap between the two files, the writable mapping and libc are all left alone.
    assert ranges == [(0x7F0000000000, 0x4000), (0x7F0000010000, 0x3000)]
    assert mapped_pages.mapped_ranges(["/elsewhere.arrow"], MAPS) == []


def resident_file_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    raise AssertionError("no RssFile in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps and madvise are Linux's")
def test_release_drops_resident_pages_and_the_table_reads_the_same(tmp_path):
    rows = {"ids": [[index, index + 1, index % 7] for index in range(200_000)]}
    folder = tmp_path / "table"
    datasets.Dataset.from_dict(rows).save_to_disk(str(folder))
    table = datasets.load_from_disk(str(folder), keep_in_memory=False)
    expected = [[index, index + 1, index % 7] for index in (0, 99_999, 199_999)]

    assert table[[0, 99_999, 199_999]]["ids"] == expected
    assert table[list(range(0, 200_000, 997))]["ids"][5] == [4985, 4986, 4985 % 7]  # touch pages all over the file
    before = resident_file_kib()
    advised = mapped_pages.release(table_files(table))

    assert advised >= (folder / "data-00000-of-00001.arrow").stat().st_size
    assert resident_file_kib() < before
    assert table[[0, 99_999, 199_999]]["ids"] == expected


def test_ranges_under_a_folder(monkeypatch):
    monkeypatch.setattr(mapped_pages.os.path, "realpath", lambda name: name)
    ranges = mapped_pages.mapped_ranges([], MAPS, folder="/data/table")
    assert ranges == [(0x7F0000000000, 0x4000), (0x7F0000010000, 0x3000)]
    assert mapped_pages.mapped_ranges([], MAPS, folder="/data/tab") == []  # a folder, not a name prefix


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps and madvise are Linux's")
def test_pages_are_released_in_the_background_while_a_library_works(tmp_path):
    folder = tmp_path / "work"
    datasets.Dataset.from_dict({"ids": [[index] * 5 for index in range(200_000)]}).save_to_disk(str(folder))
    table = datasets.load_from_disk(str(folder), keep_in_memory=False)
    assert table[list(range(0, 200_000, 499))]["ids"][2] == [998] * 5  # faults in pages all over the file
    touched = resident_file_kib()
    with mapped_pages.released_while_running(folder, interval=0.01):
        time.sleep(0.2)
        assert resident_file_kib() < touched
    assert table[[199_999]]["ids"] == [[199_999] * 5]
