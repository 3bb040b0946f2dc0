"""The speed bound of each model: its bare torch kernels at the shapes of the very batches the model sees.

A model's training step does more than its core kernels (embedding lookups, packing, attention, a CRF, the
optimizer update, Python between ops); the bound is what the kernels alone cost, so model/bound says how much
of the machine the toolkit leaves on the table. Every bound module is built from the dimensions of the trained
or freshly built model itself (never from a second copy of the recipe), and reads random inputs shaped like
the real padded batch, so the two do the same amount of kernel work:

- recurrent models: nn.LSTM / nn.GRU (same layers, widths and directions) over the padded (B, T) batch, plus
  the output projection and a cross-entropy, forward and backward (no optimizer step); a tagger whose intent
  reads a recurrent layer of its own (head.intent_encoder) gets that layer too, over the same inputs;
- encoder-decoders: the encoder RNN over the source, the decoder RNN over the target, the projection onto the
  target vocabulary, forward and backward through all three (training back-propagates into the encoder through
  attention and the bridge, so the bound's loss reads the encoder's outputs too); for search, one decoder step
  per output position on B * beam rows plus the projection, log-softmax and top-k;
- bags of n-grams (fastText): nn.functional.embedding_bag per feature plus the linear layer;
- memory networks: embedding_bag sums of the story sentences per embedding matrix, the attention products
  of each hop, and the answer projection.
"""

from __future__ import annotations

import torch
from torch import nn


def fused_copy(rnn: nn.RNNBase) -> nn.RNNBase:
    """A fresh fused kernel of the same kind and shape as `rnn` (batch first, no dropout)."""
    return type(rnn)(
        rnn.input_size, rnn.hidden_size, num_layers=rnn.num_layers, bidirectional=rnn.bidirectional, batch_first=True
    )


class RecurrentBound(nn.Module):
    """RNN over (B, T, D_in) random inputs -> projection -> cross-entropy against random classes.

    `side`, when given, is a second RNN over the same inputs (a tagger's intent encoder); the mean of its outputs
    joins the loss, so that its backward pass is timed as in training, where the intent loss reaches it.
    """

    def __init__(self, rnn: nn.RNNBase, projection: nn.Linear, side: nn.RNNBase | None = None):
        super().__init__()
        self.rnn = fused_copy(rnn)
        self.projection = nn.Linear(projection.in_features, projection.out_features)
        self.side = fused_copy(side) if side is not None else None

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        batch_size, length = batch["words"].shape[:2]
        inputs = torch.randn(batch_size, length, self.rnn.input_size)  # (B, T, D_in)
        outputs, _ = self.rnn(inputs)  # (B, T, D)
        logits = self.projection(outputs)  # (B, T, C)
        gold = torch.randint(logits.size(-1), (batch_size * length,))
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), gold)
        if self.side is not None:
            side_outputs, _ = self.side(inputs)  # (B, T, D_side)
            loss = loss + side_outputs.mean()
        return loss


class EncoderDecoderBound(nn.Module):
    """Encoder RNN over the source, decoder RNN over the target, projection onto the target vocabulary."""

    def __init__(self, encoder: nn.RNNBase, decoder: nn.RNNBase, projection_in: int, vocabulary: int):
        super().__init__()
        self.encoder = fused_copy(encoder)
        self.decoder = fused_copy(decoder)
        self.projection = nn.Linear(projection_in, vocabulary)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        batch_size, source_length = batch["words"].shape
        target_length = batch["targets_in"].size(1)
        memory, _ = self.encoder(torch.randn(batch_size, source_length, self.encoder.input_size))  # (B, T, D)
        outputs, _ = self.decoder(torch.randn(batch_size, target_length, self.decoder.input_size))  # (B, U, H)
        logits = self.projection(outputs[..., : self.projection.in_features])  # (B, U, V)
        gold = torch.randint(logits.size(-1), (batch_size * target_length,))
        # The mean of the encoder's outputs costs one reduction, and makes backward run through the encoder as
        # a real step must; without it the encoder would be timed forward only.
        return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), gold) + memory.mean()

    @torch.inference_mode()
    def search(self, batch: dict[str, torch.Tensor], beam: int, steps: int) -> None:
        """`steps` decoder steps on B * beam rows, each with the projection, log-softmax and top-k."""
        batch_size, source_length = batch["words"].shape
        self.encoder(torch.randn(batch_size, source_length, self.encoder.input_size))
        rows = batch_size * beam
        hidden = torch.zeros(self.decoder.num_layers, rows, self.decoder.hidden_size)
        if isinstance(self.decoder, nn.LSTM):
            hidden = (hidden, hidden.clone())
        step_input = torch.randn(rows, 1, self.decoder.input_size)  # (B * K, 1, E)
        for _ in range(steps):
            output, hidden = self.decoder(step_input, hidden)  # (B * K, 1, H)
            scores = self.projection(output[:, 0, : self.projection.in_features]).log_softmax(-1)  # (B * K, V)
            scores.view(batch_size, -1).topk(2 * beam, dim=1)


class BagBound(nn.Module):
    """embedding_bag (mean) per feature table, concatenated, then the linear layer: the fastText kernels."""

    def __init__(self, tables: dict[str, nn.Embedding], classes: int):
        super().__init__()
        copies = {name: nn.Parameter(table.weight.detach().clone()) for name, table in tables.items()}
        self.tables = nn.ParameterDict(copies)
        self.output = nn.Linear(sum(table.embedding_dim for table in tables.values()), classes)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        pooled = [
            nn.functional.embedding_bag(batch[name], weight, mode="mean")  # (B, D_feature)
            for name, weight in self.tables.items()
        ]
        logits = self.output(torch.cat(pooled, dim=-1))  # (B, C)
        return nn.functional.cross_entropy(logits, torch.randint(logits.size(-1), (logits.size(0),)))


class MemoryBound(nn.Module):
    """Sentence sums per embedding matrix, `hops` attention reads, the answer projection."""

    def __init__(self, vocabulary: int, dimension: int, hops: int):
        super().__init__()
        self.hops = hops
        self.matrices = nn.Parameter(torch.randn(hops + 1, vocabulary, dimension) * 0.1)
        self.output = nn.Linear(dimension, vocabulary, bias=False)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        story = batch["story"]  # (B, M, L)
        batch_size, memories, width = story.shape
        flat = story.reshape(batch_size * memories, width)
        embedded = [
            nn.functional.embedding_bag(flat, matrix, mode="sum").view(batch_size, memories, -1)  # (B, M, d)
            for matrix in self.matrices
        ]
        state = nn.functional.embedding_bag(batch["question"], self.matrices[0], mode="sum")  # (B, d)
        for hop in range(self.hops):
            weights = torch.einsum("bmd,bd->bm", embedded[hop], state).softmax(dim=-1)  # (B, M)
            state = state + torch.einsum("bm,bmd->bd", weights, embedded[hop + 1])
        logits = self.output(state)  # (B, V)
        return nn.functional.cross_entropy(logits, torch.randint(logits.size(-1), (batch_size,)))
