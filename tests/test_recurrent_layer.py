"""RecurrentLayer with every cell: shapes, and padding that never changes a result, in both directions."""

import pytest
import torch

from seqkit.layers.cells import CELLS
from seqkit.layers.rnn import RecurrentLayer, reverse_padded


def test_reverse_padded_reverses_within_each_length_and_is_its_own_inverse():
    inputs = torch.arange(8.0).view(2, 4, 1)
    reversed_inputs = reverse_padded(inputs, torch.tensor([4, 2]))
    assert reversed_inputs.squeeze(-1).tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]
    assert torch.equal(reverse_padded(reversed_inputs, torch.tensor([4, 2])), inputs)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("cell", list(CELLS))
def test_padding_never_changes_a_result(cell, bidirectional):
    torch.manual_seed(0)
    layer = RecurrentLayer(4, 5, num_layers=2, bidirectional=bidirectional, cell=cell).double().eval()
    lengths = torch.tensor([6, 3, 1, 5])
    inputs = torch.randn(4, 7, 4, dtype=torch.double)  # one step longer than the longest sequence
    outputs, final = layer(inputs, lengths)
    width = 10 if bidirectional else 5
    assert outputs.shape == (4, 7, width) and final.shape == (4, width)
    for index, length in enumerate(lengths.tolist()):
        alone_outputs, alone_final = layer(inputs[index : index + 1, :length], lengths[index : index + 1])
        torch.testing.assert_close(outputs[index, :length], alone_outputs[0])
        torch.testing.assert_close(final[index], alone_final[0])
        assert not outputs[index, length:].any()  # padded positions are zero


@pytest.mark.parametrize("cell", list(CELLS))
def test_final_states_are_the_last_token_forward_and_the_first_token_backward(cell):
    torch.manual_seed(0)
    layer = RecurrentLayer(3, 4, bidirectional=True, cell=cell).double()
    outputs, final = layer(torch.randn(2, 5, 3, dtype=torch.double), torch.tensor([5, 2]))
    torch.testing.assert_close(final[:, :4], outputs[[0, 1], [4, 1], :4])
    torch.testing.assert_close(final[:, 4:], outputs[:, 0, 4:])


def test_dropout_between_layers_only_acts_in_training():
    torch.manual_seed(0)
    layer = RecurrentLayer(3, 4, num_layers=2, cell="scrn", dropout=0.5).eval()
    inputs, lengths = torch.randn(2, 5, 3), torch.tensor([5, 4])
    torch.testing.assert_close(layer(inputs, lengths)[0], layer(inputs, lengths)[0])
    layer.train()
    assert not torch.allclose(layer(inputs, lengths)[0], layer(inputs, lengths)[0])


def test_unknown_cell_lists_the_choices():
    with pytest.raises(ValueError, match="peephole_lstm"):
        RecurrentLayer(3, 4, cell="transformer")
