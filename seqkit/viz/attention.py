"""Drawing a source-target attention matrix with matplotlib (the optional `plot` extra)."""

from __future__ import annotations

from pathlib import Path

from seqkit.errors import SeqkitError


def plot_attention(generated, path: str | Path) -> Path:
    """Save `generated.attention` ((U + 1, T): outputs and the end symbol by source tokens) as an image."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display is needed, or wanted, to write a file
        from matplotlib import pyplot
    except ImportError:
        raise SeqkitError("drawing attention needs matplotlib: pip install 'seqkit[plot]'") from None
    if generated.attention is None:
        raise SeqkitError("this output carries no attention weights; generate it with attention requested")
    weights = generated.attention.float().numpy()
    rows = [*generated.tokens, "</s>"]
    figure, axes = pyplot.subplots(
        figsize=(max(4, 0.45 * len(generated.source_tokens) + 2), max(3, 0.4 * len(rows) + 2))
    )
    axes.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(generated.source_tokens)), generated.source_tokens, rotation=90)
    axes.set_yticks(range(len(rows)), rows)
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
    return path
