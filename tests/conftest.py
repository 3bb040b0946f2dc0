"""Shared fixtures: the tiny datasets in tests/data and a small, fast slot-filling recipe."""

from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parent / "data"
TINY_ATIS = DATA / "tiny_atis"
TINY_CONLL = DATA / "tiny_conll"


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
