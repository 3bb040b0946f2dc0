"""Pictures of training: `curves.png` in the run dir as training goes, and TensorBoard scalars on request.

Both read the per-epoch records the Trainer keeps (the lines of log.jsonl: train_loss, dev_<metric>, learning
rate, clipped fraction, seconds). matplotlib and tensorboard are optional extras (`plot`, `tensorboard`):
without matplotlib no picture is drawn, and asking for TensorBoard without it installed is a ConfigError before
training starts. The picture is written atomically like every run-dir file, so a viewer never sees half a PNG.

Drawing a picture takes about half a second (a second more to import matplotlib the first time), which is more
than a whole epoch of a bag of n-grams on a few thousand sentences: redrawn after every epoch, the picture took a
fifth of a short-text training's wall time. So it is redrawn after an epoch only when REDRAW_SECONDS have passed
since the last drawing (or the start), and once more when training ends: a long run still shows its progress.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from seqkit.errors import ConfigError
from seqkit.files import atomic_write_bytes

CURVES = "curves.png"
TENSORBOARD_FOLDER = "tensorboard"
REDRAW_SECONDS = 30.0


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def draw_curves(history: list[dict], metric: str) -> bytes:
    """A PNG of training loss (left) and the dev metric (right) per epoch, the best epoch marked."""
    # A Figure on the Agg canvas directly, not through pyplot, whose import (its backend machinery) is of no use
    # without a window: the first picture of a process then takes 1.0 s instead of 1.1 s.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = [record["epoch"] for record in history]
    scores = [record.get(f"dev_{metric}") for record in history]
    figure = Figure(figsize=(9, 3.4), dpi=100)
    FigureCanvasAgg(figure)
    loss_axes, metric_axes = figure.subplots(1, 2)
    loss_axes.plot(epochs, [record["train_loss"] for record in history], marker="o", color="tab:blue")
    loss_axes.set(title="training loss", xlabel="epoch", ylabel="mean loss per batch")
    metric_axes.plot(epochs, scores, marker="o", color="tab:green")
    metric_axes.set(title=f"dev {metric}", xlabel="epoch", ylabel=metric)
    known = [(score, epoch) for score, epoch in zip(scores, epochs, strict=True) if score is not None]
    if known:
        best_score, best_epoch = max(known)
        metric_axes.scatter([best_epoch], [best_score], s=120, facecolors="none", edgecolors="black", zorder=3)
        metric_axes.annotate(f"best {best_score:.2f}", (best_epoch, best_score), textcoords="offset points",
                             xytext=(6, -14))
    for axes in (loss_axes, metric_axes):
        axes.grid(alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_curves(run_dir: Path, history: list[dict], metric: str) -> None:
    atomic_write_bytes(Path(run_dir) / CURVES, draw_curves(history, metric))


class TensorBoardScalars:
    """Logs each new epoch record's numbers as TensorBoard scalars under run_dir/tensorboard/, step = epoch."""

    def __init__(self, run_dir: Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            raise ConfigError(f"--tensorboard needs tensorboard: pip install 'seqkit[tensorboard]' ({error})") from None
        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / TENSORBOARD_FOLDER))

    def log(self, record: dict) -> None:
        for name, value in record.items():
            if name != "epoch" and isinstance(value, int | float) and not isinstance(value, bool):
                self.writer.add_scalar(name.replace("dev_", "dev/").replace("train_", "train/"), value, record["epoch"])
        self.writer.flush()


class EpochPictures:
    """The Trainer's after-epoch hook: redraws curves.png (with matplotlib) at most every `redraw_seconds`, and logs
    each epoch to TensorBoard; `finish(history)` draws the final picture once training has ended."""

    def __init__(self, run_dir: Path, metric: str, tensorboard: bool = False, redraw_seconds: float = REDRAW_SECONDS):
        self.run_dir = Path(run_dir)
        self.metric = metric
        self.scalars = TensorBoardScalars(run_dir) if tensorboard else None
        self.draw = matplotlib_available()
        self.redraw_seconds = redraw_seconds
        self._last_drawn = time.monotonic()
        self._drawn_epochs = 0

    def __call__(self, history: list[dict]) -> None:
        if self.scalars is not None:
            self.scalars.log(history[-1])
        if time.monotonic() - self._last_drawn >= self.redraw_seconds:
            self._redraw(history)

    def finish(self, history: list[dict]) -> None:
        if history and self._drawn_epochs != len(history):
            self._redraw(history)

    def _redraw(self, history: list[dict]) -> None:
        if self.draw:
            write_curves(self.run_dir, history, self.metric)
        self._last_drawn = time.monotonic()
        self._drawn_epochs = len(history)
