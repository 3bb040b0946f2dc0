"""Export to ONNX: one exporter per kind of model (tagger, classifier, seq2seq) and the trace they share.

`export_onnx` is what `seqkit export` calls; it picks the exporter by the run dir's task.
"""

from __future__ import annotations

from pathlib import Path

from seqkit.errors import RunDirError


def export_onnx(run_dir: Path, out: Path | None = None) -> Path:
    """Export a run dir to ONNX (the graphs, their settings, vocabularies); returns the folder.

    Sentiment models go through seqkit/export/classifier.py, translation and titles through seq2seq.py.
    """
    from seqkit.run_dirs.locate import SUFFIX, resolve_run_dir
    from seqkit.run_dirs.run_dir import read_recipe

    source = Path(run_dir)
    # A packed file or hub model is unpacked into a temporary folder, so its export goes to NAME-export here.
    default = source / "export" if source.is_dir() else Path(f"{source.name.removesuffix(SUFFIX)}-export")
    out = Path(out) if out is not None else default
    run_dir = resolve_run_dir(source)
    task = read_recipe(run_dir).task
    if task == "sentiment":
        from seqkit.export.classifier import export_classifier_onnx

        return export_classifier_onnx(run_dir, out)
    if task in ("translation", "title-generation"):
        from seqkit.export.seq2seq import export_seq2seq_onnx

        return export_seq2seq_onnx(run_dir, out)
    if task != "slot-filling":
        raise RunDirError(f"{run_dir}: ONNX export covers slot-filling, sentiment and seq2seq models, not {task!r}")
    from seqkit.export.tagger import export_tagger_onnx

    return export_tagger_onnx(run_dir, out)
