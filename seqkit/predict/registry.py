"""The table of predictors by the name that a task's `predictor` gives (seqkit/tasks/base.py)."""

from __future__ import annotations

from seqkit.predict.classifier import Classifier
from seqkit.predict.generation import Summarizer, Translator
from seqkit.predict.language_model import LanguageModel
from seqkit.predict.reader import Reader
from seqkit.predict.tagger import Tagger
from seqkit.registry import lookup
from seqkit.tasks import get_task

# The classes that a task's `predictor` may name (seqkit/tasks/base.py); the server and the contract tests load a
# run dir through the one its task names.
PREDICTORS = {
    "Tagger": Tagger,
    "Reader": Reader,
    "Classifier": Classifier,
    "Translator": Translator,
    "Summarizer": Summarizer,
    "LanguageModel": LanguageModel,
}


def predictor_of(task_name: str) -> type:
    """The predictor class that loads and serves run dirs of the task `task_name`."""
    return lookup(PREDICTORS, get_task(task_name).predictor, "predictor", f"the {task_name} task's predictor")
