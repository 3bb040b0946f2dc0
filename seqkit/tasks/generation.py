"""What the text-generation tasks (translation, title generation) share: subword or word segmentation,
vocabularies, featurized teacher-forcing batches, the seq2seq head, and generation from raw texts.

Both tasks compose these pieces; each keeps only its own data layout and metric. Text becomes tokens once, in
the data pipeline: with `data.subwords.vocab_size` set, sentencepiece models are trained on the training pairs
(one joint model, or one per side) and stored in the run dir; with it null, text splits on whitespace (for
pre-tokenized corpora like Gigaword, where copy attention can then point at whole source words).

A large training corpus arrives as a ParallelCorpus (seqkit/data/parallel.py): vocabularies are then counted in
streaming passes over the files, and the featurized pairs go once into a cached, memory-mapped Arrow table
(seqkit/data/arrow_cache.py) from which each batch is read when the trainer asks for it.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from seqkit.bounds import MAX_LAYERS, MAX_WIDTH, Registry, setting
from seqkit.config import Recipe
from seqkit.data.batching import bucketed_order, collate, epoch_order, epoch_seed
from seqkit.data.parallel import ParallelCorpus, TextPair, open_parallel, read_parallel
from seqkit.decoding import Hypothesis, beam_search, greedy_search
from seqkit.errors import ConfigError
from seqkit.heads.seq2seq import Searchable, Seq2SeqHead, TargetSymbols
from seqkit.layers.attention import ATTENTION_KINDS
from seqkit.text.subwords import SubwordModel
from seqkit.text.vocab import PAD, UNK, Vocab

BEGIN = "<s>"
END = "</s>"


@dataclass(frozen=True)
class PairLimits:
    """The data options both generation tasks read; each task's data section adds its file layout."""

    # Keep only the first N pairs of a split (quick experiments); null keeps all.
    max_train_pairs: int | None = setting(None, minimum=1)
    # The same cap for the dev split, which is decoded after every epoch.
    max_valid_pairs: int | None = setting(None, minimum=1)
    # Training pairs longer than this many tokens (after segmentation) on either side are left out.
    max_length: int = setting(100, minimum=1, maximum=100_000)
    # Stream the training files through a cached Arrow table (true), read them into memory (false), or decide
    # by size (null: stream above 64 MB); see seqkit/data/arrow_cache.py.
    stream: bool | None = None


def load_pair_splits(data: PairLimits, paths: dict[str, tuple[Path, Path]]) -> dict:
    """Each split's pairs from its (source, target) files; the training split may stream (`data.stream`)."""
    limits = {"train": data.max_train_pairs, "valid": data.max_valid_pairs, "test": None}
    return {
        split: open_parallel(*files, limits[split], data.stream) if split == "train"
        else read_parallel(*files, limits[split])
        for split, files in paths.items()
    }


@dataclass(frozen=True)
class SubwordConfig:
    # Pieces per sentencepiece model; null splits on whitespace instead.
    vocab_size: int | None = setting(8000, minimum=2, maximum=1_000_000)
    # One model trained on both sides (shared pieces), or one per side.
    joint: bool = True
    # sentencepiece's model types.
    model_type: str = setting("unigram", choices=("unigram", "bpe", "char", "word"), kind="model type")


@dataclass(frozen=True)
class Seq2SeqConfig:
    """The decoder, its training options, and how outputs are searched."""

    # The width of the target word (or subword) vectors the decoder reads.
    embedding_size: int = setting(256, minimum=1, maximum=MAX_WIDTH)
    # The decoder's units per layer.
    hidden_size: int = setting(512, minimum=1, maximum=MAX_WIDTH)
    # The decoder's stacked layers.
    num_layers: int = setting(1, minimum=1, maximum=MAX_LAYERS)
    # additive (Bahdanau), dot or general (Luong).
    attention: str = setting("general", choices=ATTENTION_KINDS, kind="attention")
    # Luong's input feeding: the previous step's attentional vector joins the next input (a step-by-step loop in
    # training, slower than the fused decoder that runs without it).
    input_feeding: bool = False
    # A learned layer maps the encoder's final states to the decoder's initial state; false starts it at zero.
    bridge: bool = True
    # Dropout on the encoder states, the target embeddings and the attentional vectors, in training only.
    dropout: float = setting(0.3, minimum=0, below=1)
    # The output layer scores the target vocabulary with the target embedding matrix itself (Press and Wolf 2017).
    tie_embeddings: bool = True
    # The share of probability mass the training targets spread over the whole vocabulary (Szegedy et al. 2016).
    label_smoothing: float = setting(0.1, minimum=0, below=1)
    # Copy attention: a learned switch can also copy a source token into the output (seqkit/layers/copy.py).
    copy: bool = False
    # The decoder's recurrent cell (a fused one: lstm, gru, elman, irnn); null takes rnn.cell when it is fused,
    # else gru.
    decoder_cell: str | None = setting(None, choices=Registry("seqkit.layers.cells", "FUSED_CELLS"), kind="cell")
    # Search used by evaluation and by default in translate/summarize; 1 is greedy.
    beam: int = setting(5, minimum=1, maximum=1000)
    # Hypotheses are ranked by log-probability / length ** length_penalty; 0 ranks by log-probability alone.
    length_penalty: float = setting(1.0, minimum=0, maximum=10)
    # An output may have at most ceil(max_length_ratio x source length) tokens before its end symbol.
    max_length_ratio: float = setting(2.0, above=0, maximum=100)
    # n > 0: no output repeats an n-gram of its own (see seqkit/decoding.py); 0 lets it.
    no_repeat_ngram: int = setting(0, minimum=0, maximum=1000)


@dataclass
class Generated:
    """One output text with its tokens, score and (on request) attention (U + 1, T) over the source tokens."""

    text: str
    tokens: list[str]
    source_tokens: list[str]
    score: float
    attention: torch.Tensor | None = None


# ---- text to tokens and back ----------------------------------------------------------------------------
def segmenters(vocabularies: dict) -> tuple[SubwordModel | None, SubwordModel | None]:
    joint = vocabularies.get("subwords")
    return vocabularies.get("source_subwords", joint), vocabularies.get("target_subwords", joint)


def tokenize(text: str, model: SubwordModel | None) -> list[str]:
    return model.pieces(text) if model is not None else text.split()


def detokenize(tokens: list[str], model: SubwordModel | None) -> str:
    return model.detokenize(tokens) if model is not None else " ".join(tokens)


def build_vocabularies(recipe: Recipe, train: list[TextPair]) -> dict:
    """Subword models (when configured), the source lexicon `words` and the target lexicon `targets`."""
    subwords: SubwordConfig = recipe.data.subwords
    vocabularies: dict = {}
    if subwords.vocab_size is not None:
        if isinstance(train, ParallelCorpus):  # streamed: each use reads the files again
            sources, targets = train.sources(), train.targets()
        else:
            sources, targets = [p.source for p in train], [p.target for p in train]
        if subwords.joint:
            vocabularies["subwords"] = SubwordModel.train(
                itertools.chain(sources, targets), subwords.vocab_size, subwords.model_type
            )
        else:
            vocabularies["source_subwords"] = SubwordModel.train(
                sources, subwords.vocab_size, subwords.model_type
            )
            vocabularies["target_subwords"] = SubwordModel.train(
                targets, subwords.vocab_size, subwords.model_type
            )
    source_model, target_model = segmenters(vocabularies)
    encoder = recipe.encoder
    vocabularies["words"] = Vocab.build(
        (tokenize(p.source, source_model) for p in train), encoder.min_freq, encoder.max_vocab_size
    )
    vocabularies["targets"] = Vocab.build(
        (tokenize(p.target, target_model) for p in train),
        encoder.min_freq,
        encoder.max_vocab_size,
        specials=(PAD, UNK, BEGIN, END),
    )
    return vocabularies


def target_symbols(vocabularies: dict) -> TargetSymbols:
    targets: Vocab = vocabularies["targets"]
    return TargetSymbols(len(targets), targets.pad_id, targets.unknown_id, targets.id(BEGIN), targets.id(END))


# The encoders a seq2seq model accepts: its batches carry the source's subword (or word) ids only, which these
# read. naive_bayes reads them too, but it counts per class, which generation has none of.
ENCODER_FEATURES = ("embedding", "one_hot")


def featurize(
    vocabularies: dict, source_tokens: list[str], target_tokens: list[str] | None, copy: bool
) -> tuple[dict, list[str]]:
    """One example's ids, and (with copy) its source words missing from the target lexicon, in id order."""
    targets: Vocab = vocabularies["targets"]
    features: dict = {"words": vocabularies["words"].ids(source_tokens)}
    out_of_vocabulary: list[str] = []
    if copy:
        copy_ids = []
        for token in source_tokens:
            if token in targets and token != UNK:
                copy_ids.append(targets.id(token))
                continue
            if token not in out_of_vocabulary:
                out_of_vocabulary.append(token)
            copy_ids.append(len(targets) + out_of_vocabulary.index(token))
        features["source_copy"] = copy_ids
        features["oov_count"] = len(out_of_vocabulary)
    if target_tokens is not None:
        ids = []
        for token in target_tokens:
            if copy and token not in targets and token in out_of_vocabulary:
                ids.append(len(targets) + out_of_vocabulary.index(token))
            else:
                ids.append(targets.id(token))
        features["targets_in"] = [targets.id(BEGIN), *ids]
        features["targets_out"] = [*ids, targets.id(END)]
    return features, out_of_vocabulary


def training_batches(recipe: Recipe, vocabularies: dict, train: list[TextPair]):
    """A function epoch -> batches; pairs longer than `data.max_length` tokens on either side are left out."""
    if isinstance(train, ParallelCorpus):
        return streamed_training_batches(recipe, vocabularies, train)
    max_length = recipe.data.max_length
    source_model, target_model = segmenters(vocabularies)
    featurized, lengths = [], []
    for pair in train:
        source_tokens, target_tokens = (
            tokenize(pair.source, source_model),
            tokenize(pair.target, target_model),
        )
        if len(source_tokens) > max_length or len(target_tokens) > max_length:
            continue
        featurized.append(featurize(vocabularies, source_tokens, target_tokens, recipe.head.copy)[0])
        lengths.append(len(source_tokens))
    if not featurized:
        raise ConfigError(f"data.max_length: no training pair is {max_length} tokens or shorter")

    def batches_for_epoch(epoch: int) -> list[dict[str, torch.Tensor]]:
        order = epoch_order(lengths, recipe.train, recipe.seed, epoch)
        return [collate([featurized[i] for i in indices], {"targets_out": -100}) for indices in order]

    return batches_for_epoch


class PairFeaturizer:
    """Dataset.map's function: a batch of text pairs -> their id columns, too-long pairs left out."""

    def __init__(self, vocabularies: dict, max_length: int, copy: bool):
        self.vocabularies, self.max_length, self.copy = vocabularies, max_length, copy

    def __call__(self, batch: dict[str, list[str]]) -> dict[str, list]:
        source_model, target_model = segmenters(self.vocabularies)
        columns: dict[str, list] = {}
        for source, target in zip(batch["source"], batch["target"], strict=True):
            source_tokens, target_tokens = tokenize(source, source_model), tokenize(target, target_model)
            if len(source_tokens) > self.max_length or len(target_tokens) > self.max_length:
                continue
            for name, value in featurize(self.vocabularies, source_tokens, target_tokens, self.copy)[0].items():
                columns.setdefault(name, []).append(value)
        return columns


def vocabulary_digest(vocabularies: dict) -> str:
    """A hash of every vocabulary's content (lexicons and subword models): the ids depend on all of them."""
    contents = {
        name: hashlib.sha256(vocabulary.model_bytes).hexdigest()
        if isinstance(vocabulary, SubwordModel)
        else vocabulary.to_json()
        for name, vocabulary in vocabularies.items()
    }
    return hashlib.sha256(json.dumps(contents, sort_keys=True).encode("utf-8")).hexdigest()


def _pair_rows(corpus: ParallelCorpus):
    return ({"source": pair.source, "target": pair.target} for pair in corpus)


def streamed_training_batches(recipe: Recipe, vocabularies: dict, corpus: ParallelCorpus):
    """training_batches over a cached Arrow table: the same batches as the in-memory path, read lazily."""
    # Imported here: `datasets` (with pyarrow and pandas) takes a second to import, which every other seqkit
    # command, a sentiment training or one `seqkit classify`, would otherwise pay for nothing.
    import datasets

    from seqkit.data.arrow_cache import cached_table, file_identity
    from seqkit.data.streaming import BucketedBatches, row_lengths
    from seqkit.data.table_rows import TableRows

    max_length, copy = recipe.data.max_length, recipe.head.copy
    identity = {
        "kind": "seq2seq-pairs",
        "source": file_identity(corpus.source_path),
        "target": file_identity(corpus.target_path),
        "limit": corpus.limit,
        "max_length": max_length,
        "copy": copy,
        "vocabularies": vocabulary_digest(vocabularies),
    }
    ids = datasets.List(datasets.Value("int32"))
    columns = {"words": ids, **({"source_copy": ids, "oov_count": datasets.Value("int32")} if copy else {})}
    features = datasets.Features({**columns, "targets_in": ids, "targets_out": ids})
    rows = functools.partial(_pair_rows, corpus)
    table = cached_table(identity, rows, PairFeaturizer(vocabularies, max_length, copy), features)
    if len(table) == 0:
        raise ConfigError(f"data.max_length: no training pair is {max_length} tokens or shorter")
    lengths = row_lengths(table, "words")  # (N,)
    rows = TableRows(table)  # once: it finds the table's files and opens them

    def batches_for_epoch(epoch: int) -> BucketedBatches:
        generator = torch.Generator().manual_seed(epoch_seed(recipe.seed, epoch))
        return BucketedBatches(
            rows, lengths, recipe.train.batch_size, generator, {"targets_out": -100},
            max_tokens=recipe.train.max_tokens,
        )

    return batches_for_epoch


def build_head(recipe: Recipe, vocabularies: dict, input_size: int) -> Seq2SeqHead:
    from seqkit.layers.rnn import build_recurrent_layer

    head: Seq2SeqConfig = recipe.head
    try:
        return Seq2SeqHead(
            build_recurrent_layer(recipe.rnn, input_size),
            target_symbols(vocabularies),
            embedding_size=head.embedding_size,
            hidden_size=head.hidden_size,
            num_layers=head.num_layers,
            attention=head.attention,
            input_feeding=head.input_feeding,
            bridge=head.bridge,
            dropout=head.dropout,
            tie_embeddings=head.tie_embeddings,
            label_smoothing=head.label_smoothing,
            copy=head.copy,
            decoder_cell=head.decoder_cell,
        )
    except ValueError as error:
        raise ConfigError(f"head: {error}") from None


# ---- generation -----------------------------------------------------------------------------------------
@torch.inference_mode()
def generate(
    model,
    recipe: Recipe,
    vocabularies: dict,
    texts: list[str],
    beam: int | None = None,
    n_best: int = 1,
    with_attention: bool = False,
    batch_size: int = 64,
    searchable=None,
) -> list[list[Generated]]:
    """Per text, its n_best outputs (best first). Texts are batched by length; the order is kept.

    `searchable` replaces the model in the search (an exported one: seqkit/export/seq2seq.py); `model` may then be None.
    `model` may also be an ensemble of seq2seq models (seqkit/predict/ensemble.py).
    """
    head: Seq2SeqConfig = recipe.head
    beam = head.beam if beam is None else beam
    if beam < 1 or n_best < 1 or n_best > beam:
        raise ConfigError(
            f"beam must be >= 1 and n_best between 1 and the beam, got beam {beam}, n_best {n_best}"
        )
    if searchable is None:
        model.eval()
        # An ensemble (seqkit/predict/ensemble.py) brings its own search over its members.
        own_search = getattr(model, "searchable", None)
        searchable = own_search() if own_search is not None else Searchable(model)
    source_model, target_model = segmenters(vocabularies)
    targets: Vocab = vocabularies["targets"]
    source_tokens = [tokenize(text, source_model) for text in texts]
    prepared = [featurize(vocabularies, tokens, None, head.copy) for tokens in source_tokens]
    results: list[list[Generated] | None] = [None] * len(texts)
    for indices in bucketed_order([len(tokens) for tokens in source_tokens], batch_size):
        batch = collate([prepared[i][0] for i in indices])
        if beam == 1:
            found = [
                [h]
                for h in greedy_search(
                    searchable, batch, head.max_length_ratio, with_attention, head.no_repeat_ngram
                )
            ]
        else:
            found = beam_search(
                searchable,
                batch,
                beam,
                head.max_length_ratio,
                head.length_penalty,
                n_best,
                with_attention,
                head.no_repeat_ngram,
            )
        for row, index in enumerate(indices):
            out_of_vocabulary = prepared[index][1]
            results[index] = [
                _as_generated(hypothesis, source_tokens[index], out_of_vocabulary, targets, target_model)
                for hypothesis in found[row]
            ]
    return results


def _as_generated(
    hypothesis: Hypothesis, source_tokens: list[str], out_of_vocabulary: list[str], targets: Vocab, model
) -> Generated:
    tokens = [
        targets.token(i) if i < len(targets) else out_of_vocabulary[i - len(targets)]
        for i in hypothesis.tokens
    ]
    return Generated(detokenize(tokens, model), tokens, source_tokens, hypothesis.score, hypothesis.attention)
