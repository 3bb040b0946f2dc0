"""The recurrent layer: packed, bidirectional, multi-layer, on torch's fused kernels.

Padded batches are packed (`pack_padded_sequence`) so the kernels never read padding: a sequence gives the same
outputs alone or inside a padded batch, in both directions. `FUSED_CELLS` maps recipe names to the fused
kernels; the Elman network (Elman 1990) is exactly torch's tanh RNN, so it runs on that kernel.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# recipe name -> (torch module, nonlinearity for nn.RNN)
FUSED_CELLS: dict[str, tuple[type[nn.Module], str | None]] = {
    "lstm": (nn.LSTM, None),
    "gru": (nn.GRU, None),
    "elman": (nn.RNN, "tanh"),
}


class RecurrentLayer(nn.Module):
    """(B, T, D_in) inputs and (B,) lengths -> (B, T, D_out) outputs and (B, D_out) final states.

    D_out = hidden_size * (2 if bidirectional else 1). The final state of the backward direction is the one
    it reaches at the first token, as for any bidirectional RNN.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = True,
        cell: str = "lstm",
        dropout: float = 0.0,
    ):
        super().__init__()
        if cell not in FUSED_CELLS:
            raise ValueError(f"unknown recurrent cell {cell!r} (choose from: {', '.join(FUSED_CELLS)})")
        module, nonlinearity = FUSED_CELLS[cell]
        extra = {"nonlinearity": nonlinearity} if nonlinearity else {}
        self.cell = cell
        self.rnn = module(
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            **extra,
        )
        self.num_directions = 2 if bidirectional else 1
        self.output_dim = hidden_size * self.num_directions

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        total_length = inputs.size(1)
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_outputs, state = self.rnn(packed)
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=total_length)
        hidden = state[0] if isinstance(state, tuple) else state  # (layers * directions, B, H)
        last_layer = hidden[-self.num_directions :]  # (directions, B, H)
        final = last_layer.transpose(0, 1).reshape(inputs.size(0), self.output_dim)  # (B, D_out)
        return outputs, final  # (B, T, D_out), (B, D_out)
