"""The Python API: train and evaluate from recipes, and predictors loaded from run dirs.

The CLI (seqkit/cli.py) calls exactly these functions, so the shell and Python always agree.

    run_dir = seqkit.api.train("slot-filling", recipe="atis")
    tagger = seqkit.Tagger.load(run_dir)
    tagger.tag(["show me flights from boston to denver"])
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self

import torch

from seqkit.config import Recipe, apply_overrides, build_recipe, find_recipe, read_yaml, to_dict
from seqkit.errors import ConfigError, DataNotFoundError, InputError, RunDirError
from seqkit.registry import lookup
from seqkit.run_dirs.run_dir import (
    RunLock,
    finish_run,
    finished_without_checkpoint,
    load_run,
    new_run_folder,
    read_recipe,
    read_vocabularies,
    refuse_to_replace,
    update_metrics,
    write_run_start,
)
from seqkit.run_dirs.trained_data import evaluation_data, record_data_folder, with_note
from seqkit.runtime.device import place, resolve_device
from seqkit.tasks import get_task, tasks_served_by
from seqkit.text.tokenize import word_offsets


def load_recipe(task_name: str | None, recipe: str | Path | None, overrides: list[str] = ()) -> Recipe:
    """Read a recipe (the task's default when None), apply `--set` overrides, and validate it strictly."""
    if recipe is None:
        if task_name is None:
            raise ConfigError("give a task or a recipe")
        recipe = get_task(task_name).default_recipe
    path = find_recipe(recipe)
    raw = apply_overrides(read_yaml(path), list(overrides))
    if task_name is not None:
        if raw.get("task") not in (None, task_name):
            raise ConfigError(f"task: recipe {path} is for {raw.get('task')!r}, not {task_name!r}")
        raw["task"] = task_name
    task = get_task(raw.get("task"))
    return build_recipe(raw, {"data": task.data_config, "head": task.head_config})


def default_run_dir(recipe_name: str) -> Path:
    return Path("runs") / f"{Path(recipe_name).stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(
    task_name: str | None,
    recipe: str | Path | None = None,
    data_dir: Path | None = None,
    out: Path | None = None,
    overrides: list[str] = (),
    resume: bool = False,
    overwrite: bool = False,
    show_progress: bool | None = None,
    tensorboard: bool = False,
    device: str = "auto",
) -> Path:
    """Train a model; returns the run dir. With `resume`, the run dir's own config is used.

    `device` is where the model trains ("auto": a GPU when there is one; "cpu"; "cuda"; under torchrun each
    process takes its local GPU).

    Each epoch redraws curves.png in the run dir (when matplotlib is installed); `tensorboard` also logs scalars.
    """
    from seqkit.model import build_model
    from seqkit.runtime import distributed
    from seqkit.training.trainer import Trainer
    from seqkit.viz.training_pictures import epoch_pictures

    target = resolve_device(device)
    distributed.initialize_from_environment(target)
    main_process = distributed.is_main()
    if resume:
        if out is None:
            raise ConfigError("--resume needs --out RUN_DIR")
        config = read_recipe(out)
        if overrides:
            raise ConfigError("--set cannot change a run that is resumed; its config.yaml is fixed")
        if finished_without_checkpoint(out):
            print(f"note: {out} finished training and kept no checkpoint; there is nothing to resume", file=sys.stderr)
            distributed.finish()
            return out
    else:
        config = load_recipe(task_name, recipe, overrides)
        out = Path(out) if out is not None else default_run_dir(str(recipe or get_task(config.task).default_recipe))
        if main_process and not overwrite:
            refuse_to_replace(out)
    task = get_task(config.task)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    # Only the first process writes; the others train beside it (see seqkit/runtime/distributed.py).
    with RunLock(out) if main_process else contextlib.nullcontext():
        splits = task.load_splits(config, data_dir, ("train", "valid"))
        vocabularies = read_vocabularies(out) if resume else task.build_vocabularies(config, splits["train"])
        torch.manual_seed(config.seed)  # the initial weights depend on the seed alone
        model = build_model(config, vocabularies)
        if config.rnn.init_from is not None and not resume:  # a resumed run reads its own weights back
            initialise_recurrent_layer(model, config.rnn.init_from)
        model = model.to(target)
        batches = task.training_batches(config, vocabularies, splits["train"])
        # All of the above is checked before a new run writes anything; new_run_folder then says where it goes
        # (a staging folder when it replaces a run) and removes what a failed start wrote.
        new_run = main_process and not resume
        with new_run_folder(out, replace=overwrite) if new_run else contextlib.nullcontext(out) as folder:
            trainer = Trainer(
                model,
                config.train,
                folder,
                batches=batches,
                evaluate=lambda m: task.evaluate(place(m, target), config, vocabularies, splits["valid"]),
                metric=task.metric,
                seed=config.seed,
                show_progress=show_progress,
                after_epoch=epoch_pictures(folder, task.metric, tensorboard) if main_process else None,
            )
            if new_run:
                write_run_start(folder, config, vocabularies)
                record_data_folder(folder, data_dir)
            state = trainer.fit(resume=resume)
            if main_process:
                # The trainer scored the best epoch on dev already; its log record holds those scores.
                best = state.history[state.best_epoch - 1] if state.best_epoch else {}
                dev_scores = {name[len("dev_") :]: value for name, value in best.items() if name.startswith("dev_")}
                update_metrics(folder, "dev", {**dev_scores, "best_epoch": state.best_epoch, "epochs": state.epoch})
                finish_run(folder, config.train.keep_checkpoints)
            distributed.barrier()
    distributed.finish()
    return out


def initialise_recurrent_layer(model: torch.nn.Module, run_dir: str | Path) -> None:
    """Copy the first recurrent layer of the run in `run_dir` (rnn.init_from) into `model`'s first one.

    Every tensor of the source must have a namesake of the same shape here, so the cell, hidden_size and
    num_layers must agree and the input be as wide (the encoder's output); else a ConfigError names the key. A
    backward direction that the source lacks (a language model reads one way) keeps its fresh weights.
    """
    from seqkit.layers.rnn import RecurrentLayer

    def first_recurrent_layer(module: torch.nn.Module, whose: str) -> RecurrentLayer:
        found = next((layer for layer in module.modules() if isinstance(layer, RecurrentLayer)), None)
        if found is None:
            raise ConfigError(f"rnn.init_from: {whose} has no recurrent layer")
        return found

    try:
        _, _, trained = load_run(Path(run_dir))
    except (RunDirError, ConfigError) as error:
        raise ConfigError(f"rnn.init_from: {error}") from None
    source = first_recurrent_layer(trained, f"the model in {run_dir}").state_dict()
    target = first_recurrent_layer(model, "this run's model").state_dict()
    for name, tensor in source.items():
        if name not in target or target[name].shape != tensor.shape:
            here = tuple(target[name].shape) if name in target else "missing"
            raise ConfigError(
                f"rnn.init_from: the recurrent layer of {run_dir} does not fit this run's: {name} is "
                f"{tuple(tensor.shape)} there and {here} here (rnn.cell, rnn.hidden_size, rnn.num_layers and the "
                "encoder's width must agree)"
            )
    with torch.no_grad():
        for name, tensor in source.items():
            target[name].copy_(tensor)


# Settings that change only how a trained model searches, so `evaluate` may vary them (on dev) without retraining.
DECODING_SETTINGS = ("head.beam", "head.length_penalty", "head.max_length_ratio", "head.no_repeat_ngram")


def evaluate(
    run_dir: Path, split: str = "test", data_dir: Path | None = None, device: str = "auto", decoding: list[str] = ()
) -> dict:
    """Score a run dir on a split and record the scores in its metrics.json.

    `decoding` overrides search settings (`head.beam=8`, `head.length_penalty=1.5`; DECODING_SETTINGS) for this
    evaluation only; the scores are then stored under the split's name plus the overrides, so that the
    recipe's own figures are kept.
    """
    if split not in ("train", "valid", "test"):
        raise ConfigError(f"--split: unknown split {split!r} (choose from: train, valid, test)")
    target = resolve_device(device)
    recipe, vocabularies, model = load_run(run_dir)
    model = place(model, target)
    task = get_task(recipe.task)
    if decoding:
        recipe = with_decoding(recipe, list(decoding))
    # Without --data, the folder the run was trained on (recorded in run.json) while it still exists.
    data_dir, note = evaluation_data(run_dir, data_dir)
    try:
        sentences = task.load_splits(recipe, data_dir, (split,))[split]
    except DataNotFoundError as error:
        raise with_note(error, note) from None
    scores = task.evaluate(model, recipe, vocabularies, sentences)
    if Path(run_dir).is_dir():  # a packed file or a hub model is read as it is; its scores are only returned
        update_metrics(run_dir, " ".join([split, *decoding]), scores)
    return scores


def with_decoding(recipe: Recipe, overrides: list[str]) -> Recipe:
    """`recipe` with search settings overridden; anything but DECODING_SETTINGS of its own head is an error."""
    task = get_task(recipe.task)
    allowed = [setting for setting in DECODING_SETTINGS if hasattr(recipe.head, setting.split(".")[1])]
    for override in overrides:
        key = override.partition("=")[0]
        if key not in allowed:
            choices = ", ".join(allowed) or "none for this task"
            raise ConfigError(f"--set {key}: evaluate can only change search settings ({choices})")
    raw = apply_overrides(to_dict(recipe), overrides)
    return build_recipe(raw, {"data": task.data_config, "head": task.head_config})


def load_predictor_parts(
    run_dir: str | Path, predictor: str, device: str = "auto", quantize: str | None = None
) -> tuple[Recipe, dict, torch.nn.Module]:
    """(recipe, vocabularies, model on `device`) of a run dir whose task names `predictor` (a class of this module)
    as the one that serves it; a run dir of any other task is refused in one line that names the right class.

    `quantize="int8"` converts the float model's Linear/LSTM/GRU layers to dynamic int8 (runtime/quantization.py);
    int8 kernels run on the CPU only.
    """
    from seqkit.runtime.quantization import quantize as quantized

    if quantize is not None and device == "auto":
        device = "cpu"  # int8 kernels exist on the CPU only, so a GPU is never the automatic choice here
    if quantize is not None and device != "cpu":
        raise ConfigError(f"--quantize {quantize} runs on the CPU; it cannot be combined with --device {device}")
    target = resolve_device(device)
    recipe, vocabularies, model = load_run(Path(run_dir))
    model = place(model, target)
    serving = get_task(recipe.task).predictor
    if serving != predictor:
        served = " or ".join(f"a {name!r} model" for name in tasks_served_by(predictor)) or "a model it serves"
        raise RunDirError(f"{run_dir}: holds a {recipe.task!r} model, not {served}; load it with seqkit.{serving}")
    return recipe, vocabularies, quantized(model, quantize)


@dataclass
class TaggedText:
    """One tagged text: tokens as written, a BIO tag per token, the slot spans, and the intent when the model has
    one. Each span holds token indices (`start`, `end`), character offsets into `text` (`start_char`,
    `end_char`) and its `text` as written there."""

    text: str
    tokens: list[str]
    tags: list[str]
    spans: list[dict] = field(default_factory=list)
    intent: str | None = None
    intent_probability: float | None = None

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "tokens": self.tokens,
            "tags": self.tags,
            "spans": self.spans,
            "intent": self.intent,
            "intent_probability": self.intent_probability,
        }


@dataclass(frozen=True)
class TaggerInput:
    """One text to tag: the text as written, its tokens (casing kept) and their character offsets in it."""

    text: str
    tokens: list[str]
    offsets: list[tuple[int, int]]

    def model_tokens(self, lowercase: bool) -> list[str]:
        """The tokens the model reads: lowercased for a model trained on lowercased text, the output keeps them."""
        return [token.lower() for token in self.tokens] if lowercase else self.tokens


def tagger_inputs(texts, is_split_into_words: bool = False) -> tuple[list[TaggerInput], bool]:
    """(the texts to tag, whether one text rather than a list was given); bad input is an InputError naming it.

    Raw text is a string or a list of strings. Pre-split text (`is_split_into_words`, as in Hugging Face
    tokenizers) is one list of tokens or a list of such lists; its text is the tokens joined by single spaces.
    """
    if is_split_into_words:
        if isinstance(texts, str):
            raise InputError("is_split_into_words=True: pass a list of tokens, or a list of such lists")
        single = len(texts) > 0 and all(isinstance(item, str) for item in texts)
        batch = [texts] if single else list(texts)
        names = ["tokens"] if single else [f"texts[{index}]" for index in range(len(batch))]
        return [_split_input(tokens, name) for tokens, name in zip(batch, names, strict=True)], single
    single = isinstance(texts, str)
    batch = [texts] if single else list(texts)
    inputs = []
    for index, text in enumerate(batch):
        name = "text" if single else f"texts[{index}]"
        if not isinstance(text, str):
            raise InputError(f"{name}: expected a string, got {type(text).__name__}")
        offsets = word_offsets(text)
        if not offsets:
            raise InputError(f"{name}: empty text, nothing to tag")
        inputs.append(TaggerInput(text, [text[start:end] for start, end in offsets], offsets))
    return inputs, single


def _split_input(tokens, name: str) -> TaggerInput:
    if isinstance(tokens, str) or not isinstance(tokens, list | tuple):
        raise InputError(f"{name}: expected a list of tokens, got {type(tokens).__name__}")
    if not tokens:
        raise InputError(f"{name}: no tokens, nothing to tag")
    offsets, start = [], 0
    for index, token in enumerate(tokens):
        if not isinstance(token, str) or not token.strip():
            raise InputError(f"{name}[{index}]: a token must be a non-blank string, got {token!r}")
        offsets.append((start, start + len(token)))
        start += len(token) + 1  # the joining space
    return TaggerInput(" ".join(tokens), list(tokens), offsets)


def tagged_text(item: TaggerInput, prediction: dict) -> TaggedText:
    """A TaggedText from a text's input and its prediction (tags, and intent with probability if any)."""
    from seqkit.tasks.slot_filling import spans_of

    return TaggedText(
        text=item.text,
        tokens=list(item.tokens),
        tags=prediction["tags"],
        spans=spans_of(item.text, item.offsets, prediction["tags"]),
        intent=prediction.get("intent"),
        intent_probability=prediction.get("intent_probability"),
    )


class Tagger:
    """A slot-filling / NER model loaded from a run dir (of any task whose `predictor` is "Tagger"); `tag` takes
    one text or a batch, raw or pre-split."""

    def __init__(self, recipe: Recipe, vocabularies, model):
        self.recipe = recipe
        self.vocabularies = vocabularies
        self.model = model
        self.task = get_task(recipe.task)

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None) -> Tagger:
        return cls(*load_predictor_parts(run_dir, "Tagger", device, quantize))

    def tag(
        self, texts: str | list[str] | list[list[str]], batch_size: int = 256, is_split_into_words: bool = False
    ) -> TaggedText | list[TaggedText]:
        """Tag one text (a string: one TaggedText back) or a list of texts (a list back, in order).

        With `is_split_into_words`, `texts` is one list of tokens (one result) or a list of such lists. Tokens
        keep their casing; a model trained on lowercased text reads them lowercased. An empty text raises
        InputError naming it (`texts[3]`).
        """
        inputs, single = tagger_inputs(texts, is_split_into_words)
        lowercase = self.recipe.data.lowercase
        token_lists = [item.model_tokens(lowercase) for item in inputs]
        predictions = self.task.predict(self.model, self.recipe, self.vocabularies, token_lists, batch_size)
        results = [tagged_text(item, prediction) for item, prediction in zip(inputs, predictions, strict=True)]
        return results[0] if single else results


@dataclass
class ReadAnswer:
    """A memory network's answer: the word, its probability, and attention per hop over the story's sentences.

    `attention[k][i]` is hop k+1's weight on `story[i]`; sentences older than the memory window get 0.
    """

    answer: str
    probability: float
    attention: list[list[float]]
    story: list[str]
    question: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Reader:
    """A bAbI memory network loaded from a run dir (of any task whose `predictor` is "Reader"); `answer` reads a
    story and answers one question."""

    recipe: Recipe
    vocabularies: dict
    model: torch.nn.Module

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None) -> Reader:
        return cls(*load_predictor_parts(run_dir, "Reader", device, quantize))

    def answer(self, story_sentences: list[str], question: str) -> ReadAnswer:
        """Answer `question` about the story; an empty question or sentence raises InputError."""
        return self._answer_all([(story_sentences, question)], [""])[0]

    def answer_many(self, questions: list[tuple[list[str], str]], batch_size: int = 256) -> list[ReadAnswer]:
        """Answer (story sentences, question) pairs in batched model calls; an error names the pair's index."""
        if isinstance(questions, tuple):
            raise InputError("answer_many() takes a list of (story sentences, question) pairs")
        prefixes = [f"questions[{index}]." for index in range(len(questions))]
        return self._answer_all(list(questions), prefixes, batch_size)

    def _answer_all(self, pairs: list, prefixes: list[str], batch_size: int = 256) -> list[ReadAnswer]:
        from seqkit.data.babi import BabiQuestion, tokenize

        examples = []
        for (story_sentences, question), prefix in zip(pairs, prefixes, strict=True):
            if isinstance(story_sentences, str):
                raise InputError(f"{prefix}story_sentences: pass the story as a list of sentences")
            sentences = []
            for index, sentence in enumerate(story_sentences):
                if not isinstance(sentence, str) or not tokenize(sentence):
                    raise InputError(f"{prefix}story_sentences[{index}]: a sentence needs at least one word")
                sentences.append(tokenize(sentence))
            if not sentences:
                raise InputError(f"{prefix}story_sentences: the story is empty, nothing to read")
            if not isinstance(question, str) or not tokenize(question):
                raise InputError(f"{prefix}question: empty question, nothing to answer")
            examples.append(BabiQuestion(0, tuple(sentences), tokenize(question), "", ()))
        task = get_task(self.recipe.task)
        predictions, _ = task.predict(self.model, self.recipe, self.vocabularies, examples, batch_size)
        results = []
        for (story_sentences, question), prediction in zip(pairs, predictions, strict=True):
            # Sentences older than the memory window were never read: they get weight 0 in every hop.
            skipped = len(story_sentences) - len(prediction["attention"][0])
            attention = [[0.0] * skipped + hop for hop in prediction["attention"]]
            results.append(
                ReadAnswer(prediction["answer"], prediction["probability"], attention, list(story_sentences), question)
            )
        return results


@dataclass
class Classification:
    """One classified text: the predicted label, its probability, and every class's probability."""

    text: str
    label: str
    probability: float
    probabilities: dict[str, float]

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Explanation:
    """Per-token contributions to the predicted label (gradient x input), and attention weights if any."""

    text: str
    label: str
    probability: float
    tokens: list[str]
    contributions: list[float]
    attention: list[float] | None = None

    def to_json(self) -> dict:
        return asdict(self)


class Classifier:
    """A document classifier loaded from a run dir of any classification task (whose `predictor` is
    "Classifier": sentiment, or any other labelled texts); `classify` and `explain` take raw texts."""

    def __init__(self, recipe: Recipe, vocabularies, model):
        self.recipe, self.vocabularies, self.model = recipe, vocabularies, model
        self.task = get_task(recipe.task)

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None) -> Classifier:
        return cls(*load_predictor_parts(run_dir, "Classifier", device, quantize))

    def _documents(self, texts: list[str]) -> list[list[str]]:
        if isinstance(texts, str):
            raise InputError("classify() and explain() take a list of texts; wrap a single text in a list")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"texts[{index}]: expected a string, got {type(text).__name__}")
        sources = [f"texts[{index}]" for index in range(len(texts))]
        return self.task.documents(self.recipe, list(texts), "texts", sources)

    def classify(self, texts: list[str], batch_size: int = 256) -> list[Classification]:
        """The most likely label of each text, with class probabilities."""
        labels = self.vocabularies["labels"].tokens
        documents = self._documents(texts)
        probabilities = self.task.predict(self.model, self.recipe, self.vocabularies, documents, batch_size)
        results = []
        for text, row in zip(texts, probabilities.tolist(), strict=True):
            best = max(range(len(labels)), key=row.__getitem__)
            results.append(Classification(text, labels[best], row[best], dict(zip(labels, row, strict=True))))
        return results

    def explain(self, texts: list[str], batch_size: int = 32) -> list[Explanation]:
        """Each text's predicted label and every kept token's contribution to it (see seqkit/viz/explain.py)."""
        from seqkit.viz.explain import gradient_times_input

        documents = self._documents(texts)
        labels = self.vocabularies["labels"].tokens
        self.model.eval()
        results: list[Explanation | None] = [None] * len(documents)
        for indices, batch in self.task.batches(self.recipe, self.vocabularies, documents, batch_size):
            contributions, classes, output = gradient_times_input(self.model, batch)
            probabilities = output.logits.detach().softmax(dim=-1)  # (B, C)
            attention = output.extras.get("attention")
            for row, index in enumerate(indices):
                length = len(documents[index])
                results[index] = Explanation(
                    text=texts[index],
                    label=labels[int(classes[row])],
                    probability=float(probabilities[row, classes[row]]),
                    tokens=documents[index],
                    contributions=contributions[row, :length].tolist(),
                    attention=attention[row, :length].detach().tolist() if attention is not None else None,
                )
        return results


class _GenerationModel:
    """What Translator and Summarizer share: a seq2seq run dir and batched generation from raw texts."""

    def __init__(self, run_dir: str | Path, predictor: str, device: str = "auto", quantize: str | None = None):
        self.recipe, self.vocabularies, self.model = load_predictor_parts(run_dir, predictor, device, quantize)

    def generate(
        self, texts: list[str], beam: int | None, n_best: int, with_attention: bool, batch_size: int
    ):
        """Per text, its n_best outputs, best first. The API and the CLI (`--n-best`) both come through here.

        Without a `beam`, the recipe's beam is used, widened to `n_best` when that asks for more outputs.
        """
        from seqkit.tasks.generation import generate

        if isinstance(texts, str):
            raise InputError("pass a list of texts; wrap a single text in a list")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"texts[{index}]: expected a string, got {type(text).__name__}")
            if not text.strip():
                raise InputError(f"texts[{index}]: empty text, nothing to generate from")
        if beam is None:
            beam = max(self.recipe.head.beam, n_best)
        arguments = (list(texts), beam, n_best, with_attention, batch_size)
        return generate(self.model, self.recipe, self.vocabularies, *arguments)


class _GenerationPredictor:
    """A text-generation predictor: loading and the best / n-best outputs. Each subclass names its verb
    (translate, summarize) and, as `served_as`, the predictor name that the tasks it loads declare."""

    served_as: str

    def __init__(self, generator: _GenerationModel):
        self.generator = generator

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None) -> Self:
        return cls(_GenerationModel(run_dir, cls.served_as, device, quantize))

    def generate(
        self,
        texts: list[str],
        beam: int | None = None,
        with_attention: bool = False,
        batch_size: int = 64,
        n_best: int | None = None,
    ):
        """The best output for each text (a Generated: text, tokens, score, optional attention), or with `n_best`
        a list per text of its n_best outputs, best first; what `translate` and `summarize` answer."""
        return self._outputs(texts, beam, n_best, with_attention, batch_size)

    def _outputs(self, texts: list[str], beam: int | None, n_best: int | None, with_attention: bool, batch_size: int):
        """The best output per text (n_best None), else a list of n_best outputs per text, best first."""
        found = self.generator.generate(texts, beam, n_best or 1, with_attention, batch_size)
        return [outputs[0] for outputs in found] if n_best is None else found


class Translator(_GenerationPredictor):
    """A translation model from a run dir: `Translator.load(run).translate(texts, beam=5)`."""

    served_as = "Translator"

    def translate(
        self,
        texts: list[str],
        beam: int | None = None,
        with_attention: bool = False,
        batch_size: int = 64,
        n_best: int | None = None,
    ):
        """The best translation of each text (a Generated: text, tokens, score, optional attention).

        With `n_best`, a list per text of its n_best translations, best first: what `seqkit translate --n-best`
        prints. Without a `beam`, the recipe's beam is used, widened to n_best if that is larger.
        """
        return self._outputs(texts, beam, n_best, with_attention, batch_size)

    def translate_n_best(self, texts: list[str], beam: int | None, n_best: int, batch_size: int = 64):
        """Per text, its n_best translations, best first (the same as `translate(..., n_best=n_best)`)."""
        return self._outputs(texts, beam, n_best, False, batch_size)


class Summarizer(_GenerationPredictor):
    """A title-generation model from a run dir: `Summarizer.load(run).summarize(texts)`."""

    served_as = "Summarizer"

    def summarize(
        self,
        texts: list[str],
        beam: int | None = None,
        with_attention: bool = False,
        batch_size: int = 64,
        n_best: int | None = None,
    ):
        """The best title for each text (a Generated: text, tokens, score, optional attention).

        With `n_best`, a list per text of its n_best titles, best first, as `seqkit summarize --n-best` prints.
        """
        return self._outputs(texts, beam, n_best, with_attention, batch_size)

    def summarize_n_best(self, texts: list[str], beam: int | None, n_best: int, batch_size: int = 64):
        """Per text, its n_best titles, best first (the same as `summarize(..., n_best=n_best)`)."""
        return self._outputs(texts, beam, n_best, False, batch_size)


@dataclass
class SentenceScore:
    """How likely a language model finds one sentence: the tokens it read, the natural-log probability of the whole
    sentence (each word, then its end), its perplexity (exp of minus that over the predictions), and each
    prediction's log-probability (one per token, then one for the end)."""

    text: str
    tokens: list[str]
    log_probability: float
    perplexity: float
    token_log_probabilities: list[float]

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Sample:
    """Words a language model drew after a prompt; `ended` when it drew the end of the sentence before `words`."""

    prompt: str
    words: list[str]
    text: str
    ended: bool

    def to_json(self) -> dict:
        return asdict(self)


# More words than any sentence of the training data holds; each drawn word reads the sentence so far once more.
MAX_SAMPLED_WORDS = 200


class LanguageModel:
    """A language model loaded from a run dir (of any task whose `predictor` is "LanguageModel"): `score` says how
    likely sentences are, `sample` continues a prompt word by word."""

    def __init__(self, recipe: Recipe, vocabularies, model):
        self.recipe, self.vocabularies, self.model = recipe, vocabularies, model
        self.task = get_task(recipe.task)

    @classmethod
    def load(cls, run_dir: str | Path, device: str = "auto", quantize: str | None = None) -> LanguageModel:
        return cls(*load_predictor_parts(run_dir, "LanguageModel", device, quantize))

    def _tokens(self, text, where: str) -> list[str]:
        if not isinstance(text, str):
            raise InputError(f"{where}: expected a string, got {type(text).__name__}")
        tokens = self.task.tokenize(self.recipe, text)
        if not tokens:
            raise InputError(f"{where}: empty text, nothing to score")
        return tokens

    def score(self, texts: list[str]) -> list[SentenceScore]:
        """Each sentence's log-probability and perplexity; an empty text is an InputError naming it (`texts[2]`)."""
        from seqkit.tasks.language_model import perplexity

        if isinstance(texts, str):
            raise InputError("score() takes a list of texts; wrap a single text in a list")
        token_lists = [self._tokens(text, f"texts[{index}]") for index, text in enumerate(texts)]
        found = self.task.log_probabilities(self.model, self.recipe, self.vocabularies, token_lists)
        return [
            SentenceScore(text, tokens, sum(values), perplexity(values), values)
            for text, tokens, values in zip(texts, token_lists, found, strict=True)
        ]

    def sample(self, prompt: str, words: int = 20, temperature: float = 1.0, seed: int = 0) -> Sample:
        """Up to `words` words drawn after `prompt` (stopping at the end of the sentence), each from the model's
        distribution sharpened (temperature < 1) or flattened (> 1); the same seed draws the same words."""
        tokens = self._tokens(prompt, "prompt")
        if isinstance(words, bool) or not isinstance(words, int) or not 1 <= words <= MAX_SAMPLED_WORDS:
            raise InputError(f"words: expected a whole number from 1 to {MAX_SAMPLED_WORDS}, got {words!r}")
        if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not 0 < temperature <= 100:
            raise InputError(f"temperature: expected a number above 0 and at most 100, got {temperature!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise InputError(f"seed: expected a whole number from 0 to 2**63 - 1, got {seed!r}")
        generator = torch.Generator().manual_seed(seed)
        arguments = (tokens, words, float(temperature), generator)
        drawn, ended = self.task.sample(self.model, self.recipe, self.vocabularies, *arguments)
        return Sample(prompt, drawn, " ".join([*tokens, *drawn]), ended)


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
    """The class of this module that loads and serves run dirs of the task `task_name`."""
    return lookup(PREDICTORS, get_task(task_name).predictor, "predictor", f"the {task_name} task's predictor")
