"""TASKS: the only place where task names meet their code.

A task knows its data (readers, where to find it), its labels, how to featurize examples, which head to build,
how to turn model outputs into human-readable predictions, and how to score them. The trainer, the run dir
and the CLI know nothing else about it. Adding a task means one file here and one line in TASKS.
"""

from __future__ import annotations

from seqkit.registry import lookup
from seqkit.tasks.babi import BabiTask
from seqkit.tasks.sentiment import SentimentTask
from seqkit.tasks.slot_filling import SlotFillingTask
from seqkit.tasks.title_generation import TitleGenerationTask
from seqkit.tasks.translation import TranslationTask

TASKS = {
    "slot-filling": SlotFillingTask(),
    "babi": BabiTask(),
    "sentiment": SentimentTask(),
    "translation": TranslationTask(),
    "title-generation": TitleGenerationTask(),
}


def get_task(name: str):
    return lookup(TASKS, name, "task", "task")
