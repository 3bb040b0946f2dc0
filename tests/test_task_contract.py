"""The contract every task in TASKS keeps, checked for each on tiny data: it declares everything the rest of seqkit
asks (and each declaration names something that exists); it trains two short epochs and saves a run dir; the
seqkit.predict predictor it names loads that run dir, and the API, the CLI and the HTTP server give equal answers;
`seqkit export` exports it or refuses in one line; an interrupted run resumes exactly.

Parametrised over TASKS, so a new task is covered as soon as it is registered: until TINY_RUNS below says how to
train it on tiny data, its tests fail saying so. How a predictor is asked (ASK) is keyed by predictor, so a new
task served by an existing predictor needs nothing more. And no module outside seqkit/tasks/ may write a task's
name: the last tests read the package's source for them.
"""

from __future__ import annotations

import ast
import json
import os
import random
import re
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import seqkit
from seqkit import api
from seqkit.cli import app
from seqkit.config import find_recipe, read_yaml
from seqkit.errors import RunDirError, SeqkitError, TrainingInterrupted
from seqkit.export import EXPORTERS
from seqkit.predict.classifier import Classifier
from seqkit.predict.registry import PREDICTORS, predictor_of
from seqkit.predict.tagger import Tagger
from seqkit.run_dirs.checkpoint import load_tensors
from seqkit.serving.app import create_app, load_models
from seqkit.serving.endpoints import ENDPOINTS, SCHEMAS
from seqkit.tasks import TASKS, Task, tasks_served_by

from conftest import ANIMALS as ANIMAL_WORDS
from conftest import DATA, TINY_ATIS, TINY_SEQ2SEQ, write_animal_pairs, write_recipe, write_tiny_task1

PACKAGE = Path(seqkit.__file__).parent
DEMO_SCRIPT = PACKAGE / "serving" / "static" / "demo.js"
# Two epochs each (the interrupted run stops after the first step of the second), sized to train in a second or so.
EPOCHS = 2


# ---- how each task trains on tiny data ------------------------------------------------------------------------
@dataclass(frozen=True)
class TinyRun:
    """Arguments of api.train for a tiny run of one task: the recipe (a name or a path), the data folder, overrides."""

    recipe: str | Path
    data: Path
    overrides: tuple[str, ...] = ()


def tiny_slot_filling(folder: Path) -> TinyRun:
    return TinyRun(write_recipe(folder, train={"epochs": EPOCHS}), TINY_ATIS)


def tiny_babi(folder: Path) -> TinyRun:
    overrides = ("data.task=1", "head.embedding_size=8", f"train.epochs={EPOCHS}", "train.batch_size=8",
                 "head.linear_start=false", "train.threads=1")
    return TinyRun("babi_1k", write_tiny_task1(folder / "babi"), overrides)


def tiny_sentiment(folder: Path) -> TinyRun:
    # A recipe of its own rather than recipes/my_texts.yaml, whose tuned settings may change.
    recipe = {
        "task": "sentiment",
        "seed": 13,
        "data": {"dataset": "my_texts", "train": "train.tsv", "valid": None, "test": "test.tsv",
                 "valid_fraction": 0.2},
        "encoder": {"features": ["embedding", "word_bigram"], "embedding_size": 8, "bigram_buckets": 1000,
                    "bigram_size": 8, "min_freq": 1},
        "head": {"context": "none", "pooling": "mean", "dropout": 0.2},
        "train": {"epochs": EPOCHS, "batch_size": 4, "learning_rate": 0.02, "threads": 1},
    }
    path = folder / "sentiment.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return TinyRun(path, DATA / "my_texts")


def tiny_translation(folder: Path) -> TinyRun:
    names = {split: (f"{split}.src", f"{split}.tgt") for split in ("train", "valid", "test")}
    data = write_animal_pairs(folder, names, lambda words: " ".join(reversed(words)))
    overrides = ("data.file_pattern={split}.{lang}", "data.src_lang=src", "data.tgt_lang=tgt", "data.valid=valid",
                 "data.test=test", "data.subwords.vocab_size=null", *TINY_SEQ2SEQ, f"train.epochs={EPOCHS}")
    return TinyRun("multi30k_de_en", data, overrides)


def tiny_title_generation(folder: Path) -> TinyRun:
    names = {split: (f"{split}.article.txt", f"{split}.title.txt") for split in ("train", "valid", "test")}
    data = write_animal_pairs(folder, names, lambda words: " ".join(words[:2]))
    files = [f"data.{split}_{side}={split}.{name}.txt" for split in ("train", "valid", "test")
             for side, name in (("source", "article"), ("target", "title"))]
    overrides = (*files, "head.copy=true", "encoder.min_freq=1", *TINY_SEQ2SEQ, f"train.epochs={EPOCHS}")
    return TinyRun("gigaword", data, overrides)


def tiny_language_model(folder: Path) -> TinyRun:
    # Sentences of three animals in the tiny translations' style; 16 make 4 steps of 4 per epoch.
    generator = random.Random(1)
    for split, count in (("train", 16), ("valid", 4), ("test", 4)):
        lines = (" ".join(generator.choice(ANIMAL_WORDS) for _ in range(3)) for _ in range(count))
        (folder / f"{split}.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    overrides = ("data.train=train.txt", "data.valid=valid.txt", "data.test=test.txt", "encoder.embedding_size=8",
                 "encoder.min_freq=1", "rnn.hidden_size=8", "train.batch_size=4", "train.warmup_steps=0",
                 f"train.epochs={EPOCHS}", "train.threads=1")
    return TinyRun("language_model", folder, overrides)


# The one place in the tests that pairs task names with tiny data; a task missing here fails its contract tests.
TINY_RUNS: dict[str, Callable[[Path], TinyRun]] = {
    "slot-filling": tiny_slot_filling,
    "babi": tiny_babi,
    "sentiment": tiny_sentiment,
    "translation": tiny_translation,
    "title-generation": tiny_title_generation,
    "language-model": tiny_language_model,
}


def train(task_name: str, folder: Path, out: Path, resume: bool = False) -> Path:
    """Train the task's tiny run (its data written under `folder`) into `out`; or resume the run in `out`."""
    if task_name not in TINY_RUNS:
        pytest.fail(f"task {task_name!r} has no tiny run: add one to TINY_RUNS in {Path(__file__).name}")
    folder.mkdir(parents=True, exist_ok=True)
    tiny = TINY_RUNS[task_name](folder)
    if resume:
        return api.train(None, data_dir=tiny.data, out=out, resume=True, show_progress=False)
    return api.train(task_name, tiny.recipe, data_dir=tiny.data, out=out, overrides=list(tiny.overrides),
                     show_progress=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Callable[[str], Path]:
    """The tiny run dir of a task, trained once per module (named `tiny-<task>`, the served model's name)."""
    runs: dict[str, Path] = {}

    def run_dir(task_name: str) -> Path:
        if task_name not in runs:
            folder = tmp_path_factory.mktemp("contract")
            runs[task_name] = train(task_name, folder / "data", folder / f"tiny-{task_name}")
        return runs[task_name]

    return run_dir


# ---- how each predictor is asked, through the API, the CLI and the HTTP server ---------------------------------
TEXT = "show me flights from boston to denver"
REVIEW = "A warm, funny and moving film."
ANIMALS = "ant bee cat"
STORY = ["Mary went to the kitchen.", "John went to the garden.", "Mary went to the office."]
QUESTION = "Where is Mary?"


def generated_json(text: str, generated) -> dict:
    """One generated output as the server answers it (attention rounded to 4 decimals)."""
    attention = [[round(weight, 4) for weight in row] for row in generated.attention.tolist()]
    return {"text": text, "output": generated.text, "tokens": generated.tokens,
            "source_tokens": generated.source_tokens, "score": generated.score, "attention": attention}


@dataclass(frozen=True)
class Ask:
    """One input put to a predictor three ways. `api` answers as the server would (a JSON value); `cli` gives the
    command's arguments after the run dir (and its stdin), `from_cli` reads the printed answer back, and `shown`
    picks out of the API's answer what the CLI prints; `body` is the HTTP request."""

    api: Callable[[object], dict]
    cli: Callable[[Path], tuple[list[str], str | None]]
    from_cli: Callable[[str], object]
    shown: Callable[[dict], object]
    body: dict


def story_file(folder: Path) -> Path:
    path = folder / "story.txt"
    path.write_text("\n".join(STORY) + "\n", encoding="utf-8")
    return path


def without_gold(line: str) -> dict:
    answer = json.loads(line)
    del answer["gold"], answer["supports"]  # only the CLI's story files carry gold answers
    return answer


ASK: dict[str, Ask] = {
    "Tagger": Ask(
        api=lambda tagger: tagger.tag(TEXT).to_json(),
        cli=lambda folder: (["tag", "--json", TEXT], None),
        from_cli=json.loads,
        shown=lambda answer: answer,
        body={"texts": [TEXT]},
    ),
    "Classifier": Ask(
        api=lambda classifier: classifier.classify([REVIEW])[0].to_json(),
        cli=lambda folder: (["classify", "--json", REVIEW], None),
        from_cli=json.loads,
        shown=lambda answer: answer,
        body={"texts": [REVIEW]},
    ),
    "Translator": Ask(
        api=lambda translator: generated_json(ANIMALS, translator.translate([ANIMALS], with_attention=True)[0]),
        cli=lambda folder: (["translate"], ANIMALS + "\n"),
        from_cli=str.strip,
        shown=lambda answer: answer["output"],
        body={"texts": [ANIMALS]},
    ),
    "Summarizer": Ask(
        api=lambda summarizer: generated_json(ANIMALS, summarizer.summarize([ANIMALS], with_attention=True)[0]),
        cli=lambda folder: (["summarize"], ANIMALS + "\n"),
        from_cli=str.strip,
        shown=lambda answer: answer["output"],
        body={"texts": [ANIMALS]},
    ),
    "Reader": Ask(
        api=lambda reader: reader.answer(STORY, QUESTION).to_json(),
        cli=lambda folder: (["answer", "--story", str(story_file(folder)), "--question", QUESTION, "--json"], None),
        from_cli=without_gold,
        shown=lambda answer: answer,
        body={"questions": [{"story": STORY, "question": QUESTION}]},
    ),
    "LanguageModel": Ask(
        api=lambda language_model: language_model.score([ANIMALS])[0].to_json(),
        cli=lambda folder: (["score", "--json", ANIMALS], None),
        from_cli=json.loads,
        shown=lambda answer: answer,
        body={"texts": [ANIMALS]},
    ),
}


def plain(value):
    """A value as JSON gives it back, so that tuples and lists, and floats printed and parsed, compare equal."""
    return json.loads(json.dumps(value))


# ---- the declarations ----------------------------------------------------------------------------------------
def demo_views() -> set[str]:
    """The view names that demo.js draws: the keys of its `views` object."""
    script = DEMO_SCRIPT.read_text(encoding="utf-8")
    block = script[script.index("const views = {") : script.index("\n};", script.index("const views = {"))]
    return set(re.findall(r"^  (\w+): \{", block, flags=re.MULTILINE))


def cli_commands() -> set[str]:
    return {command.name or command.callback.__name__ for command in app.registered_commands}


@pytest.mark.parametrize("task_name", list(TASKS))
def test_the_task_declares_everything_and_each_declaration_names_something_real(task_name):
    task = TASKS[task_name]
    assert isinstance(task, Task)  # every member of the protocol is there
    assert task.name == task_name
    assert read_yaml(find_recipe(task.default_recipe))["task"] == task_name
    assert task.predictor in PREDICTORS and task.predictor in ASK
    assert predictor_of(task_name) is PREDICTORS[task.predictor]
    if task.endpoint is not None:
        assert task.endpoint.path.startswith("/") and task.endpoint.summary
        assert task.endpoint.schema in SCHEMAS
        assert ENDPOINTS[task_name].path == task.endpoint.path
    if task.exporter is None:
        assert task.export_refusal and "\n" not in task.export_refusal
    else:
        assert task.exporter in EXPORTERS
    assert task.demo_view in demo_views()
    assert task.demo_placeholder.strip()
    assert task.verbs and set(task.verbs) <= cli_commands()


def test_no_two_tasks_answer_on_one_path():
    paths = [task.endpoint.path for task in TASKS.values() if task.endpoint is not None]
    assert len(paths) == len(set(paths))


# ---- train, save, load, predict three ways ---------------------------------------------------------------------
@pytest.mark.parametrize("task_name", list(TASKS))
def test_the_api_the_cli_and_the_server_answer_alike(task_name, trained, tmp_path):
    run_dir = trained(task_name)
    task = TASKS[task_name]
    assert (run_dir / "model.safetensors").is_file() and (run_dir / "config.yaml").is_file()
    ask = ASK[task.predictor]
    predictor = predictor_of(task_name).load(run_dir, "cpu")
    expected = plain(ask.api(predictor))

    arguments, stdin = ask.cli(tmp_path)
    command, *options = arguments
    result = CliRunner().invoke(app, [command, str(run_dir), *options], input=stdin)
    assert result.exit_code == 0, result.output
    assert plain(ask.from_cli(result.stdout)) == plain(ask.shown(expected))

    if task.endpoint is None:
        return
    with TestClient(create_app(load_models([run_dir]))) as client:
        described = client.get("/models").json()
        assert described == [{"name": run_dir.name, "task": task_name, "endpoint": task.endpoint.path,
                               "view": task.demo_view, "placeholder": task.demo_placeholder}]
        reply = client.post(task.endpoint.path, json=ask.body)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"model": run_dir.name, "results": [expected]}


@pytest.mark.parametrize("task_name", list(TASKS))
def test_every_other_predictor_refuses_the_run_dir_in_one_line(task_name, trained):
    run_dir = trained(task_name)
    serving = TASKS[task_name].predictor
    for name, predictor in PREDICTORS.items():
        if name == serving:
            continue
        with pytest.raises(RunDirError) as refused:
            predictor.load(run_dir, "cpu")
        message = str(refused.value)
        assert "\n" not in message and f"holds a {task_name!r} model" in message
        assert message.endswith(f"load it with seqkit.{serving}")


# ---- export ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task_name", list(TASKS))
def test_export_writes_onnx_graphs_or_refuses_in_one_line(task_name, trained, tmp_path):
    import onnx

    task = TASKS[task_name]
    out = tmp_path / "onnx"
    result = CliRunner().invoke(app, ["export", str(trained(task_name)), "--out", str(out)])
    if result.exit_code != 0:
        # A task without an exporter is refused with its own reason; an exporter may refuse a model it cannot
        # express (copy attention, a recurrent classifier, a pretrained encoder), naming the setting at fault.
        assert isinstance(result.exception, SeqkitError), result.output
        message = str(result.exception)
        assert "\n" not in message
        if task.exporter is None:
            assert message.endswith(task.export_refusal)
        else:
            assert re.match(r"[a-z_]+\.[a-z_]+: ", message), message  # the recipe key, as config errors name it
        assert not any(out.glob("*.onnx"))
        return
    assert task.exporter is not None
    graphs = sorted(out.glob("*.onnx"))
    assert graphs
    for graph in graphs:
        onnx.checker.check_model(onnx.load(graph))


# ---- exact resume ----------------------------------------------------------------------------------------------
def interrupting_build(monkeypatch, at_call: int) -> None:
    """Make the next model built deliver a real SIGINT to this process on its `at_call`-th training forward: what
    Ctrl-C does (the trainer finishes that step, saves a checkpoint and raises TrainingInterrupted)."""
    import seqkit.model

    original = seqkit.model.build_model

    def build_model(recipe, vocabularies):
        model = original(recipe, vocabularies)
        forward = model.forward  # an instance attribute below, so the weights' names stay as they are
        calls = 0

        def counted(*arguments, **keywords):
            nonlocal calls
            if model.training:
                calls += 1
                if calls == at_call:
                    os.kill(os.getpid(), signal.SIGINT)
            return forward(*arguments, **keywords)

        model.forward = counted
        return model

    monkeypatch.setattr(seqkit.model, "build_model", build_model)


def log_records(run_dir: Path) -> list[dict]:
    lines = (run_dir / "log.jsonl").read_text().splitlines()
    timings = ("seconds", "peak_rss_mib")
    return [{key: value for key, value in json.loads(line).items() if key not in timings} for line in lines]


@pytest.mark.parametrize("task_name", list(TASKS))
def test_an_interrupted_run_resumes_exactly(task_name, trained, tmp_path, monkeypatch):
    straight = trained(task_name)
    expected_log = log_records(straight)
    assert len(expected_log) == EPOCHS
    steps_in_first_epoch = expected_log[0]["step"]
    assert expected_log[1]["step"] - steps_in_first_epoch >= 2  # so that the stop falls inside epoch 2

    out = tmp_path / "interrupted"
    interrupting_build(monkeypatch, at_call=steps_in_first_epoch + 1)
    with pytest.raises(TrainingInterrupted, match="--resume") as stopped:
        train(task_name, tmp_path / "data", out)
    assert f"step {steps_in_first_epoch + 1}" in str(stopped.value)  # the step in flight finished first
    monkeypatch.undo()
    assert len(log_records(out)) == 1  # epoch 1 finished, epoch 2 was cut after its first step
    train(task_name, tmp_path / "data", out, resume=True)

    assert log_records(out) == expected_log
    final = load_tensors(out / "model.safetensors")
    expected = load_tensors(straight / "model.safetensors")
    assert sorted(final) == sorted(expected)
    for name, tensor in expected.items():
        assert tensor.equal(final[name]), name
    assert json.loads((out / "metrics.json").read_text())["dev"] == json.loads(
        (straight / "metrics.json").read_text()
    )["dev"]


# ---- a predictor serves any task that names it -----------------------------------------------------------------
def test_the_classifier_serves_any_task_that_names_it(trained, tmp_path, monkeypatch):
    # A second classification task (a classifying task's class under another name) loads through Classifier.
    classifying = next(name for name, task in TASKS.items() if task.predictor == "Classifier")
    source = trained(classifying)
    other = type(TASKS[classifying])()
    monkeypatch.setattr(other, "name", "reviews", raising=False)
    monkeypatch.setitem(TASKS, "reviews", other)
    copy = tmp_path / "reviews"
    shutil.copytree(source, copy)
    config = yaml.safe_load((copy / "config.yaml").read_text())
    config["task"] = "reviews"
    (copy / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    assert Classifier.load(copy, "cpu").classify([REVIEW]) == Classifier.load(source, "cpu").classify([REVIEW])
    tagging = " or ".join(f"a {name!r} model" for name in tasks_served_by("Tagger"))
    message = f"holds a 'reviews' model, not {tagging}; load it with seqkit.Classifier"
    with pytest.raises(RunDirError, match=f"{re.escape(message)}$"):
        Tagger.load(copy, "cpu")


# ---- no task name outside seqkit/tasks/ ------------------------------------------------------------------------
def task_names_in_python(path: Path) -> list[str]:
    """Every string constant of a module that is a task's name, as `path:line: 'name'`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in TASKS]


def task_names_in_script(text: str, where: str) -> list[str]:
    """Quoted strings and object keys (`babi:`) of a script or page that are task names; `//` comments are prose."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("//", 1)[0]
        for name in TASKS:
            quoted = re.search(rf"([\"'`]){re.escape(name)}\1", code)
            key = re.search(rf"(^|[{{,\s]){re.escape(name)}\s*:", code)
            if quoted or key:
                found.append(f"{where}:{number}: {name!r}")
    return found


def test_no_module_outside_the_tasks_writes_a_task_name():
    tasks_folder = PACKAGE / "tasks"
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        if tasks_folder in path.parents or not path.is_file():
            continue
        if path.suffix == ".py":
            found += task_names_in_python(path)
        elif path.suffix in (".js", ".html"):
            found += task_names_in_script(path.read_text(encoding="utf-8"), str(path))
    assert found == []


@pytest.mark.parametrize("task_name", list(TASKS))
def test_the_name_finder_finds_quoted_names_and_keys_but_not_prose(task_name):
    script = f'const a = {{ "{task_name}": 1 }};\nconst b = {{ {task_name}: 1 }};\n// a {task_name}: model\n'
    found = task_names_in_script(script, "sample.js")
    assert [line.rsplit(": ", 1)[0] for line in found] == ["sample.js:1", "sample.js:2"]
