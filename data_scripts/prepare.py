"""Prepare a dataset in seqkit's cache: download it from the hub, or validate and copy a local raw copy.

    python data_scripts/prepare.py atis                  # from the hub (needs network)
    python data_scripts/prepare.py atis --source DIR     # validate DIR, then copy it into the cache
    python data_scripts/prepare.py conll2003 --source DIR

The recipe named after the dataset (recipes/<dataset>.yaml) says which layout and files are expected. The
cache entry ($SEQKIT_CACHE_DIR/<dataset>, default ~/.cache/seqkit/<dataset>) is built beside its final place
and renamed into it only once every file has been read back without error, so a failure never leaves a
half-written cache or replaces a good one.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from seqkit.api import load_recipe
from seqkit.data.sources import cache_root
from seqkit.errors import SeqkitError
from seqkit.files import atomic_replace_directory
from seqkit.tasks import get_task

RECIPE_OF_DATASET = {"atis": "atis", "conll2003": "conll2003"}


def prepare(dataset: str, source: Path | None) -> Path:
    recipe = load_recipe(None, RECIPE_OF_DATASET.get(dataset, dataset))
    task = get_task(recipe.task)
    splits = ("train", "valid", "test")
    target = cache_root() / recipe.data.dataset

    def fill(folder: Path) -> None:
        if source is not None:
            task.load_splits(recipe, Path(source), splits)  # validates every file, line by line
            for relative in _split_paths(recipe):
                origin = Path(source) / relative
                if origin.is_file():  # `label` files are optional
                    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, folder / relative)
        else:
            task.download(recipe.data, folder)
        task.load_splits(recipe, folder, splits)  # what was written reads back cleanly

    atomic_replace_directory(target, fill)
    return target


def _split_paths(recipe) -> list[str]:
    data = recipe.data
    names = (data.train, data.valid, data.test)
    if data.format == "atis":
        return [f"{name}/{file}" for name in names for file in ("seq.in", "seq.out", "label")]
    return list(names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="dataset name, e.g. atis or conll2003")
    parser.add_argument("--source", type=Path, help="a local raw copy to validate and cache")
    arguments = parser.parse_args()
    try:
        target = prepare(arguments.dataset, arguments.source)
    except SeqkitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"prepared {arguments.dataset} in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
