"""seqkit: neural sequence modeling on text, built on PyTorch.

Shape legend used in comments and docstrings across the package:

    B  batch size                 T  source (input) length
    U  target (output) length     D  hidden / feature size
    V  vocabulary size            K  letter trigrams per word
    M  memories (bAbI sentences)  C  classes (tags, intents, labels)
"""

from seqkit.version import __version__

__all__ = ["__version__", "Tagger", "Reader", "Classifier", "Translator", "Summarizer"]


def __getattr__(name: str):
    # The predictors pull in torch and the model zoo; import them lazily so that
    # `import seqkit` (and `seqkit --help`) stays fast.
    if name in ("Tagger", "Reader", "Classifier", "Translator", "Summarizer"):
        from seqkit import api

        return getattr(api, name)
    raise AttributeError(f"module 'seqkit' has no attribute {name!r}")
