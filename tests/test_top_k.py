import pytest
import torch

from seqkit.layers.top_k import row_top_k


@pytest.mark.parametrize("width", [100, 64 * 30, 64 * 30 + 7, 8003])
@pytest.mark.parametrize("k", [1, 10])
def test_row_top_k_matches_torch_topk(width, k):
    generator = torch.Generator().manual_seed(width + k)
    values = torch.randn(37, width, generator=generator)  # continuous values: no ties, so columns are unique
    expected_values, expected_columns = values.topk(k, dim=1)
    found_values, found_columns = row_top_k(values, k)
    assert torch.equal(found_values, expected_values)
    assert torch.equal(found_columns, expected_columns)


def test_row_top_k_finds_the_best_entries_in_one_chunk_and_in_the_tail():
    values = torch.full((2, 64 * 30 + 5), -5.0)
    values[0, 128:133] = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])  # all five in one chunk
    values[1, -3:] = torch.tensor([7.0, 8.0, 9.0])  # past the last whole chunk
    values[1, 0] = 6.0
    found_values, found_columns = row_top_k(values, 4)
    assert found_values.tolist() == [[5.0, 4.0, 3.0, 2.0], [9.0, 8.0, 7.0, 6.0]]
    assert found_columns.tolist() == [[132, 131, 130, 129], [64 * 30 + 4, 64 * 30 + 3, 64 * 30 + 2, 0]]


def test_row_top_k_keeps_the_one_finite_entry_of_a_forced_row():
    values = torch.full((3, 5000), float("-inf"))
    values[:, 2] = torch.tensor([-1.5, -0.5, -2.5])  # as when only the end symbol is allowed
    found_values, found_columns = row_top_k(values, 10)
    assert found_values[:, 0].tolist() == [-1.5, -0.5, -2.5]
    assert found_columns[:, 0].tolist() == [2, 2, 2]
    assert torch.isinf(found_values[:, 1:]).all()
