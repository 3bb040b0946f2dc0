"""TASKS: the only place where task names meet their code.

A task is one object that declares everything seqkit needs to know about it (the `Task` protocol in
seqkit/tasks/base.py): its data and head config sections, readers, vocabularies, batches, head, scores and dev
metric, and, as plain data, how it is used: the seqkit.predict predictor that loads its run dirs (`predictor`), the
HTTP endpoint `seqkit serve` answers it on (`endpoint`), its ONNX exporter or why there is none (`exporter`,
`export_refusal`), the demo page's view of an answer (`demo_view`, `demo_placeholder`) and its CLI commands
(`verbs`). The trainer, the run dir, the API, the CLI, the server, the export and the demo page ask the task and
never write its name.

Adding a task means one file here, declaring those members, and one line in TASKS; tests/test_task_contract.py
then trains, saves, loads, serves, exports and resumes it like every other task once it has tiny data there.
"""

from __future__ import annotations

from seqkit.registry import lookup
from seqkit.tasks.babi import BabiTask
from seqkit.tasks.base import HttpEndpoint, Task
from seqkit.tasks.language_model import LanguageModelTask
from seqkit.tasks.sentiment import SentimentTask
from seqkit.tasks.slot_filling import SlotFillingTask
from seqkit.tasks.title_generation import TitleGenerationTask
from seqkit.tasks.translation import TranslationTask

__all__ = ["TASKS", "HttpEndpoint", "Task", "get_task", "tasks_served_by"]

TASKS: dict[str, Task] = {
    "slot-filling": SlotFillingTask(),
    "babi": BabiTask(),
    "sentiment": SentimentTask(),
    "translation": TranslationTask(),
    "title-generation": TitleGenerationTask(),
    "language-model": LanguageModelTask(),
}


def get_task(name: str) -> Task:
    return lookup(TASKS, name, "task", "task")


def tasks_served_by(predictor: str) -> list[str]:
    """The names of the tasks whose run dirs the seqkit.predict class `predictor` loads, in TASKS order."""
    return [name for name, task in TASKS.items() if task.predictor == predictor]
