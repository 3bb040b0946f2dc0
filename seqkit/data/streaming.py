"""Batches read from a memory-mapped Arrow table, one at a time, in the same order as the in-memory path.

`bucketed_order` in batching.py keeps Python lists of every index, which costs tens of bytes per example;
here the same draws are kept in int32 tensors (4 bytes per example) and a batch is collated only when the
trainer asks for it, from the rows it names. The random draws and the stable sort within pools are exactly
those of `bucketed_order`, so a corpus gives the same batches streamed or in memory (a test checks it).
"""

from __future__ import annotations

from collections.abc import Sequence

import datasets
import pyarrow.compute
import torch

from seqkit.data import mapped_pages
from seqkit.data.batching import collate, cut_sorted
from seqkit.data.table_rows import TableRows, table_files


def row_lengths(table: datasets.Dataset, column: str) -> torch.Tensor:
    """(N,) int32 token counts of a list column, read from the Arrow offsets without touching the values.

    Chunk by chunk, handing back the offsets' pages after each (mapped_pages.py), so that neither a temporary
    copy of the whole column nor its mapped pages are ever held at once.
    """
    mapped = mapped_pages.ranges_of(table_files(table))
    lengths = torch.empty(len(table), dtype=torch.int32)  # (N,): a private copy, 4 bytes per row
    start = 0
    for chunk in table.data.column(column).chunks:
        counts = pyarrow.compute.list_value_length(chunk).to_numpy(zero_copy_only=False)  # (rows in chunk,)
        lengths[start : start + len(counts)] = torch.from_numpy(counts.astype("int32"))  # a writable copy
        start += len(counts)
        mapped_pages.release_ranges(mapped)
    return lengths


class BucketedBatches(Sequence):
    """One epoch's batches over a table: `len()` batches, `[i]` collates batch i from its rows (`rows`, a
    TableRows made once per table and shared by every epoch).

    Same draws as batching.bucketed_order: shuffle, stable-sort by length within pools of `pool_batches`
    batches, cut into batches (by `batch_size` and the `max_tokens` budget), shuffle the batches.
    """

    def __init__(
        self,
        rows: TableRows,
        lengths: torch.Tensor,
        batch_size: int,
        generator: torch.Generator,
        pad_values: dict[str, int] | None = None,
        pool_batches: int = 50,
        max_tokens: int | None = None,
    ):
        self.rows = rows
        self.pad_values = pad_values
        count = len(lengths)
        shuffled = torch.randperm(count, generator=generator, dtype=torch.int32)  # (N,)
        pool = batch_size * pool_batches
        starts, sizes = [], []
        for pool_start in range(0, count, pool):
            chunk = shuffled[pool_start : pool_start + pool]
            # A stable sort keeps equal lengths in shuffled order, as Python's sorted does.
            sorted_lengths, positions = torch.sort(lengths[chunk.long()], stable=True)
            shuffled[pool_start : pool_start + pool] = chunk[positions]
            for start, size in cut_sorted(sorted_lengths.tolist(), batch_size, max_tokens):
                starts.append(pool_start + start)
                sizes.append(size)
        self.order = shuffled
        permutation = torch.randperm(len(starts), generator=generator)
        self.starts = torch.tensor(starts, dtype=torch.int64)[permutation]  # (batches,)
        self.sizes = torch.tensor(sizes, dtype=torch.int64)[permutation]  # (batches,)

    def __len__(self) -> int:
        return len(self.starts)

    def indices(self, index: int) -> list[int]:
        """The table rows of batch `index`."""
        start = int(self.starts[index])
        return self.order[start : start + int(self.sizes[index])].tolist()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        rows = self.indices(index % len(self))
        examples = self.rows[rows]  # read from the table's files without mapping their pages (table_rows.py)
        return collate(examples, self.pad_values)
