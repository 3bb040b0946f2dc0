"""The training side of the Python API: read recipes, train from them, and evaluate run dirs.

The CLI (seqkit/cli.py) calls exactly these functions, so the shell and Python always agree. The predictors that
load a trained run dir live in seqkit/predict/, one a module.

    run_dir = seqkit.api.train("slot-filling", recipe="atis")
    seqkit.api.evaluate(run_dir, "test")
    tagger = seqkit.Tagger.load(run_dir)
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import torch

from seqkit.config import Recipe, apply_overrides, build_recipe, find_recipe, read_yaml, to_dict
from seqkit.errors import ConfigError, DataNotFoundError
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
from seqkit.tasks import get_task


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

    curves.png in the run dir is redrawn as training goes and when it ends (when matplotlib is installed);
    `tensorboard` also logs each epoch's scalars.
    """
    from seqkit.model import build_model, count_training_data
    from seqkit.runtime import distributed
    from seqkit.runtime.threads import training_threads
    from seqkit.training.refit import refit_epochs, refit_on_train_and_dev
    from seqkit.training.teacher import load_teacher
    from seqkit.training.trainer import Trainer
    from seqkit.training.warm_start import initialise_recurrent_layer
    from seqkit.viz.training_pictures import EpochPictures

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
        # Without --data, the folder the run started on (recorded in run.json), as evaluate does.
        data_dir, data_note = evaluation_data(out, data_dir)
    else:
        data_note = ""
        config = load_recipe(task_name, recipe, overrides)
        out = Path(out) if out is not None else default_run_dir(str(recipe or get_task(config.task).default_recipe))
        if main_process and not overwrite:
            refuse_to_replace(out)
    task = get_task(config.task)
    threads, note = training_threads(config.train.threads)
    if threads:
        torch.set_num_threads(threads)
    if note and main_process:
        print(f"note: {note}", file=sys.stderr)
    # Only the first process writes; the others train beside it (see seqkit/runtime/distributed.py).
    with RunLock(out) if main_process else contextlib.nullcontext():
        try:
            splits = task.load_splits(config, data_dir, ("train", "valid"))
        except DataNotFoundError as error:
            raise with_note(error, data_note) from None
        settle = getattr(task, "settle_settings", None)
        if settle is not None and not resume:  # a resumed run's config.yaml holds what was chosen at its start
            config, settled = settle(config, splits["train"])
            if settled and main_process:
                print(f"note: {settled}", file=sys.stderr)
        # A refit trains its final model on both splits, so its vocabularies hold the words of both.
        both_splits = refit_examples(config, splits) if config.train.refit else None
        known = both_splits or splits["train"]
        vocabularies = read_vocabularies(out) if resume else task.build_vocabularies(config, known)

        def untrained_model(warm_start: bool) -> torch.nn.Module:
            model = build_model(config, vocabularies)
            if config.rnn.init_from is not None and warm_start:
                initialise_recurrent_layer(model, config.rnn.init_from)
            return model.to(target)

        torch.manual_seed(config.seed)  # the initial weights depend on the seed alone
        model = untrained_model(warm_start=not resume)  # a resumed run reads its own weights back
        # A student (head.teacher) learns from a trained run too, which reads its training examples once.
        teacher_dir = getattr(config.head, "teacher", None)
        teaching = {"teacher": load_teacher(teacher_dir)} if teacher_dir is not None else {}
        batches = task.training_batches(config, vocabularies, splits["train"], **teaching)
        if not resume:  # the ratios are counted on the first epoch's batches, which training then reuses
            batches = count_training_data(model, batches)
        # All of the above is checked before a new run writes anything; new_run_folder then says where it goes
        # (a staging folder when it replaces a run) and removes what a failed start wrote.
        new_run = main_process and not resume
        with new_run_folder(out, replace=overwrite) if new_run else contextlib.nullcontext(out) as folder:
            pictures = EpochPictures(folder, task.metric, tensorboard) if main_process else None
            trainer = Trainer(
                model,
                config.train,
                folder,
                batches=batches,
                evaluate=lambda m: task.evaluate(place(m, target), config, vocabularies, splits["valid"]),
                metric=task.metric,
                seed=config.seed,
                show_progress=show_progress,
                after_epoch=pictures,
            )
            if new_run:
                write_run_start(folder, config, vocabularies)
                record_data_folder(folder, data_dir)
            state = trainer.fit(resume=resume)
            if main_process:
                pictures.finish(state.history)
                refitted = None
                if both_splits is not None and state.best_epoch:
                    refitted = refit_on_train_and_dev(
                        # A new model, warm-started like the first run's, even when this run was resumed.
                        lambda: untrained_model(warm_start=True),
                        task.training_batches(config, vocabularies, both_splits, **teaching),
                        config,
                        folder,
                        refit_epochs(state.history, task.metric),
                        len(both_splits),
                        show_progress,
                    )
                # The trainer scored the best epoch on dev already; its log record holds those scores.
                scored = state.history[state.best_epoch - 1] if state.best_epoch else {}
                summary = {"best_epoch": state.best_epoch, "epochs": state.epoch}
                if state.averaged is not None and state.averaged["kept"]:
                    # model.safetensors holds the average of the last epochs: its dev scores are the run's.
                    scored = state.averaged
                    summary["averaged_epochs"] = scored["epochs"]
                if refitted is not None:
                    # The dev scores stay those of the model that chose the epoch: the refit learnt from dev.
                    summary["refit"] = refitted
                dev_scores = {name[len("dev_") :]: value for name, value in scored.items() if name.startswith("dev_")}
                update_metrics(folder, "dev", {**dev_scores, **summary})
                finish_run(folder, config.train.keep_checkpoints)
            distributed.barrier()
    distributed.finish()
    return out


def refit_examples(config: Recipe, splits: dict) -> list:
    """Train and dev together, for `train.refit`; refused where a split is streamed rather than held in memory,
    and by a task whose training depends on scoring dev (its `refit_refusal` says why)."""
    from seqkit.runtime import distributed

    refusal = getattr(get_task(config.task), "refit_refusal", None)
    if refusal:
        raise ConfigError(f"train.refit: {refusal}")
    if not all(isinstance(splits[name], list) for name in ("train", "valid")):
        raise ConfigError("train.refit: needs train and dev read into memory; this data is streamed")
    if distributed.world_size() > 1:
        raise ConfigError("train.refit: trains in one process; run it without torchrun")
    return splits["train"] + splits["valid"]


# Settings that change only how a trained model searches, so `evaluate` may vary them (on dev) without retraining.
DECODING_SETTINGS = ("head.beam", "head.length_penalty", "head.max_length_ratio", "head.no_repeat_ngram")


def evaluate(
    run_dir: Path,
    split: str = "test",
    data_dir: Path | None = None,
    device: str = "auto",
    decoding: list[str] = (),
    ensemble: list[Path] = (),
) -> dict:
    """Score a run dir on a split and record the scores in its metrics.json.

    `decoding` overrides search settings (`head.beam=8`, `head.length_penalty=1.5`; DECODING_SETTINGS) for this
    evaluation only; the scores are then stored under the split's name plus the overrides, so that the
    recipe's own figures are kept. `ensemble` names more seq2seq run dirs that decode together with this one
    (seqkit/predict/ensemble.py); their scores are stored under the split's name plus "ensemble".
    """
    if split not in ("train", "valid", "test"):
        raise ConfigError(f"--split: unknown split {split!r} (choose from: train, valid, test)")
    target = resolve_device(device)
    if ensemble:
        from seqkit.predict.ensemble import load_ensemble

        recipe, vocabularies, model = load_ensemble([run_dir, *ensemble], device=device)
    else:
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
    if ensemble:
        # Stored with the first member, under a name of its own: the run's own figures are kept.
        scores["ensemble"] = [str(member) for member in [run_dir, *ensemble]]
    if Path(run_dir).is_dir():  # a packed file or a hub model is read as it is; its scores are only returned
        update_metrics(run_dir, " ".join([split, *(["ensemble"] if ensemble else []), *decoding]), scores)
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
