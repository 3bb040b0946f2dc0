"""Running an exported graph: one onnxruntime session per graph, on one CPU thread."""

from __future__ import annotations

from pathlib import Path

from seqkit.errors import ConfigError


def inference_session(path: Path, user: str):
    """An onnxruntime session on one CPU thread for the graph at `path`; `user` names who needs onnxruntime."""
    try:
        import onnxruntime
    except ImportError as error:
        raise ConfigError(f"{user} needs onnxruntime: pip install 'seqkit[export]' ({error})") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
