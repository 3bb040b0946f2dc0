"""Shared fixtures: the tiny datasets in tests/data, a small, fast slot-filling recipe, and tiny run dirs of each
served task (trained once per session, in seconds)."""

import random
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parent / "data"
TINY_ATIS = DATA / "tiny_atis"
TINY_CONLL = DATA / "tiny_conll"
PEOPLE = ("mary", "john", "sandra", "daniel")
PLACES = ("kitchen", "garden", "hallway", "office")
ANIMALS = "ant bee cat dog eel fox gnu hen".split()
# Small enough to train in a second or two; shared by the seq2seq run dirs below.
TINY_SEQ2SEQ = ["encoder.embedding_size=16", "rnn.hidden_size=16", "head.embedding_size=16", "head.hidden_size=32",
                "head.beam=2", "train.epochs=2", "train.batch_size=16", "train.threads=1"]


def write_recipe(folder: Path, **sections) -> Path:
    """A small slot-filling recipe; keyword sections are merged over the defaults below."""
    recipe = {
        "task": "slot-filling",
        "seed": 3,
        "data": {"dataset": "tiny", "format": "atis", "lowercase": True},
        "encoder": {"features": ["embedding", "word_hash"], "embedding_size": 16, "hash_size": 16, "hash_buckets": 512},
        "rnn": {"cell": "lstm", "hidden_size": 24},
        "head": {"use_crf": True, "intent": True, "dropout": 0.0},
        "train": {"epochs": 3, "batch_size": 4, "learning_rate": 0.01, "schedule": "constant", "threads": 1},
    }
    for name, values in sections.items():
        recipe[name] = {**recipe.get(name, {}), **values} if isinstance(values, dict) else values
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


@pytest.fixture
def tiny_recipe(tmp_path: Path) -> Path:
    return write_recipe(tmp_path)


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Tiny models run fastest on one thread, and CI machines are shared."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_tagger_run(tmp_path_factory) -> Path:
    """A slot-filling run dir trained for a few seconds on tests/data/tiny_atis (shared by serving tests)."""
    from seqkit import api

    folder = tmp_path_factory.mktemp("tiny_tagger")
    recipe = write_recipe(folder)
    return api.train(None, recipe, data_dir=TINY_ATIS, out=folder / "tiny-atis", show_progress=False)


def write_tiny_task1(folder: Path, stories: int = 12) -> Path:
    """A small bAbI task-1 dataset in the bAbI layout (en/qa1_..._{train,test}.txt), drawn with a fixed seed."""
    generator = random.Random(0)
    for split in ("train", "test"):
        lines = []
        for _ in range(stories):
            where: dict[str, str] = {}
            line_of: dict[str, int] = {}
            number = 0
            for _ in range(3):
                for _ in range(2):
                    number += 1
                    person, place = generator.choice(PEOPLE), generator.choice(PLACES)
                    where[person], line_of[person] = place, number
                    lines.append(f"{number} {person.title()} went to the {place}.")
                number += 1
                person = generator.choice(sorted(where))
                lines.append(f"{number} Where is {person.title()}? \t{where[person]}\t{line_of[person]}")
        path = folder / "en" / f"qa1_single-supporting-fact_{split}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_animal_pairs(folder: Path, names: dict[str, tuple[str, str]], target) -> Path:
    """Per split, aligned files of three-animal texts and `target(words)`; `names`: split -> (source, target)."""
    generator = random.Random(1)
    for split, count in (("train", 60), ("valid", 8), ("test", 8)):
        sources = [[generator.choice(ANIMALS) for _ in range(3)] for _ in range(count)]
        source_name, target_name = names[split]
        (folder / source_name).write_text("".join(" ".join(words) + "\n" for words in sources), encoding="utf-8")
        (folder / target_name).write_text("".join(target(words) + "\n" for words in sources), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_translation_run(tmp_path_factory) -> Path:
    """A translation run dir (words, no subwords) that learns to reverse three animal names."""
    from seqkit import api

    folder = tmp_path_factory.mktemp("tiny_translation")
    names = {split: (f"{split}.src", f"{split}.tgt") for split in ("train", "valid", "test")}
    data = write_animal_pairs(folder, names, lambda words: " ".join(reversed(words)))
    overrides = ["data.file_pattern={split}.{lang}", "data.src_lang=src", "data.tgt_lang=tgt", "data.valid=valid",
                 "data.test=test", "data.subwords.vocab_size=null", *TINY_SEQ2SEQ]
    out = folder / "tiny-translation"
    return api.train("translation", data_dir=data, out=out, overrides=overrides, show_progress=False)


@pytest.fixture(scope="session")
def tiny_title_run(tmp_path_factory) -> Path:
    """A title-generation run dir whose "headline" is an article's first two words (copy attention on)."""
    from seqkit import api

    folder = tmp_path_factory.mktemp("tiny_titles")
    names = {split: (f"{split}.article.txt", f"{split}.title.txt") for split in ("train", "valid", "test")}
    data = write_animal_pairs(folder, names, lambda words: " ".join(words[:2]))
    files = [f"data.{split}_{side}={split}.{name}.txt" for split in ("train", "valid", "test")
             for side, name in (("source", "article"), ("target", "title"))]
    overrides = [*files, "head.copy=true", "encoder.min_freq=1", *TINY_SEQ2SEQ]
    out = folder / "tiny-titles"
    return api.train("title-generation", data_dir=data, out=out, overrides=overrides, show_progress=False)


@pytest.fixture(scope="session")
def tiny_babi_run(tmp_path_factory) -> Path:
    """A memory network trained for two epochs on a small task-1 dataset (write_tiny_task1)."""
    from seqkit import api

    folder = tmp_path_factory.mktemp("tiny_babi")
    data = write_tiny_task1(folder / "babi")
    overrides = ["data.task=1", "head.embedding_size=8", "train.epochs=2", "train.batch_size=8",
                 "head.linear_start=false", "train.threads=1"]
    return api.train("babi", "babi_1k", data_dir=data, out=folder / "tiny-babi", overrides=overrides,
                     show_progress=False)


@pytest.fixture(scope="session")
def tiny_language_model_run(tmp_path_factory) -> Path:
    """A language model trained for two epochs on sentences of three animals (ANIMALS), one file per split."""
    from seqkit import api

    folder = tmp_path_factory.mktemp("tiny_language_model")
    generator = random.Random(2)
    for split, count in (("train", 24), ("valid", 6), ("test", 6)):
        lines = [" ".join(generator.choice(ANIMALS) for _ in range(3)) for _ in range(count)]
        (folder / f"{split}.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    overrides = ["data.train=train.txt", "data.valid=valid.txt", "data.test=test.txt", "encoder.embedding_size=8",
                 "encoder.min_freq=1", "rnn.hidden_size=8", "train.batch_size=4", "train.epochs=2", "train.threads=1"]
    return api.train("language-model", data_dir=folder, out=folder / "tiny-lm", overrides=overrides,
                     show_progress=False)


@pytest.fixture(scope="session")
def tiny_classifier_run(tmp_path_factory) -> Path:
    """A sentiment run dir (the my_texts recipe: word and bigram embeddings, mean pooling) on tests/data/my_texts."""
    from seqkit import api

    folder = tmp_path_factory.mktemp("tiny_classifier")
    overrides = ["train.epochs=5", "train.threads=1"]
    return api.train("sentiment", "my_texts", data_dir=DATA / "my_texts", out=folder / "tiny-sentiment",
                     overrides=overrides, show_progress=False)


BERT_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BERT_WORDS = """show list what is the fare how much a ticket flights flight from to on monday paris rome oslo lima new
york""".split()
BERT_LETTERS = [chr(code) for code in range(ord("a"), ord("z") + 1)]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    """A one-layer BERT (width 16) and its uncased word-piece tokenizer, in the Hugging Face folder layout."""
    import transformers  # the dev extra installs it

    folder = tmp_path_factory.mktemp("tiny_bert")
    lexicon = [*BERT_SPECIAL, *BERT_WORDS, "##s", *BERT_LETTERS, *(f"##{letter}" for letter in BERT_LETTERS)]
    (folder / "vocab.txt").write_text("\n".join(lexicon) + "\n")
    transformers.BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(folder)
    import torch

    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(lexicon),
        hidden_size=16,
        num_hidden_layers=2,  # two, so that averaging the last layers has layers to average
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    transformers.BertModel(config).save_pretrained(folder)
    return str(folder)
