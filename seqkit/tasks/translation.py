"""Machine translation (Multi30k by default; any aligned pair of text files).

Files are found by a pattern, `{split}.{lang}.gz` for Multi30k, so `--set data.src_lang=en data.tgt_lang=de`
reverses the direction and `--data DIR --set data.file_pattern={split}.{lang}` reads a user's own plain files.
Output is detokenized and scored cased with sacreBLEU and chrF; the signatures are stored with the scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from seqkit.bounds import PLAIN_FOLDER_NAME, setting
from seqkit.config import Recipe
from seqkit.data.parallel import TextPair
from seqkit.data.sources import check_split_files, resolve_dataset
from seqkit.errors import ConfigError
from seqkit.metrics import translation_scores
from seqkit.tasks import generation
from seqkit.tasks.base import HttpEndpoint
from seqkit.tasks.generation import PairLimits, Seq2SeqConfig, SubwordConfig


@dataclass(frozen=True)
class TranslationData(PairLimits):
    # Folder name under $SEQKIT_DATA_DIR (or --data DIR).
    dataset: str = setting("multi30k", pattern=PLAIN_FOLDER_NAME)
    # The language read (its code as it appears in the file names).
    src_lang: str = "de"
    # The language written.
    tgt_lang: str = "en"
    # A split's file in one language; `{split}` and `{lang}` are filled in.
    file_pattern: str = "{split}.{lang}.gz"
    # The training split's name in file_pattern.
    train: str = "train"
    # The dev split, on which the best epoch is chosen (by BLEU).
    valid: str = "val"
    # The test split, read only by `seqkit evaluate --split test`.
    test: str = "test_2016_flickr"
    subwords: SubwordConfig = field(default_factory=SubwordConfig)

    def __post_init__(self) -> None:
        # Checked here so that `seqkit validate` refuses a pattern that finding the files would.
        try:
            self.file_pattern.format(split="train", lang="de")
        except (KeyError, IndexError, ValueError) as error:
            pattern = self.file_pattern
            raise ConfigError(f"data.file_pattern: {pattern!r} uses only {{split}}, {{lang}} ({error!r})") from None


class TranslationTask:
    name = "translation"
    default_recipe = "multi30k_de_en"
    data_config = TranslationData
    head_config = Seq2SeqConfig
    metric = "bleu"
    predictor = "Translator"
    endpoint = HttpEndpoint("/translate", "Translate texts", schema="generation")
    exporter = "seq2seq"
    export_refusal = None
    demo_view = "generated"
    demo_placeholder = "a text to translate"
    verbs = ("translate",)

    def load_splits(self, recipe: Recipe, data_dir: Path | None, splits: tuple[str, ...]) -> dict:
        data: TranslationData = recipe.data
        names = {"train": data.train, "valid": data.valid, "test": data.test}
        languages = {"data.src_lang": data.src_lang, "data.tgt_lang": data.tgt_lang}
        names_by_key = {f"data.{split}": names[split] for split in splits}
        check_split_files({**names_by_key, **languages, "data.file_pattern": data.file_pattern})

        def file(split: str, lang: str) -> str:
            try:
                return data.file_pattern.format(split=names[split], lang=lang)
            except (KeyError, IndexError, ValueError) as error:
                raise ConfigError(
                    f"data.file_pattern: {data.file_pattern!r} uses only {{split}}, {{lang}} ({error!r})"
                ) from None

        required = [file(split, lang) for split in splits for lang in (data.src_lang, data.tgt_lang)]
        folder = resolve_dataset(data.dataset, required, data_dir)
        paths = {split: (folder / file(split, data.src_lang), folder / file(split, data.tgt_lang)) for split in splits}
        return generation.load_pair_splits(data, paths)

    # The pipeline and the model are the shared generation ones; only the data layout and the metric differ.
    build_vocabularies = staticmethod(generation.build_vocabularies)
    training_batches = staticmethod(generation.training_batches)
    build_head = staticmethod(generation.build_head)
    encoder_features = generation.ENCODER_FEATURES

    def evaluate(self, model, recipe: Recipe, vocabularies: dict, pairs: list[TextPair]) -> dict:
        outputs = generation.generate(model, recipe, vocabularies, [p.source for p in pairs])
        hypotheses = [found[0].text for found in outputs]
        scores = translation_scores(hypotheses, [p.target for p in pairs])
        scores["beam"] = recipe.head.beam
        scores["sentences"] = len(pairs)
        return scores
