"""Stopping a run at once: Ctrl-C or SIGTERM sets :data:`STOP`, and every wait of the run (between
polls, before a retry, for another run's claim) ends then instead of sleeping on."""

from __future__ import annotations

import threading

STOP = threading.Event()


def pause(seconds: float) -> None:
    """Sleep ``seconds``, or raise KeyboardInterrupt as soon as the run is told to stop."""
    if STOP.wait(seconds):
        raise KeyboardInterrupt
