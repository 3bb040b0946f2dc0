"""The bAbI v1.2 reader: stories, questions, supporting facts, list answers, and malformed lines."""

import os
from pathlib import Path

import pytest

from seqkit.data.babi import read_babi_file, task_file, tokenize
from seqkit.errors import DataFormatError

SHARED = Path(os.environ.get("SEQKIT_DATA_DIR", "/nonexistent")) / "babi"

TWO_STORIES = (
    "1 Mary moved to the bathroom.\n"
    "2 John went to the hallway.\n"
    "3 Where is Mary? \tbathroom\t1\n"
    "4 Mary got the football there.\n"
    "5 What is Mary carrying?\tfootball\t4\n"
    "1 Sandra took the apple.\n"
    "2 Sandra picked up the milk.\n"
    "3 What is Sandra carrying?\tapple,milk\t1 2\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "qa8_lists-sets_train.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_stories_restart_and_questions_see_only_earlier_statements(tmp_path):
    stories = read_babi_file(write(tmp_path, TWO_STORIES), task=8)
    assert [len(story) for story in stories] == [2, 1]
    first, second = stories[0]
    assert first.story == (
        ("mary", "moved", "to", "the", "bathroom"),
        ("john", "went", "to", "the", "hallway"),
    )
    assert first.question == ("where", "is", "mary")  # the space before the tab is gone
    assert first.answer == "bathroom" and first.supports == (0,)
    # The earlier question is not a memory: statement 4 is the third statement of the story.
    assert len(second.story) == 3 and second.supports == (2,)
    (third,) = stories[1]
    assert len(third.story) == 2 and third.task == 8
    # A list answer stays one token, as the answer layer predicts it.
    assert third.answer == "apple,milk" and third.supports == (0, 1)


def test_tokenize_drops_punctuation_and_case():
    assert tokenize("Where is Mary?") == ("where", "is", "mary")
    assert tokenize("John went to the hallway.") == ("john", "went", "to", "the", "hallway")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("1 Mary moved.\nMary went home.\n", 2, "expected 'ID text'"),
        ("1 Mary moved.\n3 John left.\n", 2, "should be 1 or 2"),
        ("1 Mary moved.\n2 Where is Mary?\tkitchen\n", 2, "3 tab-separated fields"),
        ("1 Mary moved.\n2 Where is Mary?\tkitchen\t7\n", 2, "supporting fact '7'"),
        ("1 Mary moved.\n2 Where is Mary?\t\t1\n", 2, "answer must be one non-empty token"),
        ("1 Mary moved.\n\n", 2, "expected 'ID text'"),
        ("1 Where is Mary?\tkitchen\t1\n", 1, "supporting fact '1'"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(DataFormatError) as caught:
        read_babi_file(path, task=8)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs SEQKIT_DATA_DIR with babi/")
def test_real_files_parse_with_the_documented_counts():
    stories = read_babi_file(task_file(SHARED / "en", 19, "train"), task=19)
    questions = [question for story in stories for question in story]
    assert len(stories) == 1000 and len(questions) == 1000
    assert all("," in q.answer for q in questions)  # path answers such as "n,w"
    assert not task_file(SHARED / "en-10k", 3, "train").exists()  # the README's missing file
