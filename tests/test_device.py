"""The device option: resolution and its one-line errors, the OnDevice boundary, and AMP's requirement of CUDA.

No GPU is needed: CUDA's presence is simulated where only seqkit's own logic is under test.
"""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from seqkit import api
from seqkit.cli import app
from seqkit.errors import ConfigError
from seqkit.heads import HeadOutput
from seqkit.runtime.device import CPU, OnDevice, place, resolve_device, to_cpu

from conftest import TINY_ATIS


def test_cpu_is_the_default_and_needs_no_wrapper():
    assert resolve_device(None) == CPU and resolve_device("cpu") == CPU
    model = torch.nn.Linear(2, 2)
    assert place(model, CPU) is model


def test_unknown_and_unavailable_devices_are_one_line_errors(monkeypatch):
    with pytest.raises(ConfigError, match="unknown device 'gpu0'"):
        resolve_device("gpu0")
    with pytest.raises(ConfigError, match="'meta' is not supported"):
        resolve_device("meta")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="CUDA is not available") as raised:
        resolve_device("cuda")
    assert "\n" not in str(raised.value) and "--device cpu" in str(raised.value)


def test_each_torchrun_process_takes_the_gpu_of_its_local_rank(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert resolve_device("cuda") == torch.device("cuda", 1)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ConfigError, match="only 2 GPU"):
        resolve_device("cuda:3")


def test_on_device_moves_outputs_back_and_reaches_the_wrapped_modules():
    class Toy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Embedding(5, 3)

        def forward(self, batch):
            logits = self.head(batch["words"])
            return HeadOutput(logits.sum(), logits, {"mask": batch["words"] > 0})

    model = Toy()
    wrapped = OnDevice(model, CPU)
    batch = {"words": torch.tensor([[1, 2, 0]])}
    output = wrapped(batch)
    assert torch.equal(output.logits, model(batch).logits) and torch.equal(output.extras["mask"], batch["words"] > 0)
    assert wrapped.head is model.head
    nested = to_cpu({"pair": (torch.ones(1), [torch.zeros(1)])})
    assert nested["pair"][0].device == CPU and isinstance(nested["pair"][1], list)


def test_amp_needs_cuda(tmp_path, tiny_recipe):
    with pytest.raises(ConfigError, match="train.amp: mixed precision needs --device cuda"):
        api.train(None, tiny_recipe, data_dir=TINY_ATIS, out=tmp_path / "run", overrides=["train.amp=true"])


def test_cli_refuses_cuda_in_one_line_when_it_is_missing(tmp_path, tiny_recipe, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    arguments = ["train", "slot-filling", "--recipe", str(tiny_recipe), "--data", str(TINY_ATIS)]
    result = CliRunner().invoke(app, [*arguments, "--out", str(tmp_path / "run"), "--device", "cuda"])
    # seqkit.cli.main prints a SeqkitError as its one line and exits 1; the refusal comes before any training.
    assert isinstance(result.exception, ConfigError) and not (tmp_path / "run").exists()
    message = str(result.exception)
    assert message.startswith("--device cuda: CUDA is not available") and "\n" not in message
