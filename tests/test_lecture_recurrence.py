"""Facts about recurrent networks from the lecture (LECTURE.txt), checked on seqkit's Elman cell."""

import pytest
import torch
from torch import nn

from seqkit.layers.cells import ElmanCell


def all_ones_linear_elman() -> tuple[ElmanCell, nn.Linear]:
    """2 inputs, 2 hidden, 2 outputs; every weight 1, no bias, every activation linear."""
    cell = ElmanCell(2, 2, activation="identity", bias=False).double()
    output = nn.Linear(2, 2, bias=False).double()
    with torch.no_grad():
        for parameter in [*cell.parameters(), *output.parameters()]:
            parameter.fill_(1.0)
    return cell, output


@pytest.mark.parametrize(
    "sequence, expected",
    [
        ([[1, 1], [1, 1], [2, 2]], [[4, 4], [12, 12], [32, 32]]),
        ([[2, 2], [1, 1], [1, 1]], [[8, 8], [20, 20], [44, 44]]),  # same inputs, other order, other outputs
    ],
)
def test_all_ones_linear_elman_network(sequence, expected):
    cell, output = all_ones_linear_elman()
    inputs = torch.tensor([sequence], dtype=torch.double)  # (1, 3, 2)
    assert output(cell(inputs))[0].tolist() == expected


def last_state_and_gradient(weight: float, steps: int = 1000) -> tuple[float, float]:
    """A 1-unit linear RNN, recurrent weight w, input 1 then steps-1 zeros: the last state and d(state)/dw."""
    cell = ElmanCell(1, 1, activation="identity", bias=False).double()
    with torch.no_grad():
        cell.input_projection.weight.fill_(1.0)
        cell.recurrent.fill_(weight)
    inputs = torch.zeros(1, steps, 1, dtype=torch.double)
    inputs[0, 0, 0] = 1.0
    last = cell(inputs)[0, -1, 0]
    last.backward()
    return last.item(), cell.recurrent.grad.item()


@pytest.mark.parametrize("weight, approximately", [(1.0, 1.0), (1.01, 2.08e4), (0.99, 4.4e-5)])
def test_the_rough_error_surface_of_w_to_the_999(weight, approximately):
    last, gradient = last_state_and_gradient(weight)
    assert last == pytest.approx(weight**999, rel=1e-9)
    assert last == pytest.approx(approximately, rel=0.01)
    # Closed form: d(w^999)/dw = 999 w^998.
    assert gradient == pytest.approx(999 * weight**998, rel=1e-9)


def test_the_gradient_explodes_above_one_and_vanishes_below():
    at_one = last_state_and_gradient(1.0)[1]
    assert at_one == pytest.approx(999)
    assert last_state_and_gradient(1.01)[1] / at_one > 1e4
    assert last_state_and_gradient(0.99)[1] / at_one < 1e-4
