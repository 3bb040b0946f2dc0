"""Rows of a memory-mapped Arrow table, read so that the process's resident memory does not grow with the table.

`Dataset.__getitem__` with a list of rows gathers them and converts the result with `to_pydict`, which faults
in most of the mapped file (64 random rows of a 1M-row, 83 MiB table: +65 MiB resident). Even a plain read
of one mapped int maps a whole page-cache folio around it: here about 45 MiB for a batch of 64 rows, however
few bytes the rows hold. So a row is read with `os.pread` from the Arrow file itself, at the file position of
the mapped buffer that holds it (found through /proc/self/maps): two small reads per list column (its two
offsets, then its values), which go through the page cache without mapping anything into this process.

Where the table is not file-backed or /proc/self/maps is missing, rows are sliced from zero-copy NumPy views
of the same buffers instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import datasets
import numpy
import pyarrow

from seqkit.data import mapped_pages
from seqkit.errors import DataFormatError


def table_files(table: datasets.Dataset) -> list[str]:
    """The Arrow files that `table` memory-maps."""
    return [entry["filename"] for entry in table.cache_files]


class TableRows:
    """`rows[[i, j, ...]]` -> one dict per row, column name -> int or list of ints, as the table holds them."""

    def __init__(self, table: datasets.Dataset):
        arrow = table.data.table  # pyarrow.Table over the memory-mapped file(s)
        self.names = arrow.column_names
        chunk_rows = [len(chunk) for chunk in arrow.column(0).chunks]
        self.chunk_starts = numpy.cumsum([0, *chunk_rows])  # (chunks + 1,)
        maps_text = mapped_pages.MAPS.read_text() if mapped_pages.MAPS.exists() else ""
        mappings = mapped_pages.file_mappings(table_files(table), maps_text)
        self.descriptors = {path: os.open(path, os.O_RDONLY) for path in {mapping.path for mapping in mappings}}
        self.columns: list[list[_FileColumn | _ViewColumn]] = []  # per column, per chunk
        for name in self.names:
            chunks = arrow.column(name).chunks
            if [len(chunk) for chunk in chunks] != chunk_rows:
                raise ValueError(f"column {name!r} is chunked unlike column {self.names[0]!r}")
            self.columns.append([_reader(chunk, mappings, self.descriptors) for chunk in chunks])

    def __getitem__(self, rows: Sequence[int]) -> list[dict[str, int | list[int]]]:
        chunks = numpy.searchsorted(self.chunk_starts, rows, side="right") - 1  # (R,)
        examples = []
        for row, chunk in zip(rows, chunks.tolist(), strict=True):
            local = row - int(self.chunk_starts[chunk])
            examples.append(
                {name: column[chunk].value(local) for name, column in zip(self.names, self.columns, strict=True)}
            )
        return examples

    def close(self) -> None:
        for descriptor in getattr(self, "descriptors", {}).values():
            os.close(descriptor)
        self.descriptors = {}

    def __del__(self):
        self.close()


class _FileColumn:
    """One chunk of a column read with pread: scalars at `data`, lists through `offsets` into `data`."""

    def __init__(self, path: str, descriptor: int, data: int, dtype: numpy.dtype, offsets: int | None, offset_dtype):
        self.path, self.descriptor, self.data, self.dtype = path, descriptor, data, dtype
        self.offsets, self.offset_dtype = offsets, offset_dtype

    def value(self, local: int) -> int | list[int]:
        if self.offsets is None:
            return int(self._read(self.data + local * self.dtype.itemsize, 1, self.dtype)[0])
        start, end = self._read(self.offsets + local * self.offset_dtype.itemsize, 2, self.offset_dtype).tolist()
        return self._read(self.data + start * self.dtype.itemsize, end - start, self.dtype).tolist()

    def _read(self, position: int, count: int, dtype: numpy.dtype) -> numpy.ndarray:
        size = count * dtype.itemsize
        raw = os.pread(self.descriptor, size, position)
        if len(raw) != size:
            # The file shrank under the mapping (a cache folder cleaned or rewritten by another process).
            problem = f"truncated Arrow table: {len(raw)} of {size} bytes at byte {position}; delete it to rebuild"
            raise DataFormatError(self.path, None, problem)
        return numpy.frombuffer(raw, dtype=dtype)


class _ViewColumn:
    """One chunk of a column sliced from zero-copy NumPy views (the fallback)."""

    def __init__(self, chunk: pyarrow.Array):
        if _is_list(chunk):
            # `offsets` follows a sliced chunk's offset; `values` is the whole child array they point into.
            self.offsets, self.values = chunk.offsets.to_numpy(), chunk.values.to_numpy(zero_copy_only=True)
        else:
            self.offsets, self.values = None, chunk.to_numpy(zero_copy_only=True)

    def value(self, local: int) -> int | list[int]:
        if self.offsets is None:
            return int(self.values[local])
        return self.values[self.offsets[local] : self.offsets[local + 1]].tolist()


def _is_list(chunk: pyarrow.Array) -> bool:
    return pyarrow.types.is_list(chunk.type) or pyarrow.types.is_large_list(chunk.type)


def _reader(chunk: pyarrow.Array, mappings: list[mapped_pages.FileMapping], descriptors: dict[str, int]):
    """A _FileColumn when every buffer the chunk reads lies in a mapped file; a _ViewColumn otherwise."""
    values = chunk.values if _is_list(chunk) else chunk
    if chunk.null_count or values.null_count or not pyarrow.types.is_integer(values.type):
        return _ViewColumn(chunk)
    dtype = numpy.dtype(values.type.to_pandas_dtype())
    data = _file_position(values.buffers()[1], mappings)
    if data is None:
        return _ViewColumn(chunk)
    data = (data[0], data[1] + values.offset * dtype.itemsize)
    if not _is_list(chunk):
        return _FileColumn(data[0], descriptors[data[0]], data[1], dtype, None, None)
    offset_dtype = numpy.dtype(numpy.int64 if pyarrow.types.is_large_list(chunk.type) else numpy.int32)
    offsets = _file_position(chunk.buffers()[1], mappings)
    if offsets is None or offsets[0] != data[0]:
        return _ViewColumn(chunk)
    offsets_position = offsets[1] + chunk.offset * offset_dtype.itemsize
    return _FileColumn(data[0], descriptors[data[0]], data[1], dtype, offsets_position, offset_dtype)


def _file_position(buffer: pyarrow.Buffer | None, mappings: list[mapped_pages.FileMapping]):
    """(path, position in that file) of a buffer that lies inside one of `mappings`; None otherwise."""
    if buffer is None:
        return None
    for mapping in mappings:
        if mapping.start <= buffer.address and buffer.address + buffer.size <= mapping.start + mapping.length:
            return mapping.path, mapping.file_offset + buffer.address - mapping.start
    return None
