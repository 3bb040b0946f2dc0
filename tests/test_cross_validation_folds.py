"""data_scripts/cross_validation_folds.py: k folds of a dataset in the ATIS layout (train and valid pooled)."""

import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path

from seqkit.data.readers import read_atis_split

SCRIPT = Path(__file__).parent.parent / "data_scripts" / "cross_validation_folds.py"
TINY_ATIS = Path(__file__).parent / "data" / "tiny_atis"


_spec = importlib.util.spec_from_file_location("cross_validation_folds", SCRIPT)
folds_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(folds_script)


def run(*arguments):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, arguments)], capture_output=True, text=True)


def utterances(folder: Path) -> list[tuple]:
    return [(s.tokens, s.tags, s.intent) for s in read_atis_split(folder)]


def test_every_utterance_is_held_out_exactly_once_and_trains_in_the_other_folds(tmp_path):
    written = folds_script.write_folds(TINY_ATIS, tmp_path / "folds", folds=3, seed=7)
    assert written == [tmp_path / "folds" / f"fold{fold}" for fold in range(3)]
    pooled = Counter(utterances(TINY_ATIS / "train") + utterances(TINY_ATIS / "valid"))  # 24 utterances
    held_out = Counter()
    for fold in range(3):
        train = Counter(utterances(tmp_path / "folds" / f"fold{fold}" / "train"))
        valid = Counter(utterances(tmp_path / "folds" / f"fold{fold}" / "valid"))
        assert train + valid == pooled  # words, tags and label of an utterance stay together
        assert sum(valid.values()) == 8
        held_out += valid
    assert held_out == pooled
    assert not (tmp_path / "folds" / "fold0" / "test").exists()  # the test split is never read or written


def test_the_seed_fixes_the_folds(tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        folds_script.write_folds(TINY_ATIS, tmp_path / name, folds=2, seed=seed)
    held_out = {name: utterances(tmp_path / name / "fold0" / "valid") for name in "abc"}
    assert held_out["a"] == held_out["b"] != held_out["c"]


def write_both_splits(folder: Path, words: str, tags: str) -> Path:
    """train/ and valid/ with the same seq.in and seq.out text, no label file."""
    for split in ("train", "valid"):
        (folder / split).mkdir(parents=True)
        (folder / split / "seq.in").write_text(words)
        (folder / split / "seq.out").write_text(tags)
    return folder


def test_a_malformed_line_is_one_error_naming_file_and_line(tmp_path):
    broken = write_both_splits(tmp_path / "broken", "a b\nc\n", "O O\nO O\n")
    result = run(broken, tmp_path / "folds")
    assert result.returncode == 1
    assert "seq.out:2: 2 tags for 1 tokens" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "folds").exists() or not any((tmp_path / "folds").iterdir())


def test_labels_in_one_split_only_are_an_error(tmp_path):
    source = write_both_splits(tmp_path / "mixed", "a b\n", "O O\n")
    (source / "train" / "label").write_text("greet\n")
    result = run(source, tmp_path / "folds")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {source}: train/ and valid/ must both have a label file, or neither"


def test_a_slot_template_replaces_each_value_by_its_type():
    from seqkit.data.readers import TaggedSentence

    utterance = TaggedSentence(
        ("fares", "from", "new", "york", "to", "rome"), ("O", "O", "B-from_city", "I-from_city", "O", "B-to_city"), "x"
    )
    assert folds_script.slot_template(utterance) == ("fares", "from", "<from_city>", "to", "<to_city>")


def test_template_folds_hold_out_only_phrasings_their_training_part_lacks(tmp_path):
    folds_script.write_folds(TINY_ATIS, tmp_path / "folds", folds=3, seed=7, group_by="template")
    pooled = Counter(utterances(TINY_ATIS / "train") + utterances(TINY_ATIS / "valid"))
    held_out = Counter()
    for fold in range(3):
        train = read_atis_split(tmp_path / "folds" / f"fold{fold}" / "train")
        valid = read_atis_split(tmp_path / "folds" / f"fold{fold}" / "valid")
        seen = {folds_script.slot_template(s) for s in train}
        assert valid and not any(folds_script.slot_template(s) in seen for s in valid)
        held_out += Counter((s.tokens, s.tags, s.intent) for s in valid)
    assert held_out == pooled  # still every utterance held out exactly once
    # tiny_atis/valid repeats 8 training utterances, so 8 templates come twice; the 24 still spread evenly.
    sizes = [
        len((tmp_path / "folds" / f"fold{fold}" / "valid" / "seq.in").read_text().splitlines()) for fold in range(3)
    ]
    assert sizes == [8, 8, 8]


def test_an_unknown_grouping_is_refused(tmp_path):
    result = run(TINY_ATIS, tmp_path / "folds", "--group-by", "intent")
    assert result.returncode == 2 and "--group-by" in result.stderr
