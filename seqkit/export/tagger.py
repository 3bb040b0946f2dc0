"""Export a trained tagger to ONNX, and tag with the exported file through onnxruntime.

Sentiment classifiers export through seqkit/export/classifier.py, seq2seq models through seq2seq.py;
seqkit.export.export_onnx picks by the run dir's task.

`seqkit export RUN_DIR --format onnx` writes RUN_DIR/export/ (or --out): `tagger.onnx`, the emission network
(input encoders, the recurrent layer, slot and intent projections; in, the batch features the encoders read,
words (B, T) first, then e.g. characters (B, T, K), shapes (B, T) and trigrams (B, T, K); out, slot_logits
(B, T, C) and intent_logits (B, C_intents)), `tagger.json` (tag and intent names, the CRF's transition scores and
BIO constraints, tokenizer and featurizing settings) and the vocabularies. Viterbi decoding stays outside
the graph, in numpy (OnnxTagger), where a loop over positions is simple and cheap.

The recurrent layer normally runs on packed sequences, which ONNX cannot express. The exported graph runs the
plain fused kernel instead, which equals the packed one exactly when a batch holds no padding; OnnxTagger
therefore batches sentences of equal length together. Only the fused cells (lstm, gru, elman, irnn) export.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqkit.errors import ConfigError
from seqkit.export.onnx_session import inference_session
from seqkit.export.onnx_trace import feature_examples, write_onnx
from seqkit.files import atomic_write_json, atomic_write_with
from seqkit.predict.tagger import TaggedText, tagged_text, tagger_inputs
from seqkit.run_dirs.checkpoint import read_json
from seqkit.text.vocab import Vocab

GRAPH = "tagger.onnx"
SETTINGS = "tagger.json"
_FORBIDDEN = -1e4  # the score the CRF gives a forbidden transition when decoding


class EmissionNetwork(nn.Module):
    """The tagger's network for unpadded batches: its features (words (B, T) first) -> slot and intent logits."""

    def __init__(self, model: nn.Module, features: list[str]):
        super().__init__()
        self.features = features
        self.encoder = model.encoder
        self.head = model.head
        context = model.head.context
        if not hasattr(context, "rnn"):
            raise ConfigError(f"rnn.cell: {context.cell!r} cannot be exported; the fused cells can (lstm, gru, ...)")
        self.rnn = context.rnn
        # The intent's own recurrent layer (head.intent_encoder), built from the same rnn settings.
        self.intent_rnn = model.head.intent_context.rnn if model.head.intent_context is not None else None
        self.num_directions = context.num_directions
        self.output_dim = context.output_dim

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        words = inputs[0]  # (B, T)
        encoded = self.encoder(dict(zip(self.features, inputs, strict=True)))  # (B, T, D_in)
        outputs, state = self.rnn(encoded)  # (B, T, D), (layers * directions, B, H)
        intent_outputs, intent_state = outputs, state
        if self.intent_rnn is not None:
            intent_outputs, intent_state = self.intent_rnn(encoded)  # (B, T, D), (directions, B, H)
        mask = torch.ones_like(words, dtype=torch.bool)  # (B, T): no padding, so every position counts
        slot_logits, intent_logits, _ = self.head.scores(outputs, intent_outputs, self.final(intent_state), mask)
        if intent_logits is None:
            return slot_logits, slot_logits.new_zeros(words.size(0), 0)
        return slot_logits, intent_logits  # (B, T, C_tags), (B, C_intents)

    def final(self, state: torch.Tensor | tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """The last layer's final hidden state of each direction, side by side: (B, D)."""
        hidden = state[0] if isinstance(state, tuple) else state  # (layers * directions, B, H)
        return hidden[-self.num_directions :].transpose(0, 1).reshape(hidden.size(1), self.output_dim)


def export_tagger_onnx(run_dir: Path, out: Path) -> Path:
    """Write a slot-filling run dir's emission network, decoding settings and vocabularies to `out`."""
    from seqkit.encoders import needed_features
    from seqkit.run_dirs.layout import VOCABULARY_FOLDER
    from seqkit.run_dirs.run_dir import load_run

    recipe, vocabularies, model = load_run(run_dir)
    features = ["words", *sorted(needed_features(recipe.encoder) - {"words"})]  # the graph's inputs, in order
    network = EmissionNetwork(model, features).eval()
    examples, axes = feature_examples(features, length=6)
    output_axes = {"slot_logits": {0: "batch", 1: "length"}, "intent_logits": {0: "batch"}}
    atomic_write_with(
        out / GRAPH,
        lambda path: write_onnx(
            network, examples, path, features, ["slot_logits", "intent_logits"], {**axes, **output_axes}
        ),
    )
    crf = model.head.crf
    settings = {
        "lowercase": recipe.data.lowercase,
        "hash_buckets": recipe.encoder.hash_buckets,
        "lowercase_words": recipe.encoder.lowercase_words,
        "character_buckets": recipe.encoder.character_buckets,
        "character_limit": recipe.encoder.character_limit,
        "crf": None
        if crf is None
        else {
            "start": crf.start.tolist(),
            "end": crf.end.tolist(),
            "transitions": crf.transitions.tolist(),
            "allowed_start": crf.allowed_start.tolist(),
            "allowed_transitions": crf.allowed_transitions.tolist(),
        },
    }
    atomic_write_json(out / SETTINGS, settings)
    for name in vocabularies:
        shutil.copyfile(run_dir / VOCABULARY_FOLDER / f"{name}.json", out / f"{name}.json")
    return out


def viterbi(emissions: np.ndarray, start: np.ndarray, end: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """Best tag paths of unpadded (B, T, C) emissions -> (B, T) tag ids (the CRF's decoding, in numpy)."""
    score = start + emissions[:, 0]  # (B, C)
    backpointers = []
    for position in range(1, emissions.shape[1]):
        candidate = score[:, :, None] + transitions  # (B, C_from, C_to)
        backpointers.append(candidate.argmax(axis=1))  # (B, C_to)
        score = candidate.max(axis=1) + emissions[:, position]
    current = (score + end).argmax(axis=1)  # (B,)
    path = [current]
    for pointers in reversed(backpointers):
        current = pointers[np.arange(len(current)), current]
        path.append(current)
    return np.stack(path[::-1], axis=1)  # (B, T)


class OnnxTagger:
    """Tags text with an exported folder through onnxruntime; the same answers as seqkit.Tagger."""

    def __init__(self, folder: Path):
        folder = Path(folder)
        self.session = inference_session(folder / GRAPH, "OnnxTagger")
        self.settings = read_json(folder / SETTINGS, "export settings")
        self.inputs = [node.name for node in self.session.get_inputs()]  # words, then the other features
        self.words = Vocab.load(folder / "words.json")
        self.tags = Vocab.load(folder / "tags.json")
        self.intents = Vocab.load(folder / "intents.json") if (folder / "intents.json").is_file() else None
        crf = self.settings["crf"]
        if crf is not None:
            forbidden_start = ~np.array(crf["allowed_start"]) * _FORBIDDEN
            forbidden = ~np.array(crf["allowed_transitions"]) * _FORBIDDEN
            self.start = np.array(crf["start"], dtype=np.float32) + forbidden_start.astype(np.float32)
            self.end = np.array(crf["end"], dtype=np.float32)
            self.transitions = np.array(crf["transitions"], dtype=np.float32) + forbidden.astype(np.float32)

    def predict(self, token_lists: list[list[str]]) -> list[dict]:
        """Per sentence: tags, and the intent with its probability when the model has one."""
        from seqkit.data.batching import collate
        from seqkit.encoders import featurize_tokens

        results: list[dict | None] = [None] * len(token_lists)
        by_length: dict[int, list[int]] = {}
        for index, tokens in enumerate(token_lists):
            by_length.setdefault(len(tokens), []).append(index)
        for indices in by_length.values():
            features = [
                featurize_tokens(
                    token_lists[i],
                    self.words,
                    set(self.inputs),
                    self.settings["hash_buckets"],
                    lowercase=self.settings.get("lowercase_words", False),
                    # Exports written before the character encoder have no characters input and no such keys.
                    character_buckets=self.settings.get("character_buckets"),
                    character_limit=self.settings.get("character_limit"),
                )
                for i in indices
            ]
            # Every sentence of the group has the same length, so only trigram and character lists need padding.
            batch = collate(features)
            feeds = {name: batch[name].numpy() for name in self.inputs}  # (B, T) or (B, T, K)
            slot_logits, intent_logits = self.session.run(None, feeds)
            if self.settings["crf"] is not None:
                paths = viterbi(slot_logits, self.start, self.end, self.transitions)
            else:
                paths = slot_logits.argmax(axis=-1)
            for row, index in enumerate(indices):
                prediction = {"tags": [self.tags.token(int(tag)) for tag in paths[row]]}
                if self.intents is not None:
                    shifted = np.exp(intent_logits[row] - intent_logits[row].max())
                    probabilities = shifted / shifted.sum()
                    best = int(probabilities.argmax())
                    prediction["intent"] = self.intents.token(best)
                    prediction["intent_probability"] = float(probabilities[best])
                results[index] = prediction
        return results

    def tag(self, texts: str | list[str], is_split_into_words: bool = False) -> TaggedText | list[TaggedText]:
        """Tag one text or a list of texts exactly as Tagger.tag does (tokens as written, character offsets)."""
        inputs, single = tagger_inputs(texts, is_split_into_words)
        token_lists = [item.model_tokens(self.settings["lowercase"]) for item in inputs]
        predictions = self.predict(token_lists)
        results = [tagged_text(item, prediction) for item, prediction in zip(inputs, predictions, strict=True)]
        return results[0] if single else results
