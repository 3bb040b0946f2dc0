"""Vocab: the 1-of-N lexicon.

Each known word gets one index; index 0 is `<pad>` and index 1 is `<unk>`, the "other" slot of the lecture's
1-of-N encoding that every word outside the lexicon falls into. Label sets (tags, intents) use the same class
without the specials. Saved as JSON, never pickled.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from seqkit.errors import InputError, RunDirError

PAD = "<pad>"
UNK = "<unk>"


class Vocab:
    """An ordered token list with a reverse index; `<unk>` (when present) absorbs unknown tokens."""

    def __init__(self, tokens: Iterable[str], unknown: str | None = UNK):
        self.tokens: list[str] = list(tokens)
        self.index: dict[str, int] = {}
        for position, token in enumerate(self.tokens):
            if token in self.index:
                raise ValueError(f"token {token!r} appears twice in the vocabulary")
            self.index[token] = position
        if unknown is not None and unknown not in self.index:
            raise ValueError(f"the unknown token {unknown!r} is not in the vocabulary")
        self.unknown = unknown

    @classmethod
    def build(
        cls,
        sequences: Iterable[Iterable[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: tuple[str, ...] = (PAD, UNK),
    ) -> Vocab:
        """Count tokens; keep those seen at least `min_freq` times, most frequent first, ties alphabetical.

        `max_size` caps the whole vocabulary, specials included.
        """
        counts = Counter(token for sequence in sequences for token in sequence)
        ranked = sorted(
            (token for token, count in counts.items() if count >= min_freq and token not in specials),
            key=lambda token: (-counts[token], token),
        )
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(specials))]
        return cls([*specials, *ranked], unknown=UNK if UNK in specials else None)

    @classmethod
    def labels(cls, sequences: Iterable[Iterable[str]]) -> Vocab:
        """A label set: every label seen, sorted, no specials (an unseen label has no index)."""
        return cls(sorted({label for sequence in sequences for label in sequence}), unknown=None)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    @property
    def pad_id(self) -> int:
        return self.index[PAD]

    @property
    def unknown_id(self) -> int | None:
        return None if self.unknown is None else self.index[self.unknown]

    def id(self, token: str) -> int:
        """The index of `token`; unknown tokens map to `<unk>`, or raise KeyError in a label set."""
        found = self.index.get(token)
        if found is not None:
            return found
        if self.unknown is None:
            raise KeyError(token)
        return self.index[self.unknown]

    def ids(self, tokens: Iterable[str]) -> list[int]:
        return [self.id(token) for token in tokens]

    def label_ids(self, labels: Iterable[str], what: str) -> list[int]:
        """The indices of labels that must all be known; an unknown one is an InputError naming it.

        A resumed run reads its label set from the run dir, so training data edited since then can hold a label
        without an output unit (`what` names the kind: "tag", "intent").
        """
        indices = []
        for label in labels:
            if label not in self.index:
                raise InputError(f"{what} {label!r} is not one of the {len(self)} {what}s this run was trained with")
            indices.append(self.index[label])
        return indices

    def token(self, index: int) -> str:
        return self.tokens[index]

    def to_json(self) -> dict:
        return {"tokens": self.tokens, "unknown": self.unknown}

    @classmethod
    def from_json(cls, content: dict, source: str = "vocabulary") -> Vocab:
        """Rebuild from `to_json` output, checking the shape of the data (it may come from a stranger)."""
        tokens = content.get("tokens") if isinstance(content, dict) else None
        unknown = content.get("unknown") if isinstance(content, dict) else None
        if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
            raise RunDirError(f"{source}: 'tokens' must be a list of strings")
        if unknown is not None and not isinstance(unknown, str):
            raise RunDirError(f"{source}: 'unknown' must be a string or null")
        try:
            return cls(tokens, unknown=unknown)
        except ValueError as error:
            raise RunDirError(f"{source}: {error}") from None

    def save(self, path: Path) -> None:
        from seqkit.files import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_json(), ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> Vocab:
        try:
            content = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunDirError(f"{path}: vocabulary file is missing") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise RunDirError(f"{path}: not a valid JSON vocabulary ({error})") from None
        except RecursionError:  # json's decoder recurses once per nested list: a few thousand exhaust the stack
            raise RunDirError(f"{path}: not a vocabulary (its JSON is nested too deeply)") from None
        return cls.from_json(content, source=str(path))
