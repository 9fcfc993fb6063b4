"""The `greenapi-settings` console script of the installed wheel and `python -m
greenapi_settings` (issue 19) run the Rust command line: its output and exit codes, and Ctrl-C
ends it as it ends the native program (no Python traceback)."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest

import greenapi_settings as gs

SCRIPT = pathlib.Path(sys.executable).parent / "greenapi-settings"


def env() -> dict[str, str]:
    """No credentials from the environment: reading commands use the embedded sandbox."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GREEN_API_", "GREENAPI_SETTINGS_")) and k != "XDG_CONFIG_HOME"
    }
    keep["HOME"] = "/nonexistent-greenapi-settings-home"  # no profile either
    keep["NO_COLOR"] = "1"
    return keep


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=60, env=env(), check=False
    )


def test_the_console_script_is_installed_with_the_wheel() -> None:
    assert SCRIPT.is_file() and os.access(SCRIPT, os.X_OK)


def test_version_prints_the_package_version_and_exits_0() -> None:
    done = run("--version")
    assert done.returncode == 0, done.stderr
    assert gs.__version__ in done.stdout and done.stdout.startswith("greenapi-settings ")


def test_get_json_against_the_embedded_sandbox_exits_0_with_json() -> None:
    done = run("get", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert "sandbox-token" not in done.stdout + done.stderr
    assert "incomingWebhook" in json.dumps(body)


def test_a_usage_error_exits_2_and_names_the_problem() -> None:
    done = run("get", "--no-such-flag")
    assert done.returncode == 2
    assert "--no-such-flag" in done.stderr and "Traceback" not in done.stderr


def test_python_dash_m_runs_the_same_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "greenapi_settings", "--version"],
        capture_output=True, text=True, timeout=60, env=env(), check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("greenapi-settings ")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_the_sandbox_command_as_it_stops_the_native_one() -> None:
    # `sandbox` serves until Ctrl-C, then stops and exits 0. Python's own SIGINT handler, had
    # the console script kept it, would also have been called: a KeyboardInterrupt traceback
    # after the command returned.
    proc = subprocess.Popen(
        [str(SCRIPT), "sandbox", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]  # bounded: three lines, then Ctrl-C
        assert lines[2].startswith("press Ctrl-C to stop"), lines
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    # 0: stopped by its own Ctrl-C handling (the handler is set right after the third line;
    # a signal in between ends it by the default action, as it would the native program).
    assert proc.returncode in (0, -signal.SIGINT), (proc.returncode, err)
