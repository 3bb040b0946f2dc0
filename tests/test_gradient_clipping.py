"""Gradient clipping in the Trainer: by global norm and by value, and the clipped fraction it logs."""

import json

import pytest
import torch
from torch import nn

from seqkit.config import TrainConfig
from seqkit.heads import HeadOutput
from seqkit.training.trainer import Trainer


class ScaledRegression(nn.Module):
    """A tiny model whose loss is multiplied by `scale`, so its gradients are as large as we like."""

    def __init__(self, scale: float):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.scale = scale

    def forward(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        logits = self.linear(batch["inputs"])
        return HeadOutput(self.scale * (logits - batch["targets"]).square().sum(), logits)


def make_trainer(tmp_path, scale: float, **clipping) -> tuple[Trainer, list]:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    inputs, targets = torch.randn(4, 3, generator=generator), torch.randn(4, 2, generator=generator)
    batches = [{"inputs": inputs, "targets": targets}]
    config = TrainConfig(epochs=2, weight_decay=0.0, schedule="constant", **clipping)
    model = ScaledRegression(scale)
    no_scores = lambda model: {"score": 0.0}  # noqa: E731
    trainer = Trainer(
        model, config, tmp_path, lambda epoch: batches, no_scores, "score", seed=0, show_progress=False
    )
    # Record the gradients the optimizer actually steps with, after the trainer clipped them.
    seen: list[list[torch.Tensor]] = []
    original_step = trainer.optimizer.step

    def recording_step(*arguments, **keywords):
        seen.append([p.grad.clone() for p in trainer.model.parameters()])
        return original_step(*arguments, **keywords)

    trainer.optimizer.step = recording_step
    return trainer, seen


def logged_clipped_fractions(tmp_path) -> list[float]:
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    return [json.loads(line)["clipped_fraction"] for line in lines]


def global_norm(gradients: list[torch.Tensor]) -> float:
    return torch.linalg.vector_norm(torch.stack([g.norm() for g in gradients])).item()


def test_a_huge_loss_is_clipped_to_the_norm_and_logged(tmp_path):
    trainer, seen = make_trainer(tmp_path, scale=1e6, clip_norm=1.0, clip_value=None)
    trainer.fit()
    assert len(seen) == 2
    for gradients in seen:
        assert global_norm(gradients) == pytest.approx(1.0, rel=1e-4)
    assert logged_clipped_fractions(tmp_path) == [1.0, 1.0]


def test_a_huge_loss_is_clipped_by_value_and_logged(tmp_path):
    trainer, seen = make_trainer(tmp_path, scale=1e6, clip_norm=None, clip_value=0.01)
    trainer.fit()
    for gradients in seen:
        assert max(g.abs().max().item() for g in gradients) == pytest.approx(0.01)
    assert logged_clipped_fractions(tmp_path) == [1.0, 1.0]


def test_value_then_norm_clipping_both_hold(tmp_path):
    trainer, seen = make_trainer(tmp_path, scale=1e6, clip_norm=0.001, clip_value=0.01)
    trainer.fit()
    for gradients in seen:
        assert global_norm(gradients) == pytest.approx(0.001, rel=1e-4)
        assert max(g.abs().max().item() for g in gradients) <= 0.01


def test_small_gradients_are_left_alone_and_logged_as_unclipped(tmp_path):
    trainer, seen = make_trainer(tmp_path, scale=1e-6, clip_norm=5.0, clip_value=1.0)
    trainer.fit()
    assert logged_clipped_fractions(tmp_path) == [0.0, 0.0]
    for gradients in seen:
        assert 0 < global_norm(gradients) < 1e-3


def test_without_clipping_the_huge_gradient_passes_through(tmp_path):
    trainer, seen = make_trainer(tmp_path, scale=1e6, clip_norm=None, clip_value=None)
    trainer.fit()
    assert global_norm(seen[0]) > 1e5
    assert logged_clipped_fractions(tmp_path) == [0.0, 0.0]
