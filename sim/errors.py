"""The error every user-input problem is raised as, so the CLI can print one line and exit 2.

It sits below every layer (the model core included) and imports nothing.
"""

from __future__ import annotations


class InputError(Exception):
    """A user input (scenario, experiment, option, run or sweep directory) is wrong; the CLI
    prints ``str(error)`` on one line and exits 2."""
