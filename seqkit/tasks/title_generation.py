"""Title generation: a news article's first sentence -> its headline (Rush et al. 2015's Gigaword data).

The data is pre-tokenized and lowercased, so the default recipe splits on whitespace and turns on copy
attention: with only the 10,000 training pairs available here, names and rare words must be copied from the
article. Scores are ROUGE-1/2/L F1; evaluation also scores the article's first 8 words as a headline (the
prefix baseline) with the same code, so that every report shows what the model adds over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from seqkit.bounds import PLAIN_FOLDER_NAME, setting
from seqkit.config import Recipe
from seqkit.data.parallel import TextPair
from seqkit.data.sources import check_split_files, resolve_dataset
from seqkit.metrics import rouge_scores
from seqkit.tasks import generation
from seqkit.tasks.base import HttpEndpoint
from seqkit.tasks.generation import PairLimits, Seq2SeqConfig, SubwordConfig

PREFIX_WORDS = 8


@dataclass(frozen=True)
class TitleData(PairLimits):
    # Folder name under $SEQKIT_DATA_DIR (or --data DIR).
    dataset: str = setting("gigaword", pattern=PLAIN_FOLDER_NAME)
    # Each split is two files of matching lines: the articles (source) and their titles (target); .gz is read
    # compressed.
    train_source: str = "train.article.txt.gz"
    # The training titles, line for line with train_source.
    train_target: str = "train.title.txt.gz"
    # The dev articles, on which the best epoch is chosen (by ROUGE-1).
    valid_source: str = "valid.article.filter.txt"
    # The dev titles.
    valid_target: str = "valid.title.filter.txt"
    # The test articles, read only by `seqkit evaluate --split test`.
    test_source: str = "test.article.txt"
    # The test titles.
    test_target: str = "test.title.txt"
    subwords: SubwordConfig = field(default_factory=lambda: SubwordConfig(vocab_size=None))


class TitleGenerationTask:
    name = "title-generation"
    default_recipe = "gigaword"
    data_config = TitleData
    head_config = Seq2SeqConfig
    metric = "rouge1"
    predictor = "Summarizer"
    endpoint = HttpEndpoint("/summarize", "Write a title for each text", schema="generation")
    exporter = "seq2seq"
    export_refusal = None
    demo_view = "generated"
    demo_placeholder = "a news article's first sentence"
    verbs = ("summarize",)

    def load_splits(self, recipe: Recipe, data_dir: Path | None, splits: tuple[str, ...]) -> dict:
        data: TitleData = recipe.data
        files = {
            "train": (data.train_source, data.train_target),
            "valid": (data.valid_source, data.valid_target),
            "test": (data.test_source, data.test_target),
        }
        keys = [f"{split}_{side}" for split in splits for side in ("source", "target")]
        check_split_files({f"data.{key}": getattr(data, key) for key in keys})
        required = [name for split in splits for name in files[split]]
        folder = resolve_dataset(data.dataset, required, data_dir)
        return generation.load_pair_splits(
            data, {split: (folder / files[split][0], folder / files[split][1]) for split in splits}
        )

    # The pipeline and the model are the shared generation ones; only the data layout and the metric differ.
    build_vocabularies = staticmethod(generation.build_vocabularies)
    training_batches = staticmethod(generation.training_batches)
    build_head = staticmethod(generation.build_head)
    encoder_features = generation.ENCODER_FEATURES

    def evaluate(self, model, recipe: Recipe, vocabularies: dict, pairs: list[TextPair]) -> dict:
        outputs = generation.generate(model, recipe, vocabularies, [p.source for p in pairs])
        references = [p.target for p in pairs]
        scores = rouge_scores([found[0].text for found in outputs], references)
        baseline = rouge_scores([prefix_headline(p.source) for p in pairs], references)
        scores.update({f"prefix_{name}": value for name, value in baseline.items()})
        scores["beam"] = recipe.head.beam
        scores["pairs"] = len(pairs)
        return scores


def prefix_headline(article: str, words: int = PREFIX_WORDS) -> str:
    """The baseline headline: the article's first `words` words."""
    return " ".join(article.split()[:words])
