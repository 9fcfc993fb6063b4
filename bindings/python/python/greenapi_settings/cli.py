"""The `greenapi-settings` command line from Python: the console script of this package and
`python -m greenapi_settings` run the same Rust command line as the native binary
(`greenapi-settings --help`)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

from greenapi_settings._native import _run_cli


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `greenapi-settings` with `argv` (default: `sys.argv[1:]`) and returns its exit code:
    0 ok, 1 API or network failure, 2 invalid input or usage, 130 / 143 stopped by Ctrl-C /
    SIGTERM.

    Made to be a process's main: on the main thread, Ctrl-C gets its default action back (end
    the process, as it ends the native program) instead of Python's `KeyboardInterrupt`, which
    could only be raised after the command returned; fleet commands catch it themselves and
    exit 130 with their report written.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    # Output written from Python so far goes first: the command writes to the file descriptors.
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    return _run_cli(["greenapi-settings", *args])
