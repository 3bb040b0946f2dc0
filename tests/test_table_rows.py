"""Reading rows of an Arrow table: from the file with pread when it is memory-mapped, from NumPy views when it
is in memory; both give what `Dataset.__getitem__` gives."""

from __future__ import annotations

import os

import datasets
import pytest

from seqkit.data.table_rows import TableRows, _FileColumn, _ViewColumn
from seqkit.errors import DataFormatError

ROWS = {
    "words": [[index, index * 2, 7] if index % 3 else [index] for index in range(3000)],
    "count": [index % 11 for index in range(3000)],
}
PICK = [2999, 0, 1500, 1, 2, 1500, 1234]


def expected(table: datasets.Dataset) -> list[dict]:
    columns = table[PICK]
    return [{name: columns[name][position] for name in columns} for position in range(len(PICK))]


def save_in_shards(folder) -> datasets.Dataset:
    features = datasets.Features({"words": datasets.List(datasets.Value("int32")), "count": datasets.Value("int64")})
    datasets.Dataset.from_dict(ROWS, features=features).save_to_disk(str(folder), max_shard_size="10KB")
    return datasets.load_from_disk(str(folder), keep_in_memory=False)


def test_a_mapped_table_is_read_from_its_file(tmp_path):
    table = save_in_shards(tmp_path / "table")
    assert len(table.cache_files) > 1  # several files, so rows are looked up across them
    rows = TableRows(table)
    assert all(isinstance(chunk, _FileColumn) for column in rows.columns for chunk in column)
    assert rows[PICK] == expected(table)
    rows.close()


def test_an_in_memory_table_is_read_from_views():
    table = datasets.Dataset.from_dict(ROWS)
    rows = TableRows(table)
    assert all(isinstance(chunk, _ViewColumn) for column in rows.columns for chunk in column)
    assert rows[PICK] == expected(table)


def test_a_table_file_truncated_under_the_reader_is_an_error_naming_it(tmp_path):
    table = save_in_shards(tmp_path / "table")
    rows = TableRows(table)
    last_file = table.cache_files[-1]["filename"]
    os.truncate(last_file, 0)  # pread only: the mapping is never touched, so no SIGBUS
    with pytest.raises(DataFormatError, match=f"{last_file}: truncated Arrow table"):
        rows[[2999]]
    rows.close()
