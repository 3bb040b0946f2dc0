"""The recurrent layer: any cell of seqkit.layers.cells, packed or masked, bidirectional, multi-layer.

Cells that equal one of torch's fused kernels (lstm, gru, elman, irnn) run packed (`pack_padded_sequence`), so
the kernels never read padding. The custom cells (jordan, peephole_lstm, scrn, clockwork) read left-aligned
sequences from step 0, so padding only ever follows a sequence and cannot reach its outputs; the backward
direction reverses each sequence within its own length, runs the same kind of cell, and reverses back. Either
way a sequence gives the same outputs alone or inside a padded batch, in both directions, and padded positions
of the outputs are zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqkit.layers.cells import CELLS, CUSTOM_CELLS, FUSED_CELLS, initialise_identity_recurrence

if TYPE_CHECKING:  # the config is only named in a type: layers take plain arguments and import nothing above
    from seqkit.config import RNNConfig

__all__ = ["CELLS", "FUSED_CELLS", "RecurrentLayer", "reverse_padded"]


def reverse_padded(inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of (B, T, D) `inputs` within its length; padding stays where it is.

    Applying it twice gives the inputs back, so it also maps the reversed outputs back into place.
    """
    steps = torch.arange(inputs.size(1), device=inputs.device).unsqueeze(0)  # (1, T)
    lengths = lengths.to(inputs.device).unsqueeze(1)  # (B, 1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (B, T)
    return inputs.gather(1, index.unsqueeze(-1).expand_as(inputs))


class RecurrentLayer(nn.Module):
    """(B, T, D_in) inputs and (B,) lengths -> (B, T, D_out) outputs and (B, D_out) final states.

    D_out = hidden_size * (2 if bidirectional else 1). The final state of the backward direction is the one
    it reaches at the first token, as for any bidirectional RNN. `dropout` applies between layers.
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
        if cell not in CELLS:
            raise ValueError(f"unknown recurrent cell {cell!r} (choose from: {', '.join(CELLS)})")
        self.cell = cell
        self.num_directions = 2 if bidirectional else 1
        self.output_dim = hidden_size * self.num_directions
        if cell in FUSED_CELLS:
            module, nonlinearity = FUSED_CELLS[cell]
            extra = {"nonlinearity": nonlinearity} if nonlinearity else {}
            self.rnn = module(
                input_size,
                hidden_size,
                num_layers=num_layers,
                bidirectional=bidirectional,
                batch_first=True,
                dropout=dropout if num_layers > 1 else 0.0,
                **extra,
            )
            if cell == "irnn":
                initialise_identity_recurrence(self.rnn)
        else:
            cell_class = CUSTOM_CELLS[cell]
            self.layers = nn.ModuleList(
                nn.ModuleList(
                    cell_class(input_size if layer == 0 else self.output_dim, hidden_size)
                    for _ in range(self.num_directions)
                )
                for layer in range(num_layers)
            )
            self.dropout = nn.Dropout(dropout)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.cell in FUSED_CELLS:
            return self._forward_fused(inputs, lengths)
        return self._forward_custom(inputs, lengths)

    def _forward_fused(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        total_length = inputs.size(1)
        if bool((lengths == total_length).all()):
            # No padding (one sentence, or a batch of equal lengths): packing would only sort and copy.
            outputs, state = self.rnn(inputs)
        else:
            packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
            packed_outputs, state = self.rnn(packed)
            outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=total_length)
        hidden = state[0] if isinstance(state, tuple) else state  # (layers * directions, B, H)
        last_layer = hidden[-self.num_directions :]  # (directions, B, H)
        final = last_layer.transpose(0, 1).reshape(inputs.size(0), self.output_dim)  # (B, D_out)
        return outputs, final  # (B, T, D_out), (B, D_out)

    def _forward_custom(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        lengths = lengths.to(inputs.device)
        steps = torch.arange(inputs.size(1), device=inputs.device)
        mask = (steps.unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1).to(inputs.dtype)  # (B, T, 1)
        layer_inputs = inputs
        for depth, directions in enumerate(self.layers):
            if depth > 0:
                layer_inputs = self.dropout(layer_inputs)
            outputs = [directions[0](layer_inputs)]  # (B, T, H)
            if self.num_directions == 2:
                backward = directions[1](reverse_padded(layer_inputs, lengths))
                outputs.append(reverse_padded(backward, lengths))
            # Zeroed padding keeps the next layer's inputs, and the returned outputs, free of junk.
            layer_inputs = torch.cat(outputs, dim=-1) * mask  # (B, T, D_out)
        hidden_size = self.output_dim // self.num_directions
        batch = torch.arange(inputs.size(0), device=inputs.device)
        finals = [layer_inputs[batch, lengths - 1, :hidden_size]]  # forward: at the last token
        if self.num_directions == 2:
            finals.append(layer_inputs[:, 0, hidden_size:])  # backward: at the first token
        return layer_inputs, torch.cat(finals, dim=-1)  # (B, T, D_out), (B, D_out)


def build_recurrent_layer(config: RNNConfig, input_size: int) -> RecurrentLayer:
    """The recurrent layer a recipe's `rnn:` section describes, over inputs of `input_size` features."""
    return RecurrentLayer(
        input_size,
        config.hidden_size,
        num_layers=config.num_layers,
        bidirectional=config.bidirectional,
        cell=config.cell,
        dropout=config.dropout,
    )
