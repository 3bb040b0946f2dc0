"""Truncation keeps the head, the tail or both, and reports the cut once."""

import pytest

from seqkit.text.truncate import TruncationReport, truncate

TOKENS = list("abcdefg")


@pytest.mark.parametrize(
    ("side", "limit", "expected"),
    [("head", 3, "abc"), ("tail", 3, "efg"), ("head+tail", 3, "abg"), ("head+tail", 4, "abfg")]
    + [("head+tail", 1, "a")],
)
def test_sides(side, limit, expected):
    assert truncate(TOKENS, limit, side) == list(expected)


def test_short_documents_and_no_limit_are_unchanged():
    assert truncate(TOKENS, 10, "head") == TOKENS
    assert truncate(TOKENS, None, "tail") == TOKENS
    with pytest.raises(ValueError, match="unknown truncation side"):
        truncate(TOKENS, 3, "middle")


def test_report_counts_documents_and_dropped_tokens():
    report = TruncationReport()
    assert report.message("train", 3, "head") is None
    for length in (7, 2, 5):
        report.add(length, min(length, 3))
    assert (report.documents, report.truncated, report.tokens_dropped) == (3, 2, 6)
    assert report.message("train", 3, "head") == (
        "train: truncated 2 of 3 documents (66.7%) to 3 tokens keeping the head; 6 tokens dropped"
    )
