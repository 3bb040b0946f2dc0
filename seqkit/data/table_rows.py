"""Rows of a memory-mapped Arrow table, read through zero-copy NumPy views so that only their own pages are touched.

`Dataset.__getitem__` with a list of rows gathers them and converts the result with `to_pydict`, and that
conversion faults in most of the mapped file (64 random rows of a 1M-row, 83 MiB table made the process's
resident size grow by 65 MiB). Here each column's record-batch chunks are viewed as NumPy arrays once (the
offsets and the flat values of a list column), and a row is two offset lookups and one slice.
"""

from __future__ import annotations

from collections.abc import Sequence

import datasets
import numpy
import pyarrow


class TableRows:
    """`rows[[i, j, ...]]` -> one dict per row, column name -> int or list of ints, as the table holds them."""

    def __init__(self, table: datasets.Dataset):
        arrow = table.data.table  # pyarrow.Table over the memory-mapped file(s)
        self.names = arrow.column_names
        chunk_rows = [len(chunk) for chunk in arrow.column(0).chunks]
        self.chunk_starts = numpy.cumsum([0, *chunk_rows])  # (chunks + 1,)
        # Per column and chunk: (offsets, values) for a list column, (None, values) for a scalar one.
        self.views: list[list[tuple[numpy.ndarray | None, numpy.ndarray]]] = []
        for name in self.names:
            chunks = arrow.column(name).chunks
            if [len(chunk) for chunk in chunks] != chunk_rows:
                raise ValueError(f"column {name!r} is chunked unlike column {self.names[0]!r}")
            self.views.append([_view(chunk) for chunk in chunks])

    def __getitem__(self, rows: Sequence[int]) -> list[dict[str, int | list[int]]]:
        chunks = numpy.searchsorted(self.chunk_starts, rows, side="right") - 1  # (R,)
        examples = []
        for row, chunk in zip(rows, chunks.tolist(), strict=True):
            local = row - int(self.chunk_starts[chunk])
            example = {}
            for name, views in zip(self.names, self.views, strict=True):
                offsets, values = views[chunk]
                if offsets is None:
                    example[name] = int(values[local])
                else:
                    example[name] = values[offsets[local] : offsets[local + 1]].tolist()
            examples.append(example)
        return examples


def _view(chunk: pyarrow.Array) -> tuple[numpy.ndarray | None, numpy.ndarray]:
    if pyarrow.types.is_list(chunk.type) or pyarrow.types.is_large_list(chunk.type):
        # `offsets` follows a sliced chunk's offset; `values` is the whole child array the offsets point into.
        return chunk.offsets.to_numpy(), chunk.values.to_numpy(zero_copy_only=True)
    return None, chunk.to_numpy(zero_copy_only=True)
