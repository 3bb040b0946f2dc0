"""The benchmark harness runs on real data and reports every figure with its bound (shapes, not timings)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.bounds import EncoderDecoderBound, MemoryBound, RecurrentBound
from benchmarks.render import table

ROOT = Path(__file__).resolve().parents[1]
RATIOS = ("training_ratio", "batched_ratio", "latency_ratio")


@pytest.mark.slow
def test_quick_run_prints_one_document_with_positive_ratios():
    if not os.environ.get("SEQKIT_DATA_DIR"):
        pytest.fail("SEQKIT_DATA_DIR must point at the shared benchmark data (see README)")
    command = [sys.executable, "-m", "benchmarks", "--quick", "--tasks", "atis"]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    finished = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=environment, timeout=120)
    assert finished.returncode == 0, finished.stderr
    text, _, markdown = finished.stdout.partition("\n\n|")
    document = json.loads(text)
    assert set(document["tasks"]) == {"atis"}
    for result in document["tasks"].values():
        for name in (*RATIOS, "training_units_per_second", "batched_items_per_second", "peak_rss_mib"):
            assert isinstance(result[name], float) and result[name] > 0, name
        assert 0 <= result["training_padding_waste"] < 1
    assert markdown.count("\n| ") == 1  # one row per task after the header and separator


def test_bounds_give_finite_losses_with_gradients_at_batch_shapes():
    words = torch.zeros(3, 5, dtype=torch.long)
    tagging = RecurrentBound(torch.nn.LSTM(8, 6, num_layers=2, bidirectional=True), torch.nn.Linear(12, 4))
    loss = tagging({"words": words})
    loss.backward()
    assert torch.isfinite(loss) and tagging.rnn.weight_hh_l0.grad is not None
    # A tagger's intent encoder is trained through the intent loss, so its bound runs and back-propagates it.
    with_intent = RecurrentBound(
        torch.nn.LSTM(8, 6), torch.nn.Linear(6, 4), side=torch.nn.LSTM(8, 6, bidirectional=True)
    )
    with_intent({"words": words}).backward()
    assert with_intent.side.weight_hh_l0_reverse.grad.abs().sum() > 0
    seq2seq = EncoderDecoderBound(torch.nn.GRU(8, 6, bidirectional=True), torch.nn.GRU(8, 6), 6, 11)
    seq2seq({"words": words, "targets_in": torch.zeros(3, 4, dtype=torch.long)}).backward()
    assert seq2seq.projection.weight.grad.shape == (11, 6)
    # Training back-propagates into the encoder, so its bound must too.
    assert seq2seq.encoder.weight_hh_l0.grad is not None and seq2seq.encoder.weight_hh_l0.grad.abs().sum() > 0
    seq2seq.search({"words": words}, beam=2, steps=3)
    memory = MemoryBound(vocabulary=9, dimension=4, hops=3)
    batch = {"story": torch.ones(2, 5, 3, dtype=torch.long), "question": torch.ones(2, 4, dtype=torch.long)}
    assert torch.isfinite(memory(batch))


def test_table_has_a_row_per_task_and_names_failures():
    row = {
        "training_units_per_second": 1000.0, "training_unit": "tokens", "training_ratio": 0.5,
        "training_padding_waste": 0.1, "batched_items_per_second": 20.0, "item": "sentences",
        "batched_ratio": 0.25, "latency_ms_median": 3.0, "latency_ratio": 0.75, "peak_rss_mib": 300.0,
    }
    document = {
        "setting": {"threads": 1, "load_average_before": 0.5, "load_average_after": 1.0},
        "machine": {"cpu_count": 2, "processor": "x86_64", "torch": "2"},
        "tasks": {"atis": row, "babi": {"error": "boom"}},
    }
    rendered = table(document)
    assert "| atis | 1,000 tokens | 50% | 10% | 20.0 sentences | 25% | 3.00 | 75% | 300 |" in rendered
    assert "| babi | failed: boom |" in rendered


def test_recurrent_flops_count_each_layer_direction_and_gate():
    from benchmarks.roofline import recurrent_flops_per_token

    # Layer 1: 2 directions x 2 x 4 gates x 6 x (8 + 6); layer 2 reads both directions: input 12.
    model = torch.nn.Sequential(torch.nn.LSTM(8, 6, num_layers=2, bidirectional=True), torch.nn.Linear(12, 4))
    assert recurrent_flops_per_token(model) == 2 * 2 * 4 * 6 * (8 + 6) + 2 * 2 * 4 * 6 * (12 + 6)
    assert recurrent_flops_per_token(torch.nn.GRU(5, 3)) == 2 * 3 * 3 * (5 + 3)
    assert recurrent_flops_per_token(torch.nn.Linear(5, 3)) == 0
