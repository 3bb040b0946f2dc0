"""curves.png as training goes (throttled) and at its end, TensorBoard scalars with --tensorboard, and nothing
drawn without matplotlib."""

import struct

from seqkit import api
from seqkit.viz.training_pictures import CURVES, EpochPictures, draw_curves

from conftest import TINY_ATIS, write_recipe

HISTORY = [
    {"epoch": 1, "train_loss": 9.5, "dev_slot_f1": 40.0, "learning_rate": 0.01},
    {"epoch": 2, "train_loss": 4.0, "dev_slot_f1": 71.5, "learning_rate": 0.01},
    {"epoch": 3, "train_loss": 2.5, "dev_slot_f1": 70.0, "learning_rate": 0.01},
]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # the IHDR chunk: width, height


def test_the_picture_is_a_png_of_the_expected_size():
    assert png_size(draw_curves(HISTORY, "slot_f1")) == (900, 340)


def test_every_training_run_writes_curves_png(tiny_tagger_run):
    assert png_size((tiny_tagger_run / CURVES).read_bytes()) == (900, 340)
    assert not list(tiny_tagger_run.glob(f".{CURVES}.*"))  # no temporary file left behind


def test_without_matplotlib_nothing_is_drawn(tmp_path, monkeypatch):
    monkeypatch.setattr("seqkit.viz.training_pictures.matplotlib_available", lambda: False)
    pictures = EpochPictures(tmp_path, "slot_f1", redraw_seconds=0.0)
    pictures(HISTORY)
    pictures.finish(HISTORY)
    assert not (tmp_path / CURVES).exists()


def test_the_picture_is_redrawn_at_most_every_few_seconds_and_at_the_end(tmp_path):
    # A short run draws once, when it ends; an epoch ending after the interval redraws at once.
    pictures = EpochPictures(tmp_path, "slot_f1", redraw_seconds=3600.0)
    pictures(HISTORY[:1])
    pictures(HISTORY[:2])
    assert not (tmp_path / CURVES).exists()
    pictures.finish(HISTORY[:2])
    assert png_size((tmp_path / CURVES).read_bytes()) == (900, 340)
    drawn = (tmp_path / CURVES).stat().st_mtime_ns
    pictures.finish(HISTORY[:2])  # nothing new to draw
    assert (tmp_path / CURVES).stat().st_mtime_ns == drawn
    (tmp_path / CURVES).unlink()
    eager = EpochPictures(tmp_path, "slot_f1", redraw_seconds=0.0)
    eager(HISTORY[:1])
    assert (tmp_path / CURVES).is_file()


def test_tensorboard_logs_each_epoch_as_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    recipe = write_recipe(tmp_path, train={"epochs": 2})
    run_dir = api.train(None, recipe, data_dir=TINY_ATIS, out=tmp_path / "run", show_progress=False, tensorboard=True)
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"train/loss", "dev/slot_f1", "learning_rate"} <= set(tags)
    assert [event.step for event in events.Scalars("train/loss")] == [1, 2]
    assert (run_dir / CURVES).is_file()
