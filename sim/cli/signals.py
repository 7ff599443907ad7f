"""Termination signals as interruptions: SIGTERM (what ``timeout``, systemd and
``docker stop`` send) stops a command the way Ctrl-C does, so a run directory or a sweep
store is closed cleanly (results committed, manifest marked interrupted) instead of the
process vanishing mid-write."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

__all__ = ["Terminated", "interrupted", "sigterm_as_interrupt"]

SIGTERM_EXIT = 128 + signal.SIGTERM  # the shell's status for a process ended by SIGTERM


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM arrives (a KeyboardInterrupt, so the same
    clean-up runs)."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[dict[str, bool]]:
    """Within the block, SIGTERM raises `Terminated`; yields {"terminated": bool}. A no-op
    outside the main thread (signal handlers live there)."""
    state = {"terminated": False}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum: int, frame: object) -> None:
        state["terminated"] = True
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted(command: str, state: dict[str, bool]) -> int:
    """Say that a resumable command (sweep, compare, hindcast) was interrupted, in one line
    on stderr, and return its exit status: 143 after SIGTERM, else 130 (Ctrl-C)."""
    print(f"ddsim {command}: interrupted; rerun the same command to resume", file=sys.stderr)
    return SIGTERM_EXIT if state["terminated"] else 130
