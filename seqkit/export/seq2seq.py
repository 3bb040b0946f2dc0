"""Export a seq2seq model (translation, title generation) to ONNX as two graphs, and generate with them.

`seqkit export RUN_DIR --format onnx` on a translation or title-generation run dir writes RUN_DIR/export/ (or --out):

- `encoder.onnx`: source ids words (B, T) -> memory (B, T, D), attention keys (B, T, D_key) and the decoder's
  initial hidden state (L, B, H) (plus `cell` for an LSTM decoder): the input layer, the recurrent encoder and
  the bridge (Seq2SeqHead.encode).
- `decoder_step.onnx`: one decoding step (Seq2SeqHead.decode_step): the previous token ids (B,), memory, keys,
  the source mask (B, T) and the recurrent state in; log-probabilities (B, V), the next state and the attention
  weights (B, T) out.

The search itself (greedy or beam, seqkit/decoding.py) stays outside the graphs: OnnxGenerator hands
seqkit.tasks.generation.generate an adapter that runs the two graphs in onnxruntime, so segmentation, search
and detokenization are the training code's own. As for the tagger (seqkit/export/tagger.py), the recurrent encoder
normally runs on packed sequences, which ONNX cannot express: the encoder graph runs the plain fused kernel on
unpadded input, so the adapter encodes each source length separately and pads the memories back into one batch
(padding is masked out of the attention, so it never changes a result). Copy attention (a vocabulary that grows
per batch) and the non-fused encoder cells are refused.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqkit.errors import ConfigError
from seqkit.export.onnx_trace import feature_examples, write_onnx
from seqkit.heads.seq2seq import DecoderState, Seq2SeqHead

ENCODER = "encoder.onnx"
DECODER_STEP = "decoder_step.onnx"


class UnpaddedRecurrent(nn.Module):
    """A fused RecurrentLayer run without packing: exact for batches without padding, and traceable."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.rnn = layer.rnn
        self.num_directions = layer.num_directions
        self.output_dim = layer.output_dim

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outputs, state = self.rnn(inputs)  # (B, T, D), (layers * directions, B, H)
        hidden = state[0] if isinstance(state, tuple) else state
        final = hidden[-self.num_directions :].transpose(0, 1).reshape(inputs.size(0), self.output_dim)  # (B, D)
        return outputs, final


@contextlib.contextmanager
def unpadded_encoder(head: Seq2SeqHead):
    """Swap the head's recurrent encoder for its unpacked run while the encoder graph is traced."""
    original = head.encoder
    head.encoder = UnpaddedRecurrent(original)
    try:
        yield
    finally:
        head.encoder = original


class EncoderNetwork(nn.Module):
    """Unpadded source ids (B, T) -> memory, keys, and the decoder's initial state (hidden[, cell])."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.input = model.encoder
        self.head = model.head

    def forward(self, words: torch.Tensor) -> tuple[torch.Tensor, ...]:
        lengths = torch.ones_like(words[:, 0]) * words.size(1)  # (B,): no padding
        batch = {"words": words, "lengths": lengths}
        state = self.head.encode(self.input(batch), batch)
        hidden = state.hidden if isinstance(state.hidden, tuple) else (state.hidden,)
        return (state.memory, state.keys, *hidden)


class DecoderStepNetwork(nn.Module):
    """(previous (B,), memory, keys, mask, hidden[, cell][, feed]) -> log-probs, hidden[, cell][, feed], attention."""

    def __init__(self, head: Seq2SeqHead):
        super().__init__()
        self.head = head
        self.lstm = head.cell == "lstm"

    def forward(self, previous, memory, keys, mask, *recurrent: torch.Tensor) -> tuple[torch.Tensor, ...]:
        hidden = (recurrent[0], recurrent[1]) if self.lstm else recurrent[0]
        feed = recurrent[-1] if self.head.input_feeding else None
        state = DecoderState(memory, keys, mask, hidden, feed, None, 0)
        log_probabilities, following, attention = self.head.decode_step(state, previous)
        hidden_out = following.hidden if isinstance(following.hidden, tuple) else (following.hidden,)
        feed_out = (following.feed,) if self.head.input_feeding else ()
        return (log_probabilities, *hidden_out, *feed_out, attention)


def state_names(head: Seq2SeqHead) -> list[str]:
    """The recurrent state's inputs of the decoder-step graph, in order."""
    return ["hidden", *(["cell"] if head.cell == "lstm" else []), *(["feed"] if head.input_feeding else [])]


def export_seq2seq_onnx(run_dir: Path, out: Path) -> Path:
    """Write encoder.onnx, decoder_step.onnx, config.yaml and the vocabularies of a seq2seq run dir into `out`."""
    from seqkit.files import atomic_write_with
    from seqkit.run_dirs.layout import CONFIG, VOCABULARY_FOLDER
    from seqkit.run_dirs.run_dir import load_run

    recipe, _, model = load_run(run_dir)
    head: Seq2SeqHead = model.head
    if head.copy is not None:
        raise ConfigError("head.copy: models with copy attention cannot be exported (their vocabulary grows per batch)")
    if not hasattr(head.encoder, "rnn"):
        raise ConfigError(f"rnn.cell: {recipe.rnn.cell!r} cannot be exported; the fused cells can (lstm, gru, ...)")
    if set(recipe.encoder.features) - {"embedding", "one_hot"}:
        raise ConfigError("encoder.features: only word features (embedding, one_hot) can be exported for seq2seq")
    (words,), _ = feature_examples(["words"], length=5)  # (2, 5)
    with torch.no_grad(), unpadded_encoder(head):
        encoder = EncoderNetwork(model).eval()
        memory, keys, *initial = encoder(words)
    feed = [memory.new_zeros(2, head.output_size)] if head.input_feeding else []
    names = state_names(head)
    mask = torch.ones(2, 5, dtype=torch.bool)
    batch_axes = {name: {1 if name in ("hidden", "cell") else 0: "batch"} for name in names}
    source_axes = {0: "batch", 1: "length"}

    out.mkdir(parents=True, exist_ok=True)
    encoder_outputs = ["memory", "keys", *names[: len(initial)]]
    with unpadded_encoder(head):
        atomic_write_with(out / ENCODER, lambda path: write_onnx(
            EncoderNetwork(model).eval(), (words,), path, ["words"], encoder_outputs,
            {"words": source_axes, "memory": source_axes, "keys": source_axes,
             **{name: batch_axes[name] for name in encoder_outputs[2:]}},
        ))
    step_outputs = ["log_probabilities", *(f"next_{name}" for name in names), "attention"]
    atomic_write_with(out / DECODER_STEP, lambda path: write_onnx(
        DecoderStepNetwork(head).eval(), (torch.tensor([2, 3]), memory, keys, mask, *initial, *feed), path,
        ["previous", "memory", "keys", "mask", *names], step_outputs,
        {"previous": {0: "batch"}, "memory": source_axes, "keys": source_axes, "mask": source_axes, **batch_axes,
         "log_probabilities": {0: "batch"}, "attention": source_axes,
         **{f"next_{name}": axes for name, axes in batch_axes.items()}},
    ))
    shutil.copyfile(run_dir / CONFIG, out / CONFIG)
    shutil.copytree(run_dir / VOCABULARY_FOLDER, out / VOCABULARY_FOLDER, dirs_exist_ok=True)
    return out


class OnnxSearchable:
    """The search interface of seqkit.decoding (encode, decode_step, begin_id, end_id) over the two graphs."""

    def __init__(self, encoder, decoder_step, symbols, input_feeding: bool, output_size: int):
        self.encoder, self.decoder_step = encoder, decoder_step
        self.begin_id, self.end_id = symbols.begin, symbols.end
        self.input_feeding, self.output_size = input_feeding, output_size
        self.state_names = [node.name for node in decoder_step.get_inputs()][4:]

    def encode(self, batch: dict[str, torch.Tensor]) -> DecoderState:
        """Encode each source length on its own (no padding inside the graph), then pad into one batch."""
        words, lengths = batch["words"].numpy(), batch["lengths"]
        count, width = words.shape
        memory = keys = None
        recurrent: list[np.ndarray] = []
        for length in sorted(set(lengths.tolist())):
            rows = (lengths == length).nonzero().squeeze(1).numpy()
            found = self.encoder.run(None, {"words": words[rows, :length]})
            if memory is None:
                memory = np.zeros((count, width, found[0].shape[2]), dtype=np.float32)
                keys = np.zeros((count, width, found[1].shape[2]), dtype=np.float32)
                recurrent = [np.zeros((part.shape[0], count, part.shape[2]), dtype=np.float32) for part in found[2:]]
            memory[rows, :length], keys[rows, :length] = found[0], found[1]
            for whole, part in zip(recurrent, found[2:], strict=True):
                whole[:, rows] = part
        mask = torch.arange(width).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
        hidden = tuple(map(torch.from_numpy, recurrent))
        feed = torch.zeros(count, self.output_size) if self.input_feeding else None
        return DecoderState(torch.from_numpy(memory), torch.from_numpy(keys), mask,
                            hidden if len(hidden) == 2 else hidden[0], feed, None, 0)

    def decode_step(self, state: DecoderState, previous: torch.Tensor):
        state = state.per_row()  # the exported step reads one source row per hypothesis
        hidden = state.hidden if isinstance(state.hidden, tuple) else (state.hidden,)
        recurrent = [*hidden, *([state.feed] if self.input_feeding else [])]
        feeds = {"previous": previous.numpy(), "memory": state.memory.numpy(), "keys": state.keys.numpy(),
                 "mask": state.mask.numpy(), **{name: r.numpy() for name, r in zip(self.state_names, recurrent,
                                                                                      strict=True)}}
        log_probabilities, *following, attention = map(torch.from_numpy, self.decoder_step.run(None, feeds))
        feed = following.pop() if self.input_feeding else None
        hidden_out = tuple(following) if len(following) == 2 else following[0]
        following_state = DecoderState(state.memory, state.keys, state.mask, hidden_out, feed, None, 0)
        return log_probabilities, following_state, attention


class OnnxGenerator:
    """Translates or titles texts with an exported folder; the same outputs as seqkit.Translator / Summarizer."""

    def __init__(self, folder: Path):
        from seqkit.export.onnx_session import inference_session
        from seqkit.run_dirs.run_dir import read_recipe, read_vocabularies
        from seqkit.tasks.generation import target_symbols

        folder = Path(folder)
        sessions = [inference_session(folder / name, "OnnxGenerator") for name in (ENCODER, DECODER_STEP)]
        self.recipe = read_recipe(folder)
        self.vocabularies = read_vocabularies(folder)
        head = self.recipe.head
        output_size = head.embedding_size if head.tie_embeddings else head.hidden_size
        self.searchable = OnnxSearchable(*sessions, target_symbols(self.vocabularies), head.input_feeding, output_size)

    def generate(self, texts: list[str], beam: int | None = None, n_best: int = 1, with_attention: bool = False,
                 batch_size: int = 64):
        """Per text, its n_best outputs (seqkit.tasks.generation.Generated), best first."""
        from seqkit.tasks.generation import generate

        return generate(None, self.recipe, self.vocabularies, list(texts), beam, n_best, with_attention, batch_size,
                        searchable=self.searchable)
