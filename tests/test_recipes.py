"""Every recipe in recipes/ loads, validates, builds its model on the real data, and runs two training steps."""

import os
import re
from pathlib import Path

import pytest
import torch

from seqkit.api import load_recipe
from seqkit.config import REPOSITORY_RECIPES
from seqkit.model import build_model
from seqkit.tasks import get_task
from seqkit.training.optimizer import build_optimizer

ROOT = Path(__file__).parent.parent
RECIPES = sorted(REPOSITORY_RECIPES.glob("**/*.yaml"))
# Recipes for a user's own data have no benchmark folder; they run on a sample written for the tests.
SAMPLE_DATA = {"my_texts": ROOT / "tests" / "data" / "my_texts"}


@pytest.mark.slow
@pytest.mark.parametrize("path", RECIPES, ids=[str(p.relative_to(REPOSITORY_RECIPES)) for p in RECIPES])
def test_recipe_builds_and_takes_two_steps(path):
    assert os.environ.get("SEQKIT_DATA_DIR"), "SEQKIT_DATA_DIR must point at the shared benchmark data"
    recipe = load_recipe(None, path)
    if recipe.data.dataset in SAMPLE_DATA:
        # The sample holds 36 training texts, fewer than one batch of the short-text recipes (64).
        recipe = load_recipe(None, path, ["train.batch_size=16"])
    task = get_task(recipe.task)
    train = task.load_splits(recipe, SAMPLE_DATA.get(recipe.data.dataset), ("train",))["train"]
    vocabularies = task.build_vocabularies(recipe, train)
    torch.manual_seed(0)
    model = build_model(recipe, vocabularies)
    optimizer = build_optimizer(model.parameters(), recipe.train)  # the recipe's own optimizer and rate
    losses = []
    for batch in task.training_batches(recipe, vocabularies, train)(0)[:2]:
        optimizer.zero_grad()
        loss = model(batch).loss
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^    (pip install .+)$", readme, flags=re.MULTILINE)
    assert len(commands) == 2, "the README opens with exactly two set-up commands"
    assert "seqkit train slot-filling" in commands[0]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci_lines
