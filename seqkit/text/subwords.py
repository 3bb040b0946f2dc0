"""Subword segmentation with sentencepiece (Kudo and Richardson 2018).

A unigram language model over pieces is trained on the recipe's training text, so that rare words split into
frequent pieces and the model sees no unknown words. The trained model is kept as its serialized bytes and
stored in the run dir (`vocab/<name>.model`): loading parses a protobuf, it never executes code. Pieces carry
sentencepiece's word-boundary mark (U+2581), so joining them back gives the original, detokenized text.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable
from pathlib import Path

import sentencepiece

from seqkit.errors import RunDirError

# Sentences a model is trained on at most (sampled beyond that), so memory stays bounded on big corpora.
MAX_TRAINING_SENTENCES = 2_000_000
TRAINING_SEED = 13


class SubwordModel:
    """A trained sentencepiece model: `pieces(text)` segments, `detokenize(pieces)` joins back."""

    file_suffix = ".model"

    def __init__(self, model_bytes: bytes, source: str = "subword model"):
        self.model_bytes = bytes(model_bytes)
        self.processor = sentencepiece.SentencePieceProcessor()
        try:
            self.processor.LoadFromSerializedProto(self.model_bytes)
        except (RuntimeError, OSError) as error:
            raise RunDirError(f"{source}: not a valid sentencepiece model ({error})") from None

    @classmethod
    def train(
        cls, sentences: Iterable[str], vocab_size: int, model_type: str = "unigram", seed_text: str = ""
    ) -> SubwordModel:
        """Train on `sentences`; `vocab_size` is a ceiling that small corpora may not reach."""
        buffer = io.BytesIO()
        # A large corpus streams in; sentencepiece keeps a fixed-seed random sample of it, not all of it.
        sentencepiece.set_random_generator_seed(TRAINING_SEED)
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=itertools.chain(sentences, [seed_text] if seed_text else []),
            input_sentence_size=MAX_TRAINING_SENTENCES,
            shuffle_input_sentence=True,
            model_writer=buffer,
            vocab_size=vocab_size,
            model_type=model_type,
            character_coverage=1.0,
            # A small corpus cannot fill a large piece inventory; take what it supports instead of failing.
            hard_vocab_limit=False,
            # seqkit's Vocab owns the special symbols; sentencepiece keeps only its unknown piece.
            bos_id=-1,
            eos_id=-1,
            pad_id=-1,
            num_threads=1,
            minloglevel=2,
        )
        return cls(buffer.getvalue())

    def pieces(self, text: str) -> list[str]:
        return self.processor.EncodeAsPieces(text)

    def detokenize(self, pieces: list[str]) -> str:
        return self.processor.DecodePieces(list(pieces))

    def save(self, path: Path) -> None:
        from seqkit.files import atomic_write_bytes

        atomic_write_bytes(path, self.model_bytes)

    @classmethod
    def load(cls, path: Path) -> SubwordModel:
        path = Path(path)
        if not path.is_file():
            raise RunDirError(f"{path}: subword model is missing")
        return cls(path.read_bytes(), source=str(path))
