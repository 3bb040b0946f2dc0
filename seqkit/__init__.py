"""seqkit: neural sequence modeling on text, built on PyTorch.

Shape legend used in comments and docstrings across the package:

    B  batch size                 T  source (input) length
    U  target (output) length     D  hidden / feature size
    V  vocabulary size            K  letter trigrams per word
    M  memories (bAbI sentences)  C  classes (tags, intents, labels)
"""

from seqkit.version import __version__

# The public API, importable as `seqkit.<name>`; each name lives in the module given here. The modules pull in
# torch and the model zoo, so they are imported on first use: `import seqkit` (and `seqkit --help`) stays fast.
_LAZY = {
    "Tagger": "seqkit.predict.tagger",
    "TaggedText": "seqkit.predict.tagger",
    "Classifier": "seqkit.predict.classifier",
    "Classification": "seqkit.predict.classifier",
    "Explanation": "seqkit.predict.classifier",
    "Reader": "seqkit.predict.reader",
    "ReadAnswer": "seqkit.predict.reader",
    "Translator": "seqkit.predict.generation",
    "Summarizer": "seqkit.predict.generation",
    "LanguageModel": "seqkit.predict.language_model",
    "SentenceScore": "seqkit.predict.language_model",
    "Sample": "seqkit.predict.language_model",
    "train": "seqkit.api",
    "evaluate": "seqkit.api",
    "load_recipe": "seqkit.api",
    "SeqkitError": "seqkit.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    # Module attributes plus the lazy names, so that dir(), help() and tab completion show the public API.
    return sorted({*globals(), *__all__})
