"""`seqkit answer`: read a story, answer questions with a memory network, print the hop table.

A story file holds one story, a sentence per line; a leading bAbI line id (`3 Mary went home.`) is allowed.
Lines in the bAbI question format (`ID question<TAB>answer<TAB>supporting ids`) are questions about the
sentences above them: without --question, each is answered with its gold answer and supporting facts marked.
In interactive mode, stdin lines are sentences added to the story, lines ending in `?` are questions, and an
empty line starts a new story.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import typer

from seqkit.errors import DataFormatError, InputError

_ID = re.compile(r"(\d+) (.*)")


@dataclass
class StoryQuestion:
    text: str
    sentences: int  # how many story sentences precede it
    answer: str | None = None
    supports: list[int] = field(default_factory=list)  # 0-based sentence positions


def read_story_file(path: Path) -> tuple[list[str], list[StoryQuestion]]:
    """The sentences of a story file and the bAbI-format questions it holds."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such story file") from None
    except UnicodeDecodeError:
        raise DataFormatError(path, None, "not UTF-8 text") from None
    sentences: list[str] = []
    questions: list[StoryQuestion] = []
    positions: dict[int, int] = {}  # bAbI line id -> sentence position
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _ID.fullmatch(line.strip())
        line_id, text = (int(match.group(1)), match.group(2)) if match else (None, line.strip())
        if line_id == 1 and (sentences or questions):
            raise DataFormatError(path, number, "a second story starts here (id 1); give one story per file")
        if "\t" not in text:
            if line_id is not None:
                positions[line_id] = len(sentences)
            sentences.append(text.strip())
            continue
        fields = text.split("\t")
        if len(fields) != 3:
            problem = f"a question line needs 3 tab-separated fields, found {len(fields)}"
            raise DataFormatError(path, number, problem)
        supports = []
        for support in fields[2].split():
            if not support.isdigit() or int(support) not in positions:
                raise DataFormatError(path, number, f"supporting fact {support!r} is not a sentence above")
            supports.append(positions[int(support)])
        answer = fields[1].strip().lower()
        questions.append(StoryQuestion(fields[0].strip(), len(sentences), answer, supports))
    return sentences, questions


def answer_command(
    run_dir: Path,
    story: Path | None,
    question: str | None,
    support: str | None,
    interactive: bool,
    as_json: bool,
    quantize: str | None = None,
) -> None:
    from seqkit.predict.reader import Reader

    reader = Reader.load(run_dir, quantize=quantize)
    sentences, questions = read_story_file(story) if story is not None else ([], [])
    if question is not None:
        supports = _support_positions(support, len(sentences))
        questions = [StoryQuestion(question, len(sentences), None, supports)]
    elif support is not None:
        raise InputError("--support marks the supporting sentences of --question; give --question too")
    if interactive:
        _interactive(reader, sentences, as_json)
        return
    if not questions:
        raise InputError("nothing to answer: give --question, a story with question lines, or --interactive")
    for item in questions:
        _show(reader, sentences[: item.sentences], item, as_json)


def _support_positions(text: str | None, count: int) -> list[int]:
    if text is None:
        return []
    positions = []
    for part in text.split(","):
        if not part.strip().isdigit() or not 1 <= int(part) <= count:
            raise InputError(f"--support: {part.strip()!r} is not a sentence number between 1 and {count}")
        positions.append(int(part) - 1)
    return positions


def _show(reader, sentences: list[str], item: StoryQuestion, as_json: bool) -> None:
    from seqkit.tasks.babi_tables import hop_table

    result = reader.answer(sentences, item.text)
    if as_json:
        typer.echo(json.dumps({**result.to_json(), "gold": item.answer, "supports": item.supports}))
        return
    table = hop_table(
        sentences, result.attention, item.text, result.answer, result.probability, item.supports, item.answer
    )
    typer.echo(table)
    typer.echo("")


def _interactive(reader, sentences: list[str], as_json: bool) -> None:
    typer.echo("Type sentences; a line ending in '?' is a question; an empty line starts anew.", err=True)
    for line in sys.stdin:
        text = line.strip()
        if not text:
            sentences = []
            typer.echo("(new story)", err=True)
        elif text.endswith("?"):
            try:
                _show(reader, sentences, StoryQuestion(text, len(sentences)), as_json)
            except InputError as error:
                typer.echo(f"error: {error}", err=True)
        else:
            sentences = [*sentences, text]
