"""What a task is: the `Task` protocol, every member a task in TASKS has, and the plain declarations it makes.

A task is one object that answers every question the rest of seqkit may ask about it. The trainer, the run dir,
the API, the CLI, the server, the ONNX export and the demo page all ask the task; none of them writes a task's
name. Tasks do not inherit from anything: `Task` is a `typing.Protocol`, so a class with these members is a task.

Declarations are plain data (strings, tuples, the frozen `HttpEndpoint` below): a task names the API class that
serves it, the endpoint it answers on, its exporter and its demo view, and the modules that own those things
look the names up. So a task imports nothing from seqkit.api, seqkit.predict, seqkit.serving, seqkit.export or
seqkit.cli, and no import cycle can run through it (tests/test_layout.py fails on any).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from torch import nn

    from seqkit.config import Recipe
    from seqkit.text.vocab import Vocab


@dataclass(frozen=True)
class HttpEndpoint:
    """Where `seqkit serve` answers a task: the path, the OpenAPI summary, and the schema kind.

    `schema` names an entry of SCHEMAS in seqkit/serving/endpoints.py: the pydantic models of one request and one
    answered item, and how a batch of items becomes answers. Kinds today: "tagging", "classification",
    "generation", "reading", "scoring". Two tasks may share a kind (translation and title generation both generate) but
    not a path.
    """

    path: str
    summary: str
    schema: str


@runtime_checkable
class Task(Protocol):
    """Every member a task has. Each task class declares the data members as class attributes.

    Identity and training:

    - `name`: the key in TASKS and the `task:` of its recipes.
    - `default_recipe`: the recipe `seqkit train NAME` uses without --recipe (a name under recipes/).
    - `data_config`, `head_config`: the frozen dataclasses of the recipe's `data` and `head` sections.
    - `metric`: the dev score (a key of `evaluate`'s answer, higher is better) that picks the best epoch.
    - `load_splits`, `build_vocabularies`, `training_batches`, `build_head`, `evaluate`: see each method.

    Declarations (plain data, looked up by the modules that own what they name):

    - `predictor`: the name of the class in seqkit.predict that loads and serves this task's run dirs ("Tagger",
      "Reader", "Classifier", "Translator", "Summarizer", "LanguageModel"). That class's `load` accepts a run dir
      of any task that names it and refuses other run dirs in one line.
    - `endpoint`: where `seqkit serve` answers (an HttpEndpoint), or None for a task that is not served.
    - `exporter`: the ONNX exporter in seqkit.export ("tagger", "classifier", "seq2seq"), or None; then
      `export_refusal` says in one line why `seqkit export` refuses the task's run dirs.
    - `demo_view`: how the demo page draws one answer ("tagged", "classified", "generated", "answered",
      "scored"; the views of seqkit/serving/static/demo.js). `demo_placeholder` is the example shown in its
      empty text box.
    - `verbs`: the CLI commands that read this task's run dirs besides train, evaluate, serve, export and pack
      (for help and docs).

    Optional members, asked for with getattr where they are used:

    - `build_model(recipe, vocabularies) -> nn.Module`: a task whose model is not the shared encoder plus a head
      (the memory network) builds the whole model itself; seqkit/model.py then never calls `build_head`.
    - `encoder_features`: the encoders (names in seqkit.encoders.ENCODERS) that `encoder.features` may list, for
      a task that cannot feed the others (seq2seq batches carry subword ids only; the memory network embeds
      words itself); seqkit/model.py refuses any other in one line that names the accepted ones.
    - `settle_settings(recipe, train) -> (recipe, note)`: the recipe with the settings it leaves to the training
      data (`auto` values) chosen from the training examples, before anything is built from it, and a line
      saying what was chosen (or None); config.yaml then holds the chosen values.
    - `refit_refusal`: why `train.refit` cannot serve the task (its training depends on scoring dev), refused in
      one line before anything is written.
    - `report(scores) -> str`: a readable table that `seqkit evaluate` prints instead of the JSON scores.
    - `download(data, folder)`: fetch the data set when the data folder lacks it.

    What the predictor named by `predictor` calls on the task, beyond the members above:

    - Tagger and Reader: `predict(model, recipe, vocabularies, examples, batch_size)`.
    - Classifier: `documents(recipe, texts, field, sources)` (texts to token lists), `predict(model, recipe,
      vocabularies, documents, batch_size)` (class probabilities) and `batches(recipe, vocabularies, documents,
      batch_size)` (for explanations).
    - Translator and Summarizer: nothing; seqkit/tasks/generation.py generates for every seq2seq task.
    - LanguageModel: `tokenize(recipe, text)`, `log_probabilities(model, recipe, vocabularies, token_lists)` (per
      sentence, each prediction's log-probability) and `sample(model, recipe, vocabularies, prompt, words,
      temperature, generator)` (the words drawn and whether the sentence ended).
    """

    name: ClassVar[str]
    default_recipe: ClassVar[str]
    data_config: ClassVar[type]
    head_config: ClassVar[type]
    metric: ClassVar[str]

    predictor: ClassVar[str]
    endpoint: ClassVar[HttpEndpoint | None]
    exporter: ClassVar[str | None]
    export_refusal: ClassVar[str | None]
    demo_view: ClassVar[str]
    demo_placeholder: ClassVar[str]
    verbs: ClassVar[tuple[str, ...]]

    def load_splits(self, recipe: Recipe, data_dir: Path | None, splits: tuple[str, ...]) -> dict[str, list]:
        """The examples of each named split ("train", "valid", "test") from `data_dir` (or where the recipe's
        data set is found); a missing file is a DataNotFoundError naming it, a bad line a one-line error."""
        ...

    def build_vocabularies(self, recipe: Recipe, train: list) -> dict[str, Vocab]:
        """The vocabularies the model needs ("words" at least, for the shared encoder), from training examples
        only; they are written to the run dir's vocab/ and read back by every predictor."""
        ...

    def training_batches(self, recipe: Recipe, vocabularies: dict[str, Vocab], train: list) -> Any:
        """A function of the epoch (0-based) giving that epoch's batches (dicts of tensors), the same for the
        same epoch and seed, so that a resumed run sees exactly the batches an uninterrupted one would.

        A task whose head config has a `teacher` setting (slot filling's knowledge distillation) also takes the
        run it names, loaded by train() (seqkit/training/teacher.py), as the keyword `teacher`."""
        ...

    def build_head(self, recipe: Recipe, vocabularies: dict[str, Vocab], input_size: int) -> nn.Module:
        """The head over the shared encoder's vectors (`input_size` wide); it returns the loss and outputs."""
        ...

    def evaluate(self, model: nn.Module, recipe: Recipe, vocabularies: dict[str, Vocab], examples: list) -> dict:
        """Scores on `examples` (a dict holding `metric`), with the model in eval mode."""
        ...
