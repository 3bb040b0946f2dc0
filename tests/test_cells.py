"""Each custom cell against its paper's equations, and the fused kernels against the Elman definition."""

import pytest
import torch
from torch import nn

from seqkit.layers.cells import (
    CELLS,
    CUSTOM_CELLS,
    FUSED_CELLS,
    ClockworkCell,
    ElmanCell,
    JordanCell,
    PeepholeLSTMCell,
    SCRNCell,
)
from seqkit.layers.rnn import RecurrentLayer


def test_every_cell_name_is_either_fused_or_custom():
    assert set(CELLS) == {"elman", "jordan", "lstm", "peephole_lstm", "gru", "irnn", "scrn", "clockwork"}
    assert set(CELLS) == set(FUSED_CELLS) | set(CUSTOM_CELLS)


@pytest.mark.parametrize("activation, cell", [("tanh", "elman"), ("relu", "irnn")])
def test_fused_kernel_equals_the_elman_definition(activation, cell):
    torch.manual_seed(0)
    reference = ElmanCell(3, 4, activation=activation).double()
    layer = RecurrentLayer(3, 4, bidirectional=False, cell=cell).double()
    with torch.no_grad():
        layer.rnn.weight_ih_l0.copy_(reference.input_projection.weight)
        layer.rnn.bias_ih_l0.copy_(reference.input_projection.bias)
        layer.rnn.bias_hh_l0.zero_()
        layer.rnn.weight_hh_l0.copy_(reference.recurrent)
    inputs = torch.randn(2, 5, 3, dtype=torch.double)
    outputs, _ = layer(inputs, torch.tensor([5, 5]))
    torch.testing.assert_close(outputs, reference(inputs))


def test_irnn_starts_with_identity_recurrence_and_zero_biases():
    layer = RecurrentLayer(3, 4, num_layers=2, bidirectional=True, cell="irnn")
    for name, parameter in layer.rnn.named_parameters():
        if name.startswith("weight_hh"):
            assert torch.equal(parameter, torch.eye(4))
        if name.startswith("bias"):
            assert not parameter.any()
    assert layer.rnn.nonlinearity == "relu"


def test_peephole_lstm_without_peepholes_is_the_fused_lstm():
    torch.manual_seed(0)
    cell = PeepholeLSTMCell(3, 4).double()
    fused = nn.LSTM(3, 4, batch_first=True).double()
    with torch.no_grad():
        cell.peepholes.zero_()
        fused.weight_ih_l0.copy_(cell.input_projection.weight)  # both order the gates i, f, g, o
        fused.bias_ih_l0.copy_(cell.input_projection.bias)
        fused.bias_hh_l0.zero_()
        fused.weight_hh_l0.copy_(cell.recurrent)
    inputs = torch.randn(2, 6, 3, dtype=torch.double)
    torch.testing.assert_close(cell(inputs), fused(inputs)[0])


def test_peepholes_let_the_gates_see_the_cell_state():
    torch.manual_seed(0)
    cell = PeepholeLSTMCell(2, 3).double()
    inputs = torch.randn(1, 4, 2, dtype=torch.double)
    before = cell(inputs)
    with torch.no_grad():
        cell.peepholes.add_(1.0)
    assert not torch.allclose(before[:, 1:], cell(inputs)[:, 1:])


def test_jordan_feeds_back_the_previous_output():
    torch.manual_seed(0)
    cell = JordanCell(2, 3).double()
    inputs = torch.randn(1, 3, 2, dtype=torch.double)
    projected = cell.input_projection(inputs)[0]  # (T, H)
    output = torch.zeros(3, dtype=torch.double)
    expected = []
    for step in projected:
        hidden = torch.tanh(step + cell.recurrent @ output)
        output = torch.tanh(cell.output_weight @ hidden + cell.output_bias)
        expected.append(output)
    torch.testing.assert_close(cell(inputs)[0], torch.stack(expected))


def test_scrn_context_units_are_an_exponential_moving_average():
    torch.manual_seed(0)
    cell = SCRNCell(2, 8, context_size=2, alpha=0.9).double()
    inputs = torch.randn(1, 5, 2, dtype=torch.double)
    outputs = cell(inputs)[0]  # (T, 8): 6 fast units, then 2 context units
    context_input = cell.input_projection(inputs)[0, :, 6:]  # B x_t, (T, 2)
    for t in range(5):
        expected = sum(0.1 * 0.9 ** (t - k) * context_input[k] for k in range(t + 1))
        torch.testing.assert_close(outputs[t, 6:], expected)
    fast_expected = torch.zeros(6, dtype=torch.double)
    for t in range(5):
        preactivation = cell.input_projection(inputs)[0, t, :6] + cell.context_to_fast(outputs[t, 6:])
        fast_expected = torch.sigmoid(preactivation + cell.recurrent @ fast_expected)
        torch.testing.assert_close(outputs[t, :6], fast_expected)


def test_clockwork_modules_tick_on_their_periods_and_slow_feeds_fast():
    torch.manual_seed(0)
    cell = ClockworkCell(2, 8, num_modules=4).double()  # modules of 2 units, periods 1, 2, 4, 8
    assert cell.periods.tolist() == [1, 1, 2, 2, 4, 4, 8, 8]
    outputs = cell(torch.randn(1, 9, 2, dtype=torch.double))[0]  # (T, 8)
    for t in range(1, 9):
        for unit, period in enumerate(cell.periods.tolist()):
            if t % period:
                assert outputs[t, unit] == outputs[t - 1, unit], (t, unit)
            else:
                assert outputs[t, unit] != outputs[t - 1, unit], (t, unit)
    outputs.sum().backward()
    gradient = cell.recurrent.grad
    assert not gradient[0:2, 6:8].eq(0).all()  # the fastest module reads the slowest
    assert gradient[6:8, 0:6].eq(0).all()  # the slowest module reads no faster one


@pytest.mark.parametrize("cell", list(CELLS))
def test_gradients_reach_every_parameter(cell):
    torch.manual_seed(0)
    layer = RecurrentLayer(3, 8, num_layers=2, bidirectional=True, cell=cell)
    outputs, final = layer(torch.randn(2, 5, 3), torch.tensor([5, 3]))
    (outputs.sum() + final.sum()).backward()
    for name, parameter in layer.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
