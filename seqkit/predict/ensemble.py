"""Ensembles at decode time: several seq2seq runs search as one model.

At every step each member reads the hypotheses so far and gives its next-word distribution; the ensemble scores
the words by the mean of those probabilities, and beam search (seqkit/decoding.py) goes on as with one model.
Averaging the predictions of models trained from other seeds or for other lengths is the oldest way to gain a
BLEU point or more in translation (Sutskever et al. 2014 used five LSTMs; fairseq and OpenNMT decode with
ensembles). Members read the same batch and their scores are added word for word, so they must share their
vocabularies: every file of their `vocab/` folders must be equal, which holds for runs of one recipe on one
dataset (the subword model and lexicons come from the data and the recipe's seed-independent settings).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from seqkit.errors import RunDirError
from seqkit.heads.seq2seq import Searchable
from seqkit.run_dirs.layout import VOCABULARY_FOLDER


class EnsembleState:
    """The members' decoder states, reordered and narrowed together as beam search asks."""

    def __init__(self, states: list):
        self.states = states

    def expand(self, group: int) -> EnsembleState:
        return EnsembleState([state.expand(group) for state in self.states])

    def select(self, rows: torch.Tensor) -> EnsembleState:
        return EnsembleState([state.select(rows) for state in self.states])

    def reorder(self, rows: torch.Tensor) -> EnsembleState:
        return EnsembleState([state.reorder(rows) for state in self.states])


class EnsembleSearchable:
    """The interface of seqkit.decoding over several models: log of the mean of their next-word probabilities."""

    def __init__(self, models: list[nn.Module]):
        self.members = [Searchable(model) for model in models]
        self.begin_id = self.members[0].begin_id
        self.end_id = self.members[0].end_id

    def encode(self, batch: dict[str, torch.Tensor]) -> EnsembleState:
        return EnsembleState([member.encode(batch) for member in self.members])

    def decode_step(self, state: EnsembleState, previous: torch.Tensor):
        """(log-probabilities (B, V'), next state, attention (B, T) averaged over the members)."""
        steps = [member.decode_step(own, previous) for member, own in zip(self.members, state.states, strict=True)]
        log_probabilities = torch.stack([step[0] for step in steps])  # (M, B, V')
        mean = log_probabilities.logsumexp(dim=0) - math.log(len(steps))  # log of the mean probability
        attention = torch.stack([step[2] for step in steps]).mean(dim=0)  # (B, T)
        return mean, EnsembleState([step[1] for step in steps]), attention


class Ensemble(nn.Module):
    """Several seq2seq models that decode together; `searchable()` gives the search what one model's would."""

    def __init__(self, models: list[nn.Module]):
        super().__init__()
        if len(models) < 2:
            raise ValueError("an ensemble needs at least two models")
        self.members = nn.ModuleList(models)

    def searchable(self) -> EnsembleSearchable:
        return EnsembleSearchable(list(self.members))


def check_shared_vocabularies(run_dirs: list[Path]) -> None:
    """Refuse, naming the file, members whose vocab/ folders differ from the first member's."""
    first = Path(run_dirs[0]) / VOCABULARY_FOLDER
    if not first.is_dir():
        raise RunDirError(f"{run_dirs[0]}: an ensemble is made of run dirs (folders with {VOCABULARY_FOLDER}/)")
    names = sorted(path.name for path in first.iterdir())
    for run_dir in run_dirs[1:]:
        folder = Path(run_dir) / VOCABULARY_FOLDER
        theirs = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
        if theirs != names:
            raise RunDirError(f"{run_dir}: its {VOCABULARY_FOLDER}/ holds {theirs}, not {names} as {run_dirs[0]}'s")
        for name in names:
            if (folder / name).read_bytes() != (first / name).read_bytes():
                raise RunDirError(
                    f"{folder / name}: differs from {run_dirs[0]}'s; ensemble members must share their "
                    "vocabularies (runs of one recipe on one dataset do)"
                )


def load_ensemble(
    run_dirs: list[str | Path], predictor: str | None = None, device: str = "auto", quantize: str | None = None
) -> tuple:
    """(the first member's recipe, the shared vocabularies, an Ensemble of every member's model).

    Each member (a run dir, a packed file or a hub repo id) is resolved to its folder once, here; loading and the
    vocabulary check then read that folder. `predictor` (a name in seqkit.predict.registry.PREDICTORS) refuses
    members its class does not serve; None takes the predictor of the first member's task. The first member's
    recipe decides the search settings (beam, length penalty)."""
    from seqkit.heads.seq2seq import Seq2SeqHead
    from seqkit.predict.loading import load_predictor_parts
    from seqkit.run_dirs.locate import resolve_run_dir
    from seqkit.run_dirs.run_dir import read_recipe
    from seqkit.tasks import get_task

    folders = [resolve_run_dir(run_dir) for run_dir in run_dirs]
    if predictor is None:
        predictor = get_task(read_recipe(folders[0]).task).predictor
    parts = [load_predictor_parts(folder, predictor, device, quantize) for folder in folders]
    for run_dir, (recipe, _, model) in zip(run_dirs, parts, strict=True):
        if not isinstance(getattr(model, "head", None), Seq2SeqHead):
            raise RunDirError(f"{run_dir}: holds a {recipe.task!r} model; only seq2seq models decode as an ensemble")
        if recipe.head.copy != parts[0][0].head.copy:
            raise RunDirError(f"{run_dir}: head.copy differs from {run_dirs[0]}'s; members must all copy or none")
    check_shared_vocabularies(folders)
    recipe, vocabularies, _ = parts[0]
    return recipe, vocabularies, Ensemble([model for _, _, model in parts])
