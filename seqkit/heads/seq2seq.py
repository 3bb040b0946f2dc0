"""The attention encoder-decoder (Bahdanau, Cho and Bengio 2015; Luong, Pham and Manning 2015).

A bidirectional recurrent layer (any cell of seqkit.layers.rnn) reads the source. A bridge maps its final
state to the decoder's initial state. The decoder, a recurrent layer over target embeddings, produces one
output per target position; attention over the encoder states gives a context, and the "attentional" vector
tanh(W [output; context]) scores the target vocabulary. With input feeding (Luong et al.), the previous
attentional vector joins the next input, which forces a step-by-step loop; without it, teacher-forced training
runs the fused decoder over the whole target at once. Either way, every target position's output projection,
attention and loss are computed in one batched operation. Options: tied target embeddings and output layer
(Press and Wolf 2017), label smoothing (Szegedy et al. 2016), copy attention (layers/copy.py).

Search (greedy, beam) lives in seqkit/decoding.py and uses `encode` and `decode_step`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from seqkit.heads import HeadOutput
from seqkit.layers.attention import Attention
from seqkit.layers.copy import CopySwitch
from seqkit.layers.rnn import FUSED_CELLS, RecurrentLayer
from seqkit.runtime.device import model_device, to_cpu, to_device


@dataclass(frozen=True)
class TargetSymbols:
    """The target vocabulary's size and special ids."""

    size: int
    pad: int
    unknown: int
    begin: int
    end: int


@dataclass
class DecoderState:
    """What a decoding step needs. `hidden` (layers, R, H) and `feed` (R, D_out) have one row per hypothesis;
    the source tensors (memory, keys, mask, copy ids) one row per sentence, B = R / group. Beam search keeps
    `group` = beam hypotheses per sentence without copying its source `beam` times: each step then attends with
    `beam` queries per sentence, reading one copy of the memory instead of `beam` copies."""

    memory: torch.Tensor  # (B, T, D_memory)
    keys: torch.Tensor  # (B, T, D_key)
    mask: torch.Tensor  # (B, T)
    hidden: torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # (L, R, H), or (h, c) for an LSTM
    feed: torch.Tensor | None  # (R, D_out) previous attentional vector, with input feeding
    source_copy_ids: torch.Tensor | None  # (B, T) extended-vocabulary ids, with copy attention
    extra_size: int = 0
    group: int = 1  # hypotheses per sentence: R = B * group, in blocks of `group` consecutive rows

    def expand(self, group: int) -> DecoderState:
        """`group` hypotheses for each sentence of a fresh (group 1) state; only hidden and feed are copied."""
        rows = torch.arange(self.memory.size(0), device=self.memory.device).repeat_interleave(group)
        return replace(self.reorder(rows), group=group)

    def select(self, rows: torch.Tensor) -> DecoderState:
        """The state of the hypothesis rows `rows` (reorders beams and drops finished sentences). With
        group > 1, `rows` comes in blocks of `group` rows of one sentence, and that sentence's source is kept."""
        rows = rows.to(self.memory.device)  # decoding.py keeps its bookkeeping on the CPU
        sources = rows[:: self.group] // self.group  # (B',) the sentence of each block
        return replace(self.reorder(rows), **self._sources(lambda value: value[sources]))

    def per_row(self) -> DecoderState:
        """The same state with its source copied to every hypothesis row (group 1), for a decoder that needs
        one source row per hypothesis (the exported ONNX step)."""
        if self.group == 1:
            return self
        return replace(self, group=1, **self._sources(lambda value: value.repeat_interleave(self.group, 0)))

    def copy_ids_per_row(self) -> torch.Tensor:
        """Extended-vocabulary source ids with one row per hypothesis: (R, T)."""
        ids = self.source_copy_ids
        return ids if self.group == 1 else ids.repeat_interleave(self.group, 0)

    def _sources(self, change) -> dict[str, torch.Tensor]:
        """`change` applied to each per-sentence tensor the state holds (memory, keys, mask, copy ids)."""
        names = ("memory", "keys", "mask", "source_copy_ids")
        return {name: change(getattr(self, name)) for name in names if getattr(self, name) is not None}

    def reorder(self, rows: torch.Tensor) -> DecoderState:
        """Like `select`, for rows that stay within their own sentence (beam search re-ranking its beams):
        memory, keys, mask and copy ids depend on the source alone, so they are kept, not copied."""
        hidden = tuple(h[:, rows] for h in self.hidden) if isinstance(self.hidden, tuple) else self.hidden[:, rows]
        feed = self.feed[rows] if self.feed is not None else None
        return replace(self, hidden=hidden, feed=feed)


class Seq2SeqHead(nn.Module):
    def __init__(
        self,
        encoder: RecurrentLayer,
        symbols: TargetSymbols,
        embedding_size: int,
        hidden_size: int,
        num_layers: int = 1,
        attention: str = "general",
        input_feeding: bool = False,
        bridge: bool = True,
        dropout: float = 0.0,
        tie_embeddings: bool = False,
        label_smoothing: float = 0.0,
        copy: bool = False,
        decoder_cell: str | None = None,
    ):
        """`decoder_cell` (a fused kernel: lstm, gru, elman, irnn) defaults to the encoder's cell when fused."""
        super().__init__()
        self.encoder = encoder
        self.symbols = symbols
        # The decoder steps one token at a time with its state exposed, which the fused kernels allow; the
        # encoder may use any cell of the recurrent layer.
        self.cell = decoder_cell or (encoder.cell if encoder.cell in FUSED_CELLS else "gru")
        if self.cell not in FUSED_CELLS:
            raise ValueError(f"decoder cell {self.cell!r} must be one of: {', '.join(FUSED_CELLS)}")
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.input_feeding = input_feeding
        self.label_smoothing = label_smoothing
        # Tying shares the (V, E) matrix between input embedding and output layer, so the output is E wide.
        self.output_size = embedding_size if tie_embeddings else hidden_size
        self.embedding = nn.Embedding(symbols.size, embedding_size, padding_idx=symbols.pad)
        module, nonlinearity = FUSED_CELLS[self.cell]
        extra = {"nonlinearity": nonlinearity} if nonlinearity else {}
        decoder_input = embedding_size + (self.output_size if input_feeding else 0)
        self.decoder = module(
            decoder_input,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            **extra,
        )
        memory_size = encoder.output_dim
        self.bridge = nn.Linear(memory_size, num_layers * hidden_size) if bridge else None
        self.cell_bridge = (
            nn.Linear(memory_size, num_layers * hidden_size) if bridge and self.cell == "lstm" else None
        )
        self.attention = Attention(attention, hidden_size, memory_size, hidden_size)
        self.combine = nn.Linear(hidden_size + memory_size, self.output_size, bias=False)
        # Tied: the output layer reads the embedding matrix itself (not a second parameter sharing its
        # storage, which safetensors refuses to save).
        self.output = None if tie_embeddings else nn.Linear(self.output_size, symbols.size)
        self.output_bias = nn.Parameter(torch.zeros(symbols.size)) if tie_embeddings else None
        self.copy = CopySwitch(memory_size, self.output_size, embedding_size) if copy else None
        self.dropout = nn.Dropout(dropout)

    # ---- encoding -------------------------------------------------------------------------------------
    def encode(self, encoded: torch.Tensor, batch: dict[str, torch.Tensor]) -> DecoderState:
        """encoded (B, T, D_in) source vectors from the input layer -> the decoder's initial state."""
        lengths = batch["lengths"]
        mask = torch.arange(encoded.size(1), device=encoded.device).unsqueeze(0) < lengths.unsqueeze(
            1
        )  # (B, T)
        memory, final = self.encoder(encoded, lengths)  # (B, T, D_memory), (B, D_memory)
        memory = self.dropout(memory)
        batch_size = encoded.size(0)
        if self.bridge is not None:
            hidden = self._layers(torch.tanh(self.bridge(final)))
        else:
            hidden = final.new_zeros(self.num_layers, batch_size, self.hidden_size)
        if self.cell == "lstm":
            cell = (
                self._layers(torch.tanh(self.cell_bridge(final)))
                if self.cell_bridge is not None
                else hidden * 0
            )
            hidden = (hidden, cell)
        feed = memory.new_zeros(batch_size, self.output_size) if self.input_feeding else None
        copy_ids, extra = None, 0
        if self.copy is not None:
            copy_ids = batch["source_copy"]
            extra = int(batch["oov_count"].max()) if batch["oov_count"].numel() else 0
        return DecoderState(memory, self.attention.keys(memory), mask, hidden, feed, copy_ids, extra)

    def _layers(self, flat: torch.Tensor) -> torch.Tensor:
        """(B, L * H) -> (L, B, H)."""
        return flat.view(flat.size(0), self.num_layers, self.hidden_size).transpose(0, 1).contiguous()

    # ---- decoding -------------------------------------------------------------------------------------
    def _run(
        self,
        state: DecoderState,
        previous: torch.Tensor,
        real: torch.Tensor | None = None,
        gold: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, DecoderState, dict]:
        """previous (B, U) target ids (extended ids fall back to <unk>) -> log-probs or logits (B, U, V').

        With `real` (B, U) bool, only those positions are projected: logits (N, V); with copy attention and
        `gold` (B, U) extended ids as well, the gold words' copy log-probabilities (N,) instead.
        """
        inputs = previous.masked_fill(previous >= self.symbols.size, self.symbols.unknown)
        embedded = self.dropout(self.embedding(inputs))  # (B, U, E)
        if self.input_feeding:
            attentional, contexts, weights, outputs = [], [], [], []
            hidden, feed = state.hidden, state.feed
            for position in range(embedded.size(1)):
                step_input = torch.cat([embedded[:, position], feed], dim=-1).unsqueeze(
                    1
                )  # (B, 1, E + D_out)
                output, hidden = self.decoder(step_input, hidden)  # (B, 1, H)
                context, weight = self._attend(output, state)
                feed = torch.tanh(self.combine(torch.cat([output, context], dim=-1))).squeeze(1)  # (B, D_out)
                attentional.append(feed)
                contexts.append(context)
                weights.append(weight)
                outputs.append(output)
            attentional_all = torch.stack(attentional, dim=1)  # (B, U, D_out)
            context_all, weight_all = torch.cat(contexts, dim=1), torch.cat(weights, dim=1)
        else:
            output_all, hidden = self.decoder(embedded, state.hidden)  # (B, U, H)
            context_all, weight_all = self._attend(output_all, state)
            attentional_all = torch.tanh(self.combine(torch.cat([output_all, context_all], dim=-1)))
            feed = None
        # One projection for every target position of the batch; in training only the real ones, since the
        # projection onto the vocabulary is the largest product and a third of a batch's targets can be padding.
        new_state = replace(state, hidden=hidden, feed=feed)
        if real is not None:
            logits = self._project(self.dropout(attentional_all[real]))  # (N, V)
            if self.copy is not None and gold is not None:
                rows = real.nonzero()[:, 0]  # (N,) the batch row of each real position
                generate = self.copy.switch(context_all[real], attentional_all[real], embedded[real])  # (N, 1)
                logits = self.copy.gold_log_probability(
                    logits, weight_all[real], generate, state.source_copy_ids[rows], gold[real]
                )  # (N,)
            return logits, new_state, {"attention": weight_all}
        logits = self._project(self.dropout(attentional_all))  # (B, U, V)
        scores = logits
        if self.copy is not None:
            scores = self.copy(
                logits,
                weight_all,
                context_all,
                attentional_all,
                embedded,
                state.copy_ids_per_row(),  # (R, T)
                state.extra_size,
            )  # log-probabilities (B, U, V + extra)
        return scores, new_state, {"attention": weight_all}

    def _attend(self, queries: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, torch.Tensor]:
        """queries (R, U, H), one row per hypothesis -> context (R, U, D_memory), weights (R, U, T).

        The `group` hypotheses of a sentence become `group * U` queries against its one memory row.
        """
        rows, steps = queries.shape[:2]
        grouped = queries.reshape(rows // state.group, state.group * steps, -1)  # (B, group * U, H)
        context, weights = self.attention(grouped, state.keys, state.memory, state.mask)
        return context.reshape(rows, steps, -1), weights.reshape(rows, steps, -1)

    def _project(self, attentional: torch.Tensor) -> torch.Tensor:
        if self.output is not None:
            return self.output(attentional)
        return nn.functional.linear(attentional, self.embedding.weight, self.output_bias)

    def decode_step(
        self, state: DecoderState, previous: torch.Tensor
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor]:
        """previous (B,) ids -> log-probabilities (B, V'), the next state, attention weights (B, T)."""
        scores, new_state, extras = self._run(state, previous.unsqueeze(1))
        scores = scores.squeeze(1)
        if self.copy is None:
            scores = torch.log_softmax(scores, dim=-1)
        return scores, new_state, extras["attention"].squeeze(1)

    # ---- training -------------------------------------------------------------------------------------
    def forward(self, encoded: torch.Tensor, batch: dict[str, torch.Tensor]) -> HeadOutput:
        """encoded (B, T, D_in); teacher forcing reads batch["targets_in"], ["targets_out"]: (B, U)."""
        state = self.encode(encoded, batch)
        if "targets_in" not in batch:
            return HeadOutput(None, state.memory, {"mask": state.mask})
        gold = batch["targets_out"]  # (B, U), -100 on padding
        real = gold != -100  # (B, U)
        if self.copy is None:
            scores, _, extras = self._run(state, batch["targets_in"], real)  # (N, V)
            loss = nn.functional.cross_entropy(scores, gold[real], label_smoothing=self.label_smoothing)
        elif self.label_smoothing == 0:
            scores, _, extras = self._run(state, batch["targets_in"], real, gold)  # (N,) gold log-probabilities
            loss = -scores.mean()
        else:  # smoothing spreads mass over the whole vocabulary, so it needs the whole distribution
            scores, _, extras = self._run(state, batch["targets_in"])  # (B, U, V')
            loss = self._copy_loss(scores, gold)
        return HeadOutput(loss, scores, extras)

    def _copy_loss(self, scores: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
        """Mean over real target tokens of the (label-smoothed) negative log-likelihood of copy log-probs."""
        flat_scores = scores.reshape(-1, scores.size(-1))  # (B * U, V')
        flat_gold = gold.reshape(-1)
        real = flat_gold != -100
        log_probabilities = flat_scores[real]  # (N, V + extra)
        gold_real = flat_gold[real]
        negative_log_likelihood = -log_probabilities.gather(1, gold_real.unsqueeze(1)).squeeze(1)
        # Smoothing spreads mass over the fixed vocabulary, as cross_entropy's label_smoothing does.
        smooth = -log_probabilities[:, : self.symbols.size].mean(dim=1)
        epsilon = self.label_smoothing
        return ((1.0 - epsilon) * negative_log_likelihood + epsilon * smooth).mean()


class Searchable:
    """Adapts a SeqModel (input layer + Seq2SeqHead) to the interface of seqkit.decoding."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.head: Seq2SeqHead = model.head
        self.begin_id = self.head.symbols.begin
        self.end_id = self.head.symbols.end

    def encode(self, batch: dict[str, torch.Tensor]) -> DecoderState:
        batch = to_device(batch, model_device(self.head))
        return self.head.encode(self.model.encoder(batch), batch)

    def decode_step(self, state: DecoderState, previous: torch.Tensor):
        """(log-probabilities (B, V'), next state, attention (B, T)); the state stays on the model's device."""
        log_probabilities, state, attention = self.head.decode_step(state, previous.to(state.memory.device))
        return to_cpu(log_probabilities), state, to_cpu(attention)
