"""The classic recurrent zoo: Elman, Jordan, LSTM (with and without peepholes), GRU, IRNN, SCRN, clockwork.

Where a cell is exactly one of torch's fused kernels it runs on that kernel (`FUSED_CELLS`):
- `elman`: the Elman network (Elman 1990, "Finding structure in time"): the hidden state is the memory,
  h_t = tanh(W x_t + U h_{t-1} + b), which is torch's tanh RNN.
- `irnn`: a ReLU Elman network whose recurrent matrix starts as the identity and whose biases start at zero
  (Le, Jaitly and Hinton 2015, "A simple way to initialize recurrent networks of rectified linear units"),
  so at initialisation the state is carried forward unchanged and gradients neither explode nor vanish.
- `lstm`: long short-term memory (Hochreiter and Schmidhuber 1997, with the forget gate of Gers et al. 2000).
- `gru`: gated recurrent unit (Cho et al. 2014).

The others are written here (`CUSTOM_CELLS`). Each computes the input projection of every time step in one
matrix multiply, so the time loop holds only the recurrent product (one addmm) and a few elementwise
operations. The loops are plain Python: TorchScript bought nothing measurable at hidden size 256
(benchmarks/cells.py under PYTORCH_JIT=0 and 1) and torch.jit.script is deprecated.
- `jordan`: the Jordan network (Jordan 1986, "Serial order"): the previous *output* is the memory,
  h_t = tanh(W x_t + U y_{t-1} + b), y_t = tanh(V h_t + c); the layer's outputs are the y_t.
- `peephole_lstm`: an LSTM whose gates also see the cell state through diagonal "peephole" weights (Gers and
  Schmidhuber 2000, "Recurrent nets that time and count"): input and forget gates see c_{t-1}, the output gate
  sees c_t.
- `scrn`: the structurally constrained recurrent network (Mikolov et al. 2015, "Learning longer memory in
  recurrent neural networks"): slowly changing context units s_t = (1 - alpha) B x_t + alpha s_{t-1} with
  alpha fixed near 1, beside fast sigmoid units h_t = sigmoid(P s_t + A x_t + R h_{t-1}). The context units
  do not depend on h, so they and P s_t are computed before the loop. The layer outputs [h_t; s_t], both of
  which the paper's output layer reads.
- `clockwork`: the clockwork RNN (Koutnik et al. 2014): the hidden units form modules with periods 1, 2, 4,
  ...; at step t (counted from 0) a module is updated only if t is a multiple of its period, and otherwise
  keeps its value. The recurrent matrix is block triangular: slower modules feed faster ones, never the
  reverse.

Every custom cell reads left-aligned sequences from step 0 and starts from a zero state, so a sequence's
outputs never depend on padding after it; seqkit.layers.rnn runs the backward direction on per-sequence
reversed inputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# recipe name -> (torch module, nonlinearity for nn.RNN)
FUSED_CELLS: dict[str, tuple[type[nn.Module], str | None]] = {
    "lstm": (nn.LSTM, None),
    "gru": (nn.GRU, None),
    "elman": (nn.RNN, "tanh"),
    "irnn": (nn.RNN, "relu"),
}


def initialise_identity_recurrence(rnn: nn.RNN) -> None:
    """IRNN initialisation (Le et al. 2015): recurrent matrices = identity, all biases = 0."""
    with torch.no_grad():
        for name, parameter in rnn.named_parameters():
            if name.startswith("weight_hh"):
                parameter.copy_(torch.eye(parameter.size(0), dtype=parameter.dtype))
            elif name.startswith("bias"):
                parameter.zero_()


def _uniform_(module: nn.Module, hidden_size: int) -> None:
    """The same initialisation as torch's fused RNNs, so custom and fused cells start on equal footing."""
    bound = 1.0 / math.sqrt(hidden_size)
    for parameter in module.parameters():
        nn.init.uniform_(parameter, -bound, bound)


# ---- the time loops: inputs are already projected, (B, T, G) ----------------------------------------------
def _elman_loop(projected: torch.Tensor, recurrent: torch.Tensor, activation: str) -> torch.Tensor:
    hidden = projected.new_zeros(projected.size(0), recurrent.size(0))  # (B, H)
    recurrent_t = recurrent.t()
    outputs: list[torch.Tensor] = []
    for step in projected.unbind(1):
        hidden = torch.addmm(step, hidden, recurrent_t)
        if activation == "tanh":
            hidden = torch.tanh(hidden)
        elif activation == "relu":
            hidden = torch.relu(hidden)
        outputs.append(hidden)
    return torch.stack(outputs, 1)  # (B, T, H)


def _jordan_loop(
    projected: torch.Tensor, recurrent: torch.Tensor, output_weight: torch.Tensor, output_bias: torch.Tensor
) -> torch.Tensor:
    output = projected.new_zeros(projected.size(0), output_weight.size(0))  # (B, H)
    recurrent_t, output_weight_t = recurrent.t(), output_weight.t()
    outputs: list[torch.Tensor] = []
    for step in projected.unbind(1):
        hidden = torch.tanh(torch.addmm(step, output, recurrent_t))
        output = torch.tanh(torch.addmm(output_bias, hidden, output_weight_t))
        outputs.append(output)
    return torch.stack(outputs, 1)  # (B, T, H)


def _peephole_lstm_loop(
    projected: torch.Tensor, recurrent: torch.Tensor, peepholes: torch.Tensor
) -> torch.Tensor:
    hidden_size = recurrent.size(1)
    hidden = projected.new_zeros(projected.size(0), hidden_size)  # (B, H)
    cell = torch.zeros_like(hidden)
    recurrent_t = recurrent.t()
    peep_input, peep_forget, peep_output = peepholes.unbind(0)  # (H,) each
    outputs: list[torch.Tensor] = []
    for step in projected.unbind(1):
        gates = torch.addmm(step, hidden, recurrent_t)  # (B, 4H)
        input_gate, forget_gate, candidate, output_gate = gates.chunk(4, 1)
        input_gate = torch.sigmoid(input_gate + peep_input * cell)
        forget_gate = torch.sigmoid(forget_gate + peep_forget * cell)
        cell = forget_gate * cell + input_gate * torch.tanh(candidate)
        output_gate = torch.sigmoid(output_gate + peep_output * cell)
        hidden = output_gate * torch.tanh(cell)
        outputs.append(hidden)
    return torch.stack(outputs, 1)  # (B, T, H)


def _context_loop(projected_context: torch.Tensor, alpha: float) -> torch.Tensor:
    context = projected_context.new_zeros(projected_context.size(0), projected_context.size(2))  # (B, S)
    contexts: list[torch.Tensor] = []
    for step in projected_context.unbind(1):
        context = torch.lerp(step, context, alpha)  # (1 - alpha) * B x_t + alpha * s_{t-1}
        contexts.append(context)
    return torch.stack(contexts, 1)  # (B, T, S)


def _sigmoid_loop(projected: torch.Tensor, recurrent: torch.Tensor) -> torch.Tensor:
    hidden = projected.new_zeros(projected.size(0), recurrent.size(0))  # (B, H)
    recurrent_t = recurrent.t()
    outputs: list[torch.Tensor] = []
    for step in projected.unbind(1):
        hidden = torch.sigmoid(torch.addmm(step, hidden, recurrent_t))
        outputs.append(hidden)
    return torch.stack(outputs, 1)  # (B, T, H)


def _clockwork_loop(projected: torch.Tensor, recurrent: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    hidden = projected.new_zeros(projected.size(0), recurrent.size(0))  # (B, H)
    recurrent_t = recurrent.t()
    outputs: list[torch.Tensor] = []
    for time_step, step in enumerate(projected.unbind(1)):
        candidate = torch.tanh(torch.addmm(step, hidden, recurrent_t))
        hidden = torch.where(active[time_step], candidate, hidden)
        outputs.append(hidden)
    return torch.stack(outputs, 1)  # (B, T, H)


# ---- the cells: (B, T, D_in) left-aligned inputs -> (B, T, H) outputs ------------------------------------
class ElmanCell(nn.Module):
    """The Elman network written out, h_t = f(W x_t + U h_{t-1} + b), with f = tanh, relu or identity.

    Recipes run `elman` and `irnn` on torch's fused kernels; this loop is their definition, against which the
    tests check the kernels, and with f = identity it is the linear network of the lecture's examples.
    """

    def __init__(self, input_size: int, hidden_size: int, activation: str = "tanh", bias: bool = True):
        super().__init__()
        if activation not in ("tanh", "relu", "identity"):
            raise ValueError(f"activation must be tanh, relu or identity, got {activation!r}")
        self.activation = activation
        self.output_dim = hidden_size
        self.input_projection = nn.Linear(input_size, hidden_size, bias=bias)
        self.recurrent = nn.Parameter(torch.empty(hidden_size, hidden_size))
        _uniform_(self, hidden_size)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return _elman_loop(self.input_projection(inputs), self.recurrent, self.activation)


class JordanCell(nn.Module):
    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.output_dim = hidden_size
        self.input_projection = nn.Linear(input_size, hidden_size)
        self.recurrent = nn.Parameter(torch.empty(hidden_size, hidden_size))  # y_{t-1} -> h_t
        self.output_weight = nn.Parameter(torch.empty(hidden_size, hidden_size))  # h_t -> y_t
        self.output_bias = nn.Parameter(torch.empty(hidden_size))
        _uniform_(self, hidden_size)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        projected = self.input_projection(inputs)  # (B, T, H)
        return _jordan_loop(projected, self.recurrent, self.output_weight, self.output_bias)


class PeepholeLSTMCell(nn.Module):
    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.output_dim = hidden_size
        self.input_projection = nn.Linear(input_size, 4 * hidden_size)  # gates i, f, g, o
        self.recurrent = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.peepholes = nn.Parameter(torch.empty(3, hidden_size))  # input, forget, output gate
        _uniform_(self, hidden_size)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return _peephole_lstm_loop(self.input_projection(inputs), self.recurrent, self.peepholes)


class SCRNCell(nn.Module):
    """`hidden_size` units in all: `context_size` slow context units (a quarter by default), the rest fast."""

    def __init__(
        self, input_size: int, hidden_size: int, context_size: int | None = None, alpha: float = 0.95
    ):
        super().__init__()
        self.context_size = context_size if context_size is not None else max(1, hidden_size // 4)
        self.fast_size = hidden_size - self.context_size
        if self.fast_size < 1:
            raise ValueError(f"SCRN context_size {self.context_size} leaves no fast units of {hidden_size}")
        self.alpha = alpha
        self.output_dim = hidden_size
        # One multiply gives A x_t (fast units) and B x_t (context units) for every step.
        self.input_projection = nn.Linear(input_size, self.fast_size + self.context_size)
        self.context_to_fast = nn.Linear(self.context_size, self.fast_size, bias=False)  # P
        self.recurrent = nn.Parameter(torch.empty(self.fast_size, self.fast_size))  # R
        _uniform_(self, hidden_size)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        projected = self.input_projection(inputs)  # (B, T, F + S)
        fast_input, context_input = projected.split([self.fast_size, self.context_size], dim=-1)
        context = _context_loop(context_input, self.alpha)  # (B, T, S)
        fast = _sigmoid_loop(fast_input + self.context_to_fast(context), self.recurrent)  # (B, T, F)
        return torch.cat([fast, context], dim=-1)  # (B, T, H)


class ClockworkCell(nn.Module):
    """Hidden units in `num_modules` nearly equal modules with periods 1, 2, 4, ..., 2^(num_modules - 1)."""

    def __init__(self, input_size: int, hidden_size: int, num_modules: int = 4):
        super().__init__()
        if not 1 <= num_modules <= hidden_size:
            raise ValueError(f"clockwork needs 1..{hidden_size} modules, got {num_modules}")
        self.output_dim = hidden_size
        self.input_projection = nn.Linear(input_size, hidden_size)
        self.recurrent = nn.Parameter(torch.empty(hidden_size, hidden_size))
        _uniform_(self, hidden_size)
        module_of_unit = torch.arange(hidden_size) * num_modules // hidden_size  # (H,), slow modules last
        self.register_buffer("periods", 2**module_of_unit, persistent=False)  # (H,)
        # Unit i reads unit j only when j's module is at least as slow as i's: block upper triangular.
        connections = module_of_unit.unsqueeze(0) >= module_of_unit.unsqueeze(1)  # (H, H)
        self.register_buffer("connections", connections.float(), persistent=False)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        recurrent = self.recurrent * self.connections  # the forbidden blocks get neither value nor gradient
        steps = torch.arange(inputs.size(1), device=inputs.device)
        active = steps.unsqueeze(1) % self.periods == 0  # (T, H): which units tick at each step
        return _clockwork_loop(self.input_projection(inputs), recurrent, active)


CUSTOM_CELLS: dict[str, type[nn.Module]] = {
    "jordan": JordanCell,
    "peephole_lstm": PeepholeLSTMCell,
    "scrn": SCRNCell,
    "clockwork": ClockworkCell,
}

# Every name `rnn.cell` accepts, with the paper it comes from (what `seqkit list` shows).
CELLS: dict[str, str] = {
    "elman": "Elman 1990; fused tanh RNN",
    "jordan": "Jordan 1986",
    "lstm": "Hochreiter & Schmidhuber 1997; fused",
    "peephole_lstm": "Gers & Schmidhuber 2000",
    "gru": "Cho et al. 2014; fused",
    "irnn": "Le et al. 2015; fused ReLU RNN, identity init",
    "scrn": "Mikolov et al. 2015",
    "clockwork": "Koutnik et al. 2014",
}
assert set(CELLS) == set(FUSED_CELLS) | set(CUSTOM_CELLS) and not set(FUSED_CELLS) & set(CUSTOM_CELLS)
