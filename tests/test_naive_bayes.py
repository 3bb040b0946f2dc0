"""The naive Bayes log-count ratio features (NBSVM): n-gram hashing, binarization, the ratios against a count by
hand, and a sentiment model that trains on them, saves its ratios and reloads to the same answers."""

import math
import random

import pytest
import torch

from seqkit import api
from seqkit.config import EncoderConfig
from seqkit.encoders import build_input_encoder
from seqkit.encoders.naive_bayes import NaiveBayesEncoder, first_occurrences, ngram_buckets
from seqkit.errors import ConfigError
from seqkit.text.vocab import Vocab

PAD = 0


def test_an_ngram_lands_in_one_bucket_wherever_it_stands():
    # "7 8" opens the first row and closes the second; its bigram bucket is the same in both.
    words = torch.tensor([[7, 8, 9, PAD], [5, 7, 8, 3]])
    buckets = ngram_buckets(words, order=3, buckets=1000, pad_id=PAD)  # (B, T, 3)
    assert buckets.shape == (2, 4, 3)
    assert buckets[0, 1, 1] == buckets[1, 2, 1]  # bigram (7, 8)
    assert buckets[0, 1, 0] == buckets[1, 2, 0]  # unigram 8
    # The trigram ending at "8" differs: (<s>, 7, 8) against (5, 7, 8).
    assert buckets[0, 1, 2] != buckets[1, 2, 2]
    assert (buckets[0, 3] == 0).all()  # padding
    assert ((buckets[:, :3] >= 1) & (buckets[:, :3] < 1000)).all()


def test_repeats_within_a_document_count_once():
    ids = torch.tensor([[[4], [6], [4], [6], [9]], [[4], [4], [4], [2], [0]]])  # (B, T, 1)
    kept = first_occurrences(ids).squeeze(-1)
    assert kept.tolist() == [[4, 6, 0, 0, 9], [4, 0, 0, 2, 0]]


def test_ratios_are_the_smoothed_log_count_ratios():
    encoder = NaiveBayesEncoder(buckets=50, order=1, classes=2, pad_id=PAD, smoothing=1.0)
    # Class 1 documents hold word 3 (twice in one document, counted once); class 0 documents hold word 4.
    words = torch.tensor([[3, 3, 5], [3, 5, PAD], [4, 5, PAD]])
    labels = torch.tensor([1, 1, 0])
    encoder.count(words, labels)
    encoder.finish_counting()
    bucket = ngram_buckets(torch.tensor([[3, 4, 5]]), 1, 50, PAD)[0, :, 0].tolist()
    # By hand, over the three seen unigrams (3, 4, 5) with add-1 smoothing:
    # class 1 documents: counts (2, 0, 2) -> (3, 1, 3) / 7; the others: (0, 1, 1) -> (1, 2, 2) / 5.
    expected = {
        3: math.log(3 / 7) - math.log(1 / 5),
        4: math.log(1 / 7) - math.log(2 / 5),
        5: math.log(3 / 7) - math.log(2 / 5),
    }
    for word, index in zip((3, 4, 5), bucket, strict=True):
        assert encoder.ratios[index, 1].item() == pytest.approx(expected[word], rel=1e-5)
        # With two classes, class 0's ratio is class 1's mirrored.
        assert encoder.ratios[index, 0].item() == pytest.approx(-expected[word], rel=1e-5)
    # Buckets no training n-gram fell into add nothing.
    unseen = torch.ones(50, dtype=torch.bool)
    unseen[bucket] = False
    assert (encoder.ratios[unseen] == 0).all()


def test_the_weights_start_at_zero_and_repeats_add_nothing():
    encoder = NaiveBayesEncoder(buckets=50, order=2, classes=3, pad_id=PAD)
    encoder.count(torch.tensor([[3, 4, 3, 4], [5, 6, PAD, PAD]]), torch.tensor([2, 0]))
    encoder.finish_counting()
    assert (encoder(torch.tensor([[3, 4]])) == 0).all()  # an untrained linear model
    with torch.no_grad():
        encoder.weights.weight.fill_(1.0)
    # Both hold the same unigrams and bigrams (<s> 3, 3 4, 4 3); the second holds them more often.
    once = encoder(torch.tensor([[3, 4, 3, 4, PAD, PAD]])).sum(dim=1)
    twice = encoder(torch.tensor([[3, 4, 3, 4, 3, 4]])).sum(dim=1)
    assert torch.allclose(once, twice) and once.abs().sum() > 0


def test_naive_bayes_needs_classes():
    config = EncoderConfig(features=("naive_bayes",), naive_bayes_buckets=100)
    with pytest.raises(ConfigError, match="naive_bayes"):
        build_input_encoder(config, Vocab.build([["a"]]))
    assert build_input_encoder(config, Vocab.build([["a"]]), classes=2).output_dim == 2 * 2


def _write_texts(path, count: int, seed: int) -> None:
    """Short texts whose label follows one cue word among filler."""
    rng = random.Random(seed)
    filler = ["the", "screen", "battery", "it", "is", "was", "and", "phone"]
    rows = ["text\tlabel"]
    for index in range(count):
        label = ["pos", "neg", "mixed"][index % 3]
        cue = {"pos": "great", "neg": "awful", "mixed": "okay"}[label]
        words = [rng.choice(filler) for _ in range(rng.randint(2, 6))]
        words.insert(rng.randrange(len(words) + 1), cue)
        rows.append(f"{' '.join(words)}\t{label}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_ratios_counted_at_the_start_of_training_equal_a_count_document_by_document(tmp_path):
    """The ratios are counted on the first epoch's batches, which training then reuses without collating them
    again; they equal a count over each training document alone, and the former count over another epoch."""
    from seqkit.model import FIRST_EPOCH, build_model, count_training_data
    from seqkit.tasks import get_task

    _write_texts(tmp_path / "train.tsv", 90, seed=3)
    settings = ["encoder.features=[naive_bayes]", "encoder.naive_bayes_buckets=997", "train.batch_size=8"]
    recipe = api.load_recipe("sentiment", "my_texts", settings)
    task = get_task("sentiment")
    train = task.load_splits(recipe, tmp_path, ("train",))["train"]
    vocabularies = task.build_vocabularies(recipe, train)
    model = build_model(recipe, vocabularies)
    task_batches = task.training_batches(recipe, vocabularies, train)
    asked = []

    def recorded(epoch: int) -> list[dict]:
        asked.append(epoch)
        return task_batches(epoch)

    batches = count_training_data(model, recorded)
    first = batches(FIRST_EPOCH)
    assert asked == [FIRST_EPOCH]  # training takes the counted batches; nothing was collated twice
    assert sum(len(batch["label"]) for batch in first) == len(train)
    batches(FIRST_EPOCH + 1)
    assert asked == [FIRST_EPOCH, FIRST_EPOCH + 1]
    counted = model.encoder.encoders["naive_bayes"].ratios

    def fresh() -> NaiveBayesEncoder:
        encoder, classes = recipe.encoder, len(vocabularies["labels"])
        order, smoothing = encoder.naive_bayes_order, encoder.naive_bayes_smoothing
        return NaiveBayesEncoder(997, order, classes, vocabularies["words"].pad_id, smoothing)

    by_document = fresh()
    documents = task.documents(recipe, [example.text for example in train], "train")
    for tokens, label in zip(documents, task.label_ids(vocabularies, train), strict=True):
        words = task.featurize(recipe, vocabularies, tokens)["words"]
        by_document.count(torch.tensor([words]), torch.tensor([label]))
    by_document.finish_counting()
    former = fresh()  # the count before the first epoch's batches were reused: over epoch 1's batches
    for batch in task_batches(1):
        former.count(batch["words"], batch["label"])
    former.finish_counting()
    assert counted.abs().sum() > 0
    assert torch.equal(counted, by_document.ratios)
    assert torch.equal(counted, former.ratios)


def test_a_sentiment_model_on_ratios_trains_and_reloads(tmp_path):
    from seqkit.predict.classifier import Classifier

    _write_texts(tmp_path / "train.tsv", 300, seed=1)
    _write_texts(tmp_path / "test.tsv", 60, seed=2)
    settings = [
        "encoder.features=[naive_bayes]",
        "encoder.naive_bayes_buckets=5000",
        "head.context=none",
        "head.pooling=mean",
        "train.epochs=4",
        "train.learning_rate=0.05",
        "train.threads=1",
    ]
    run = api.train("sentiment", "my_texts", tmp_path, tmp_path / "run", settings, show_progress=False)
    assert api.evaluate(run, "test", tmp_path)["accuracy"] >= 95.0  # three classes, chance is 33
    # The ratios are part of the saved weights: a fresh load scores as the trained model did.
    classifier = Classifier.load(run)
    texts = ["the screen is great", "it was awful", "the phone is okay"]
    assert [answer.label for answer in classifier.classify(texts)] == ["pos", "neg", "mixed"]


def test_the_ratios_export_to_onnx_and_classify_as_in_pytorch(tmp_path):
    from seqkit.export import export_onnx
    from seqkit.export.classifier import OnnxClassifier
    from seqkit.predict.classifier import Classifier

    _write_texts(tmp_path / "train.tsv", 120, seed=3)
    _write_texts(tmp_path / "test.tsv", 30, seed=4)
    settings = ["encoder.features=[embedding,naive_bayes]", "encoder.naive_bayes_buckets=5000", "head.context=none",
                "head.pooling=mean", "train.epochs=2", "train.threads=1"]
    run = api.train("sentiment", "my_texts", tmp_path, tmp_path / "run", settings, show_progress=False)
    export_onnx(run, tmp_path / "onnx")
    texts = ["the screen is great and great", "it was awful , the phone was awful", "okay", "battery battery okay"]
    expected = Classifier.load(run).classify(texts)
    found = OnnxClassifier(tmp_path / "onnx").classify(texts)
    assert [answer.label for answer in found] == [answer.label for answer in expected]
    for mine, theirs in zip(found, expected, strict=True):
        assert mine.probabilities == pytest.approx(theirs.probabilities, abs=1e-5)
