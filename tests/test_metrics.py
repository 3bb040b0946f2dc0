import pytest

from seqkit.metrics import accuracy, bio_chunks, sentence_accuracy, span_scores


def test_chunks_follow_conlleval():
    # An I- that starts a chunk (after O), adjacent B-s, and a type change inside a run of I-s.
    tags = ["I-loc", "I-loc", "O", "B-per", "B-per", "I-per", "I-org", "B-loc"]
    assert bio_chunks(tags) == {(0, 2, "loc"), (3, 4, "per"), (4, 6, "per"), (6, 7, "org"), (7, 8, "loc")}


def test_span_scores_hand_worked():
    gold = [["B-a", "I-a", "O", "B-b"], ["O", "B-c"]]
    predicted = [["B-a", "I-a", "O", "B-a"], ["O", "I-c"]]
    # gold chunks: (0,2,a) (3,4,b) (1,2,c); predicted: (0,2,a) (3,4,a) (1,2,c) -> 2 of 3 right each way.
    scores = span_scores(gold, predicted)
    assert scores["precision"] == pytest.approx(200 / 3)
    assert scores["recall"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(200 / 3)


def test_span_boundary_errors_count_as_wrong():
    scores = span_scores([["B-a", "I-a"]], [["B-a", "O"]])
    assert scores == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_no_chunks_at_all_gives_zero_not_an_error():
    assert span_scores([["O"]], [["O"]])["f1"] == 0.0


def test_accuracies():
    assert accuracy(["a", "b", "c", "d"], ["a", "b", "x", "d"]) == 75.0
    assert sentence_accuracy([["O", "B-a"], ["O"]], [["O", "B-a"], ["B-a"]]) == 50.0
    assert sentence_accuracy([["O"], ["O"]], [["O"], ["O"]], ["x", "y"], ["x", "z"]) == 50.0
