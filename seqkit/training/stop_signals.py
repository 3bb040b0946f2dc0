"""Stopping training cleanly: Ctrl-C and SIGTERM ask the loop to stop at the next step boundary.

The loop then saves a checkpoint that `--resume` continues. A second Ctrl-C quits at once, keeping the last
complete checkpoint. Outside the main thread signals cannot be caught, and the handlers are left as they are.
"""

from __future__ import annotations

import signal

from tqdm import tqdm

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """A context manager: while it is open, `requested` turns true on the first Ctrl-C or SIGTERM."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict = {}

    def __enter__(self) -> StopSignals:
        for number in SIGNALS:
            try:
                self._previous[number] = signal.signal(number, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def __exit__(self, *exception) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    def _handle(self, signal_number, frame) -> None:
        if self.requested and signal_number == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: the last complete checkpoint stays as it is
        self.requested = True
        tqdm.write("stopping after this step; saving a checkpoint (Ctrl-C again to quit at once)")
