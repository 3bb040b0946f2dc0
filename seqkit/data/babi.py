"""Reader for the bAbI question-answering tasks, version 1.2 (Weston et al. 2015).

Each line is `ID text`. The id counts up from 1 within a story; a line whose id is 1 starts a new story. A
line holding tabs is a question: `ID question<TAB>answer<TAB>supporting ids`. Every question becomes one
example: the story's statements before it (earlier questions are not memories), the question, the answer,
and the positions of its supporting statements in that story. Answers of tasks 8 and 19 are comma-separated
lists (`apple,football`, `n,w`); they stay one answer token, as in the memory network paper.

Anything that does not fit the format is a DataFormatError naming the file and the line: bytes that are not
UTF-8, a statement or question of more than `max_tokens` words (its memory would pad every story of a batch to
its length), and a file without a single question (naming the file). A byte-order mark at the start is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from seqkit.data.readers import check_length, read_lines
from seqkit.errors import DataFormatError

TASK_COUNT = 20
# The official file names, qa{N}_{name}_{split}.txt, in task order.
TASK_NAMES = (
    "single-supporting-fact", "two-supporting-facts", "three-supporting-facts", "two-arg-relations",
    "three-arg-relations", "yes-no-questions", "counting", "lists-sets", "simple-negation",
    "indefinite-knowledge", "basic-coreference", "conjunction", "compound-coreference", "time-reasoning",
    "basic-deduction", "basic-induction", "positional-reasoning", "size-reasoning", "path-finding",
    "agents-motivations",
)  # fmt: skip
SIZE_FOLDERS = {"1k": "en", "10k": "en-10k"}

_LINE = re.compile(r"(\d+) (.*)")
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class BabiQuestion:
    """One question with its story. `supports` index `story` (0-based); `task` is 1..20."""

    task: int
    story: tuple[tuple[str, ...], ...]
    question: tuple[str, ...]
    answer: str
    supports: tuple[int, ...]


def tokenize(text: str) -> tuple[str, ...]:
    """Lowercased words without punctuation: `Where is Mary?` -> (where, is, mary)."""
    return tuple(_WORD.findall(text.lower()))


def task_file(folder: Path, task: int, split: str) -> Path:
    """The path of task `task`'s `split` ("train" or "test") file inside a size folder (en or en-10k)."""
    return Path(folder) / f"qa{task}_{TASK_NAMES[task - 1]}_{split}.txt"


def read_babi_file(path: Path, task: int, max_tokens: int | None = None) -> list[list[BabiQuestion]]:
    """All questions of a file, grouped by story (a story is the list of its questions, in order); a sentence of
    more than `max_tokens` words is an error (None: no limit)."""
    path = Path(path)
    lines = read_lines(path)
    stories: list[list[BabiQuestion]] = []
    statements: list[tuple[str, ...]] = []
    # line id -> position in `statements`, for the supporting-fact ids of the current story
    positions: dict[int, int] = {}
    previous_id = 0
    for number, line in enumerate(lines, start=1):
        match = _LINE.fullmatch(line)
        if match is None:
            raise DataFormatError(path, number, f"expected 'ID text', got {line[:60]!r}")
        line_id, text = int(match.group(1)), match.group(2)
        if line_id == 1:
            stories.append([])
            statements, positions = [], {}
        elif line_id != previous_id + 1:
            raise DataFormatError(path, number, f"line id {line_id} should be 1 or {previous_id + 1}")
        previous_id = line_id
        if "\t" not in text:
            words = tokenize(text)
            if not words:
                raise DataFormatError(path, number, "statement without words")
            check_length(path, number, len(words), max_tokens)
            positions[line_id] = len(statements)
            statements.append(words)
            continue
        question = _question(path, number, text, task, statements, positions)
        check_length(path, number, len(question.question), max_tokens)
        stories[-1].append(question)
    if not any(stories):
        raise DataFormatError(path, None, "holds no questions")
    return stories


def _question(
    path: Path, number: int, text: str, task: int, statements: list, positions: dict[int, int]
) -> BabiQuestion:
    fields = text.split("\t")
    if len(fields) != 3:
        problem = f"a question line needs 3 tab-separated fields, found {len(fields)}"
        raise DataFormatError(path, number, problem)
    question, answer, supports = fields[0].strip(), fields[1].strip(), fields[2].split()
    if not tokenize(question):
        raise DataFormatError(path, number, "question without words")
    if not answer or any(character.isspace() for character in answer):
        raise DataFormatError(path, number, f"answer must be one non-empty token, got {answer!r}")
    support_positions = []
    for support in supports:
        if not support.isdigit() or int(support) not in positions:
            problem = f"supporting fact {support!r} is not a statement of this story"
            raise DataFormatError(path, number, problem)
        support_positions.append(positions[int(support)])
    return BabiQuestion(task, tuple(statements), tokenize(question), answer.lower(), tuple(support_positions))
