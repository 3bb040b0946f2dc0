"""Export to ONNX: one exporter per kind of model (tagger, classifier, seq2seq) and the trace they share.

`export_onnx` is what `seqkit export` calls; it picks the exporter that the run dir's task names (its `exporter`,
seqkit/tasks/base.py) from EXPORTERS, or refuses in one line with the task's `export_refusal`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from seqkit.errors import RunDirError


def _export_tagger(run_dir: Path, out: Path) -> Path:
    from seqkit.export.tagger import export_tagger_onnx

    return export_tagger_onnx(run_dir, out)


def _export_classifier(run_dir: Path, out: Path) -> Path:
    from seqkit.export.classifier import export_classifier_onnx

    return export_classifier_onnx(run_dir, out)


def _export_seq2seq(run_dir: Path, out: Path) -> Path:
    from seqkit.export.seq2seq import export_seq2seq_onnx

    return export_seq2seq_onnx(run_dir, out)


# Keyed by the name a task's `exporter` declares. Each is imported only when used: they need the export extra.
EXPORTERS: dict[str, Callable[[Path, Path], Path]] = {
    "tagger": _export_tagger,
    "classifier": _export_classifier,
    "seq2seq": _export_seq2seq,
}


def export_onnx(run_dir: Path, out: Path | None = None) -> Path:
    """Export a run dir to ONNX (the graphs, their settings, vocabularies); returns the folder.

    The task's exporter decides: taggers go through seqkit/export/tagger.py, classifiers through classifier.py,
    translation and titles through seq2seq.py. A task without one is refused in one line saying why.
    """
    from seqkit.registry import lookup
    from seqkit.run_dirs.locate import SUFFIX, resolve_run_dir
    from seqkit.run_dirs.run_dir import read_recipe
    from seqkit.tasks import get_task

    source = Path(run_dir)
    # A packed file or hub model is unpacked into a temporary folder, so its export goes to NAME-export here.
    default = source / "export" if source.is_dir() else Path(f"{source.name.removesuffix(SUFFIX)}-export")
    out = Path(out) if out is not None else default
    run_dir = resolve_run_dir(source)
    task = get_task(read_recipe(run_dir).task)
    if task.exporter is None:
        raise RunDirError(f"{run_dir}: {task.name!r} models cannot be exported to ONNX: {task.export_refusal}")
    exporter = lookup(EXPORTERS, task.exporter, "ONNX exporter", f"the {task.name} task's exporter")
    return exporter(run_dir, out)
