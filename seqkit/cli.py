"""The `seqkit` command: a thin skin over seqkit.api (training) and seqkit.predict (the predictors).

Every user-facing problem (a SeqkitError) is printed as one line on stderr with a non-zero exit status;
Ctrl-C during training saves a checkpoint and exits with status 130.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from seqkit.errors import SeqkitError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Neural sequence models on text.")

RecipeOption = Annotated[str | None, typer.Option("--recipe", "-r", help="Recipe name or YAML path.")]
DataOption = Annotated[Path | None, typer.Option("--data", help="Folder holding the dataset's raw files.")]
DeviceOption = Annotated[
    str, typer.Option("--device", help="auto (default: a GPU when there is one, else the CPU), cpu, cuda or cuda:N.")
]
SetOption = Annotated[
    list[str] | None, typer.Option("--set", help="Override a recipe value, e.g. --set train.epochs=5.")
]
QuantizeOption = Annotated[
    str | None,
    typer.Option("--quantize", help="Quantize the float model at load time for faster CPU inference: int8."),
]


@app.command()
def train(
    task: Annotated[str, typer.Argument(help="Task to train, e.g. slot-filling (see `seqkit list`).")],
    recipe: RecipeOption = None,
    data: DataOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run dir to write.")] = None,
    set_: SetOption = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out exactly.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a finished run in --out.")] = False,
    nproc: Annotated[
        int, typer.Option("--nproc", help="Train data-parallel in N processes (launches torchrun).")
    ] = 1,
    subtask: Annotated[
        str | None, typer.Option("--task", help="Sub-task (bAbI: 1..20 or all); sets data.task.")
    ] = None,
    size: Annotated[
        str | None, typer.Option("--size", help="Data size (bAbI: 1k or 10k); sets data.size.")
    ] = None,
    repeats: Annotated[
        int, typer.Option("--repeats", help="Train N seeds, keep the best on dev; all N go to repeats.json.")
    ] = 1,
    tensorboard: Annotated[
        bool, typer.Option("--tensorboard", help="Log scalars to RUN_DIR/tensorboard (needs tensorboard).")
    ] = False,
    device: DeviceOption = "auto",
    amp: Annotated[bool, typer.Option("--amp", help="Mixed precision on CUDA (sets train.amp).")] = False,
) -> None:
    """Train a model from a recipe and write a run dir (with curves.png when matplotlib is installed)."""
    import os

    from seqkit import api

    if nproc > 1 and "WORLD_SIZE" not in os.environ:
        raise typer.Exit(_launch_torchrun(nproc))

    overrides = list(set_ or [])
    overrides += [f"data.task={subtask}"] if subtask is not None else []
    overrides += [f"data.size={size}"] if size is not None else []
    overrides += ["train.amp=true"] if amp else []
    if repeats != 1:
        from seqkit.training.repeats import REPEATS_FILE, train_repeats

        if resume:
            raise SeqkitError("--repeats: re-run the command to continue a series; --resume is for one run")
        out = out if out is not None else api.default_run_dir(str(recipe or task))
        run_dir = train_repeats(task, recipe, data, out, overrides, repeats, overwrite=overwrite)
        summary = json.loads((run_dir / REPEATS_FILE).read_text())
        typer.echo(json.dumps({"run_dir": str(run_dir), **summary}, indent=2))
        return
    run_dir = api.train(
        task, recipe, data, out, overrides, resume=resume, overwrite=overwrite, tensorboard=tensorboard, device=device
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    typer.echo(json.dumps({"run_dir": str(run_dir), "dev": metrics["dev"]}, indent=2))


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run dir written by `seqkit train`.")],
    split: Annotated[str, typer.Option("--split", help="train, valid or test.")] = "test",
    data: DataOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
    device: DeviceOption = "auto",
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="A search setting for this evaluation: head.beam, head.length_penalty, "
                     "head.max_length_ratio, head.no_repeat_ngram (e.g. head.length_penalty=1.5)."),
    ] = None,
    ensemble: EnsembleOption = None,
) -> None:
    """Score a trained model on a split; the scores are also stored in the run dir's metrics.json."""
    from seqkit import api
    from seqkit.run_dirs.run_dir import read_recipe
    from seqkit.tasks import get_task

    scores = api.evaluate(run_dir, split, data, device, settings or [], ensemble or [])
    # Tasks with a readable report (bAbI's per-task error table) print it; --json gives the raw scores.
    report = getattr(get_task(read_recipe(run_dir).task), "report", None)
    typer.echo(report(scores) if report is not None and not as_json else json.dumps(scores, indent=2))


@app.command()
def tag(
    run_dir: Annotated[Path, typer.Argument(help="A slot-filling or NER run dir.")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to tag; --input or stdin lines when none.")] = None,
    input_file: Annotated[Path | None, typer.Option("--input", "-i", help="Texts, one a line (or stdin).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per text.")] = False,
    device: DeviceOption = "auto",
    quantize: QuantizeOption = None,
) -> None:
    """Tag texts with slots (and the intent): `token/TAG` per token, then the intent; one output line per text.

    An empty line gets an empty result (an empty line, or JSON without tokens), so output lines match input lines.
    """
    from seqkit.predict.tagger import TaggedText, Tagger

    tagger = Tagger.load(run_dir, device, quantize=quantize)
    # Stream in chunks: each chunk is tagged as one batch, and output appears as soon as it is ready.
    for chunk in _chunks((text for _, text in _texts_or_stdin(texts, input_file)), size=256):
        real = [text for text in chunk if text.strip()]
        tagged = iter(tagger.tag(real) if real else [])
        for text in chunk:
            result = next(tagged) if text.strip() else TaggedText(text, tokens=[], tags=[])
            if as_json:
                typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
            else:
                pairs = " ".join(f"{token}/{tag}" for token, tag in zip(result.tokens, result.tags, strict=True))
                intent = f"\t{result.intent} ({result.intent_probability:.3f})" if result.intent else ""
                typer.echo(f"{pairs}{intent}")


TextsArgument = Annotated[list[str] | None, typer.Argument(help="Texts; stdin lines when none.")]


@app.command()
def serve(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run dirs to serve; each is named by its folder.")],
    host: Annotated[str, typer.Option("--host", help="Address to bind; loopback unless you mean it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="SEQKIT_TOKEN", show_envvar=True,
            help="Require 'Authorization: Bearer TOKEN' on every endpoint (the demo page: open /#token=TOKEN).",
        ),
    ] = None,
) -> None:
    """Serve models over HTTP: JSON endpoints (/tag, ...), /health, /openapi.json and a demo page at /."""
    if token is not None and not token.strip():
        raise typer.BadParameter("the token is empty", param_hint="--token")
    try:
        from seqkit.serving.app import serve as run_server
    except ImportError as error:
        raise SeqkitError(f"seqkit serve needs the serve extra: pip install 'seqkit[serve]' ({error})") from None
    if host not in ("127.0.0.1", "localhost", "::1") and token is None:
        typer.echo(
            f"warning: serving on {host}, reachable from other machines, with no authentication; "
            "set a token with --token or SEQKIT_TOKEN",
            err=True,
        )
    run_server(run_dirs, host, port, token)


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A slot-filling, sentiment or seq2seq run dir.")],
    format_: Annotated[str, typer.Option("--format", help="Export format: onnx.")] = "onnx",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder to write (default RUN_DIR/export).")] = None,
) -> None:
    """Export a tagger, a classifier or a seq2seq model to ONNX (run with OnnxTagger, OnnxClassifier, OnnxGenerator)."""
    from seqkit.errors import ConfigError

    if format_ != "onnx":
        raise ConfigError(f"--format: unknown export format {format_!r} (choose from: onnx)")
    try:
        from seqkit.export import export_onnx
    except ImportError as error:
        raise SeqkitError(f"seqkit export needs the export extra: pip install 'seqkit[export]' ({error})") from None
    typer.echo(str(export_onnx(run_dir, out)))


def _launch_torchrun(processes: int) -> int:
    """Re-run this very command under torchrun with `processes` workers; returns their exit status."""
    import subprocess

    arguments = []
    skip = False
    for argument in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if argument == "--nproc":
            skip = True
            continue
        if not argument.startswith("--nproc="):
            arguments.append(argument)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
    return subprocess.call([*command, "-m", "seqkit", *arguments])


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


InputFileOption = Annotated[Path | None, typer.Option("--input", "-i", help="Texts, one a line (or stdin).")]
OutputFileOption = Annotated[Path | None, typer.Option("--output", help="Output file (default stdout).")]
BeamOption = Annotated[int | None, typer.Option("--beam", help="Beam size; 1 is greedy (default: recipe).")]
NBestOption = Annotated[int, typer.Option("--n-best", help="Outputs per text, as index, score, text.")]
BatchOption = Annotated[int, typer.Option("--batch-size", help="Texts decoded together.")]
AttentionOption = Annotated[
    Path | None,
    typer.Option("--attention", help="Draw each text's attention to this PNG (FILE-N.png for the N-th)."),
]


GenerationRunArgument = Annotated[
    Path, typer.Argument(help="A run dir: translation for `translate`, title generation for `summarize`.")
]
EnsembleOption = Annotated[
    list[Path] | None,
    typer.Option("--ensemble", help="Another run dir with the same vocabularies to decode together with RUN_DIR "
                 "(the mean of their next-word probabilities); repeat it for more."),
]


def _generation_command(predictor_name: str, summary: str):
    """One streaming command over a text-generation predictor (seqkit/predict/generation.py: Translator, Summarizer)."""

    def command(
        run_dir: GenerationRunArgument,
        input_file: InputFileOption = None,
        output_file: OutputFileOption = None,
        beam: BeamOption = None,
        n_best: NBestOption = 1,
        batch_size: BatchOption = 64,
        attention: AttentionOption = None,
        device: DeviceOption = "auto",
        quantize: QuantizeOption = None,
        ensemble: EnsembleOption = None,
    ) -> None:
        from seqkit.predict import generation

        predictor = getattr(generation, predictor_name)
        generator = predictor.load(run_dir, device, quantize=quantize, ensemble=ensemble or []).generator
        _stream(generator, input_file, output_file, beam, n_best, batch_size, attention)

    command.__doc__ = f"{summary}, streaming in batches (stdin to stdout unless --input/--output)."
    return command


app.command("translate")(_generation_command("Translator", "Translate one text per line"))
app.command("summarize")(_generation_command("Summarizer", "Write a title for each line of text"))


def _stream(generator, input_file, output_file, beam, n_best, batch_size, attention) -> None:
    """Read lines lazily, decode each full batch at once and flush it, so output follows input as it comes.

    An empty input line gives an empty output line, keeping the output aligned with the input.
    """
    from seqkit.errors import InputError

    if batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    source = open(input_file, encoding="utf-8") if input_file else sys.stdin
    target = open(output_file, "w", encoding="utf-8") if output_file else sys.stdout
    count = line_number = 0
    try:
        pending: list[str] = []
        for line in source:
            line_number += 1
            pending.append(line.rstrip("\r\n"))
            if len(pending) == batch_size:
                count = _flush(generator, pending, target, beam, n_best, attention, count, batch_size)
                pending = []
        if pending:
            count = _flush(generator, pending, target, beam, n_best, attention, count, batch_size)
    except UnicodeDecodeError:
        where = input_file or "stdin"
        raise InputError(f"{where}:{line_number + 1}: not UTF-8 text") from None
    finally:
        if input_file:
            source.close()
        if output_file:
            target.close()


def _flush(generator, lines, target, beam, n_best, attention, count, batch_size) -> int:
    from seqkit.viz.attention import plot_attention

    real = [index for index, line in enumerate(lines) if line.strip()]
    found = generator.generate([lines[i] for i in real], beam, n_best, attention is not None, batch_size)
    outputs: list[list] = [[] for _ in lines]
    for index, hypotheses in zip(real, found, strict=True):
        outputs[index] = hypotheses
    for offset, hypotheses in enumerate(outputs):
        number = count + offset + 1
        if n_best == 1:
            target.write((hypotheses[0].text if hypotheses else "") + "\n")
        else:
            for hypothesis in hypotheses:
                target.write(f"{number - 1}\t{hypothesis.score:.4f}\t{hypothesis.text}\n")
        if attention is not None and hypotheses:
            numbered = attention.with_name(f"{attention.stem}-{number}{attention.suffix}")
            path = attention if number == 1 else numbered
            plot_attention(hypotheses[0], path)
    target.flush()
    return count + len(lines)


@app.command()
def answer(
    run_dir: Annotated[Path, typer.Argument(help="A bAbI run dir.")],
    story: Annotated[
        Path | None, typer.Option("--story", help="Story file: a sentence per line (bAbI ids allowed).")
    ] = None,
    question: Annotated[
        str | None, typer.Option("--question", "-q", help="Question to answer about the story.")
    ] = None,
    support: Annotated[
        str | None, typer.Option("--support", help="Supporting sentence numbers to mark, e.g. 1,3.")
    ] = None,
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="Read sentences and questions (with ?) from stdin.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per answer.")] = False,
    quantize: QuantizeOption = None,
) -> None:
    """Answer questions about a story and show where each hop of the memory network looked."""
    from seqkit.tasks.babi_answering import answer_command

    answer_command(run_dir, story, question, support, interactive, as_json, quantize)


@app.command()
def classify(
    run_dir: Annotated[Path, typer.Argument(help="A sentiment (document classification) run dir.")],
    texts: TextsArgument = None,
    input_file: Annotated[Path | None, typer.Option("--input", "-i", help="Texts, one a line (or stdin).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON per text, with probabilities.")] = False,
    device: DeviceOption = "auto",
    quantize: QuantizeOption = None,
) -> None:
    """Classify texts: the label and its probability per text (tab-separated), or JSON.

    An empty line gets an empty result (an empty line, or JSON with label null), so output lines match input lines.
    """
    from seqkit.predict.classifier import Classifier

    classifier = Classifier.load(run_dir, device, quantize=quantize)
    failures = 0
    for where, text in _texts_or_stdin(texts, input_file):
        if not text.strip():
            empty = {"text": text, "label": None, "probability": None, "probabilities": {}}
            typer.echo(json.dumps(empty, ensure_ascii=False) if as_json else "")
            continue
        try:
            (result,) = classifier.classify([text])
        except SeqkitError as error:
            typer.echo(f"error: {where}: {error}", err=True)
            failures += 1
            continue
        if as_json:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            typer.echo(f"{result.label}\t{result.probability:.3f}\t{text}")
    if failures:
        raise typer.Exit(1)


@app.command()
def explain(
    run_dir: Annotated[Path, typer.Argument(help="A sentiment (document classification) run dir.")],
    texts: TextsArgument = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per text.")] = False,
    color: Annotated[
        bool | None, typer.Option("--color/--no-color", help="Colour tokens (default: on a terminal).")
    ] = None,
) -> None:
    """Show which words drove each decision: green for the predicted label, red against (gradient x input)."""
    from seqkit.predict.classifier import Classifier
    from seqkit.viz.explain import colorize

    classifier = Classifier.load(run_dir)
    for where, text in _texts_or_stdin(texts):
        if not text.strip():
            raise typer.BadParameter(f"{where}: empty text, nothing to explain")
        (result,) = classifier.explain([text])
        if as_json:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
            continue
        typer.echo(f"{result.label} ({result.probability:.3f})", color=color)
        if color or (color is None and sys.stdout.isatty()):
            typer.echo(colorize(result.tokens, result.contributions), color=True)
        else:
            pairs = zip(result.tokens, result.contributions, strict=True)
            typer.echo(" ".join(f"{token}[{score:+.3f}]" for token, score in pairs))
        ranked = sorted(zip(result.contributions, result.tokens, strict=True), reverse=True)
        typer.echo("for:     " + ", ".join(f"{t} {s:+.3f}" for s, t in ranked[:5] if s > 0))
        typer.echo("against: " + ", ".join(f"{t} {s:+.3f}" for s, t in ranked[::-1][:5] if s < 0))
        if result.attention is not None:
            top = sorted(zip(result.attention, result.tokens, strict=True), reverse=True)[:5]
            typer.echo("attention: " + ", ".join(f"{t} {w:.3f}" for w, t in top))


@app.command()
def score(
    run_dir: Annotated[Path, typer.Argument(help="A language-model run dir.")],
    texts: TextsArgument = None,
    input_file: InputFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON per text, with each token's log-probability.")] = False,
    device: DeviceOption = "auto",
) -> None:
    """Score sentences with a language model: log-probability (natural log) and perplexity per text, tab-separated.

    An empty line gets an empty result (an empty line, or JSON with log_probability null), so output lines match
    input lines.
    """
    from seqkit.predict.language_model import LanguageModel

    language_model = LanguageModel.load(run_dir, device)
    for chunk in _chunks(_texts_or_stdin(texts, input_file), size=256):
        # A line that is not blank always holds a token (any mark is one), so only blank lines go unscored.
        real = [text for _, text in chunk if text.strip()]
        scored = iter(language_model.score(real) if real else [])
        for _, text in chunk:
            if not text.strip():
                empty = {"text": text, "tokens": [], "log_probability": None, "perplexity": None}
                typer.echo(json.dumps(empty, ensure_ascii=False) if as_json else "")
                continue
            result = next(scored)
            if as_json:
                typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
            else:
                typer.echo(f"{result.log_probability:.4f}\t{result.perplexity:.2f}\t{text}")


@app.command()
def sample(
    run_dir: Annotated[Path, typer.Argument(help="A language-model run dir.")],
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="The words to continue.")],
    words: Annotated[int, typer.Option("--words", "-n", help="Words to draw at most (stops at a sentence end).")] = 20,
    temperature: Annotated[
        float, typer.Option("--temperature", help="Below 1 sharpens the draws, above 1 flattens them.")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="The same seed draws the same words.")] = 0,
    count: Annotated[int, typer.Option("--count", help="Samples to draw, with seeds seed, seed + 1, ...")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per sample.")] = False,
    device: DeviceOption = "auto",
) -> None:
    """Continue a prompt with words drawn from a language model, one sample per line."""
    from seqkit.errors import InputError
    from seqkit.predict.language_model import LanguageModel

    if count < 1:
        raise InputError(f"--count: expected at least 1, got {count}")
    language_model = LanguageModel.load(run_dir, device)
    for offset in range(count):
        drawn = language_model.sample(prompt, words, temperature, seed + offset)
        typer.echo(json.dumps(drawn.to_json(), ensure_ascii=False) if as_json else drawn.text)


def _texts_or_stdin(texts: list[str] | None, input_file: Path | None = None) -> Iterator[tuple[str, str]]:
    """(where, text) pairs: the arguments, or else each line of `input_file` or stdin, read lazily as it comes.

    Lines are decoded here, strictly as UTF-8, whatever the locale: a line that is not is a one-line InputError
    naming it (`stdin:3`), never a traceback or text with undecodable bytes passed on.
    """
    from seqkit.errors import InputError

    if texts:
        yield from ((f"argument {number}", text) for number, text in enumerate(texts, start=1))
        return
    name = str(input_file) if input_file else "stdin"
    try:
        source = open(input_file, "rb") if input_file else sys.stdin.buffer
    except OSError as error:
        raise InputError(f"--input {input_file}: {error.strerror}") from None
    try:
        for number, line in enumerate(source, start=1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(f"{name}:{number}: not UTF-8 text") from None
            yield f"{name}:{number}", text.rstrip("\r\n")
    finally:
        if input_file:
            source.close()


@app.command()
def validate(recipe: Annotated[str, typer.Argument(help="Recipe name or YAML path.")], set_: SetOption = None) -> None:
    """Check a recipe strictly (unknown keys, wrong types, unknown names) and print it resolved."""
    import yaml

    from seqkit import api
    from seqkit.config import to_dict
    from seqkit.encoders import needed_features
    from seqkit.registry import lookup

    config = api.load_recipe(None, recipe, set_ or [])
    needed_features(config.encoder)  # unknown encoder names fail here
    from seqkit.layers.cells import CELLS

    lookup(CELLS, config.rnn.cell, "recurrent cell", "rnn.cell")
    typer.echo(yaml.safe_dump(to_dict(config), sort_keys=False).rstrip())
    typer.echo(f"ok: {recipe} is a valid {config.task} recipe", err=True)


@app.command(name="list")
def list_components() -> None:
    """List tasks, encoders, recurrent cells and recipes."""
    from seqkit.config import recipe_folder
    from seqkit.encoders import ENCODERS
    from seqkit.layers.cells import CELLS
    from seqkit.tasks import TASKS

    # Each task with its default recipe and the commands that read its run dirs (besides train, evaluate, ...).
    tasks = (
        f"{name} (default recipe {task.default_recipe}; {', '.join(task.verbs)})" for name, task in TASKS.items()
    )
    typer.echo("tasks:    " + ", ".join(tasks))
    typer.echo("encoders: " + ", ".join(ENCODERS))
    typer.echo("cells:    " + ", ".join(f"{name} ({source})" for name, source in CELLS.items()))
    typer.echo("recipes:  " + ", ".join(sorted(p.stem for p in recipe_folder().glob("*.yaml"))))


@app.command()
def pack(
    run_dir: Annotated[Path, typer.Argument(help="A run dir (or a packed file, or a hub repo id owner/name).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: the run dir's name + .seqkit, here).")
    ] = None,
) -> None:
    """Pack a model's weights, config and vocabularies into one .seqkit file that every command loads."""
    from seqkit.run_dirs.packing import pack_run_dir

    typer.echo(str(pack_run_dir(run_dir, out)))


def _show_version(value: bool) -> None:
    if value:
        from seqkit.version import __version__

        typer.echo(f"seqkit {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Neural sequence models on text."""


def _click_exit_status(error: Exception) -> int | None:
    """The exit status of one of click's own exceptions (a usage error, Exit, Abort), its message printed as one
    line; None for any other exception.

    typer up to 0.2x raises the exceptions of click, later versions those of the copy of click they bundle
    (typer._click), so the two are told apart by module and handled through the attributes both copies share.
    """
    if type(error).__module__.split(".")[0] not in ("click", "typer"):
        return None
    name = type(error).__name__
    if name == "Abort":  # Ctrl-C or end of input at a prompt, under click versions that do not raise Exit(130)
        interrupted = isinstance(error.__cause__, KeyboardInterrupt)
        typer.echo("interrupted" if interrupted else "aborted", err=True)
        return 130 if interrupted else 1
    status = getattr(error, "exit_code", None)
    if not isinstance(status, int):
        return None
    if name == "NoArgsIsHelpError":  # a bare `seqkit` or `seqkit tag`: its help is the message
        error.show()
    elif hasattr(error, "format_message"):
        context = getattr(error, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        typer.echo(f"error: {error.format_message().rstrip('.')}{hint}", err=True)
    return status


def main() -> None:
    from seqkit.errors import TrainingInterrupted

    try:
        # Outside standalone mode click returns a command's `typer.Exit(code)` instead of exiting with it.
        status = app(standalone_mode=False)
        if isinstance(status, int) and status != 0:
            sys.exit(status)
    except TrainingInterrupted as error:
        typer.echo(f"interrupted: {error}", err=True)
        sys.exit(130)
    except SeqkitError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as error:  # click's own usage errors arrive here in standalone_mode=False
        status = _click_exit_status(error)
        if status is None:
            raise
        sys.exit(status)


if __name__ == "__main__":
    main()
