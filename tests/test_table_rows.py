"""Reading rows of an Arrow table: from the file with pread when it is memory-mapped, from NumPy views when it
is in memory; both give what `Dataset.__getitem__` gives."""

from __future__ import annotations

import datasets

from seqkit.data.table_rows import TableRows, _FileColumn, _ViewColumn

ROWS = {
    "words": [[index, index * 2, 7] if index % 3 else [index] for index in range(3000)],
    "count": [index % 11 for index in range(3000)],
}
PICK = [2999, 0, 1500, 1, 2, 1500, 1234]


def expected(table: datasets.Dataset) -> list[dict]:
    columns = table[PICK]
    return [{name: columns[name][position] for name in columns} for position in range(len(PICK))]


def test_a_mapped_table_is_read_from_its_file(tmp_path):
    folder = tmp_path / "table"
    features = datasets.Features({"words": datasets.List(datasets.Value("int32")), "count": datasets.Value("int64")})
    datasets.Dataset.from_dict(ROWS, features=features).save_to_disk(str(folder), max_shard_size="10KB")
    table = datasets.load_from_disk(str(folder), keep_in_memory=False)
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
