"""The exceptions seqkit raises for problems a user can fix.

Every one of them carries a message that names the file and line, or the config field, at fault; the CLI
prints that one line and exits non-zero instead of showing a traceback.
"""


class SeqkitError(Exception):
    """Base class: a user-facing problem with one clear message."""


class ConfigError(SeqkitError):
    """A recipe or override is wrong: unknown key, wrong type, bad value (names the dotted key)."""


class DataFormatError(SeqkitError):
    """A data file is malformed (names the file and line)."""

    def __init__(self, path, line: int | None, problem: str):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class DataNotFoundError(SeqkitError):
    """No source could provide a dataset; the message says what to do."""


class RunDirError(SeqkitError):
    """A run directory is missing a file, corrupted, or does not match its config."""


class InputError(SeqkitError):
    """Text handed to a predictor cannot be processed (for example an empty string)."""


class TrainingInterrupted(SeqkitError):
    """Training stopped on Ctrl-C or SIGTERM after saving a resumable checkpoint."""
