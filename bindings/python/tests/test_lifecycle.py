"""The module's I/O runtime across the life of a process: interpreter exit after asyncio calls
never crashes, calls after exit began fail at once with a clear error, and a child made by
fork() (multiprocessing's default on Linux, gunicorn and celery prefork) gets a working
runtime and working clients instead of hanging forever."""

from __future__ import annotations

import asyncio
import gc
import http.server
import json
import multiprocessing
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator

import pytest

import greenapi_settings as gs

ID = 1101000001

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture
def closing_server(token: str) -> Iterator[str]:
    """A server answering every GET with a full getSettings body and `Connection: close`, so
    each request opens and tears down a connection: the case that crashed at exit."""
    with gs.Sandbox(id_instance=ID, api_token=token, rate_limit=None) as sb:
        client = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)
        body = json.dumps(client.get_settings().to_dict(names="api", reveal_secrets=True)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


EXIT_SCRIPT = """
import asyncio, sys
import greenapi_settings as gs

client = gs.AsyncClient(sys.argv[1], int(sys.argv[2]), sys.argv[3], min_interval=0, retries=0)

async def main() -> None:
    for _ in range(3):
        await client.get_settings()

asyncio.run(main())
"""


def test_interpreter_exit_after_async_calls_never_crashes(closing_server: str, token: str, tmp_path: pathlib.Path) -> None:
    # Before the runtime was shut down at exit, 1 run in 20 to 11 in 15 died here with SIGSEGV
    # or SIGABRT ("PyGILState_Release ... finalizing"): a runtime thread was still completing
    # an asyncio future while the interpreter finalised.
    runs, at_once = 30, 3
    failures: list[str] = []
    for _ in range(runs // at_once):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", EXIT_SCRIPT, closing_server, str(ID), token],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(tmp_path),
            )
            for _ in range(at_once)
        ]
        for p in procs:
            out, err = p.communicate(timeout=60)
            if p.returncode != 0:
                failures.append(f"exit status {p.returncode}: {err.decode(errors='replace')[-500:]}")
    assert failures == [], f"{len(failures)} of {runs} runs failed; first: {failures[0]}"


AFTER_EXIT_SCRIPT = """
import asyncio, atexit, sys
import greenapi_settings as gs

url, id_instance, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = gs.Client(url, id_instance, token, min_interval=0)
aclient = gs.AsyncClient(url, id_instance, token, min_interval=0)
async def read() -> None:
    await aclient.get_settings()

client.get_settings()
asyncio.run(read())
atexit._run_exitfuncs()  # what interpreter exit runs first: the module's hook stops its runtime

for name, call in [
    ("Client.get_settings", client.get_settings),
    ("AsyncClient.get_settings", lambda: asyncio.run(read())),
    ("Client()", lambda: gs.Client(url, id_instance, token)),
]:
    try:
        call()
        print(name, "did not fail")
    except RuntimeError as e:
        print(name, "RuntimeError:", e)
"""


def test_calls_after_interpreter_exit_began_fail_at_once_with_a_clear_error(sandbox: gs.Sandbox, tmp_path: pathlib.Path) -> None:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", AFTER_EXIT_SCRIPT, sandbox.url, str(sandbox.id_instance), sandbox.api_token],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout
    for line in lines:
        assert "RuntimeError:" in line and "interpreter is exiting" in line, line
    assert time.monotonic() - start < 30


def run_in_fork(child: Callable[[], str], budget: float = 20.0) -> str:
    """Runs `child` in a process made by os.fork() and returns what it returned. A child that
    raises fails the test with the error; one still running after `budget` seconds is killed
    and fails it as hung."""
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads may deadlock the child: the
        # very case under test.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            try:
                text, status = "ok " + child(), 0
            except BaseException as e:
                text = f"{type(e).__name__}: {e}"
            os.write(write_end, text.encode())
        finally:
            os._exit(status)
    os.close(write_end)
    deadline = time.monotonic() + budget
    while True:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            pytest.fail(f"the forked child hung: still running after {budget} s")
        time.sleep(0.02)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    text = b"".join(chunks).decode()
    assert os.waitstatus_to_exitcode(wait_status) == 0, text
    assert text.startswith("ok "), text
    return text[3:]


@needs_fork
def test_a_client_used_before_fork_works_in_the_child(client: gs.Client, sandbox: gs.Sandbox) -> None:
    client.set_settings(incoming_webhook=True)  # the parent's runtime and pool are in use

    def child() -> str:
        return repr(client.get_settings().incoming_webhook)

    assert run_in_fork(child) == "True"
    # The parent's client is unaffected.
    assert client.get_settings().incoming_webhook is True
    assert sandbox.stats().get_settings_calls == 2


@needs_fork
def test_a_client_created_in_the_child_works(client: gs.Client, sandbox: gs.Sandbox) -> None:
    client.get_settings()

    def child() -> str:
        fresh = gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0, timeout=5)
        fresh.set_settings(state_webhook=True)
        return repr(fresh.get_settings().state_webhook)

    assert run_in_fork(child) == "True"
    assert client.get_settings().state_webhook is True


@needs_fork
def test_an_async_client_used_before_fork_works_in_the_child(aclient: gs.AsyncClient) -> None:
    async def read() -> bool | None:
        return (await aclient.get_settings()).incoming_webhook

    assert asyncio.run(read()) is False

    def child() -> str:
        return repr(asyncio.run(read()))

    assert run_in_fork(child) == "False"
    assert asyncio.run(read()) is False


@needs_fork
def test_a_timeout_in_the_child_is_honoured(client: gs.Client, token: str) -> None:
    client.get_settings()
    with gs.Sandbox(api_token=token, rate_limit=None, latency=5.0) as slow:
        slow_client = gs.Client(slow.url, slow.id_instance, token, min_interval=0, retries=0, timeout=0.3)

        def child() -> str:
            start = time.monotonic()
            with pytest.raises(gs.TimeoutError):
                slow_client.get_settings()
            return f"{time.monotonic() - start:.1f}"

        assert float(run_in_fork(child, budget=4.0)) < 3.0


@needs_fork
def test_a_child_can_let_go_of_inherited_objects_without_hanging(token: str) -> None:
    sb = gs.Sandbox(api_token=token, rate_limit=None)
    holder = [gs.Client(sb.url, sb.id_instance, token, min_interval=0)]
    holder[0].get_settings()

    def child() -> str:
        # The server's threads live in the parent: the child can still call it...
        gs.Client(sb.url, sb.id_instance, token, min_interval=0).get_settings()
        # ...but not inspect it, and closing or dropping it only lets go of it.
        with pytest.raises(RuntimeError, match="fork"):
            sb.stats()
        sb.close()
        holder.clear()  # drops a client that was never used in the child
        gc.collect()
        return "done"

    try:
        assert run_in_fork(child) == "done"
        assert sb.stats().get_settings_calls == 2  # the parent's server ran on
    finally:
        sb.close()


def read_settings(args: tuple[str, int, str]) -> bool | None:
    url, id_instance, token = args
    return gs.Client(url, id_instance, token, min_interval=0, timeout=5).get_settings().incoming_webhook


def send_bad_change(args: tuple[str, int, str]) -> bool:
    url, id_instance, token = args
    return gs.Client(url, id_instance, token, min_interval=0).set_settings(delay_send_messages_milliseconds=1)


def read_with_wrong_token(args: tuple[str, int, str]) -> bool | None:
    url, id_instance, _ = args
    return gs.Client(url, id_instance, "tok-WRONG-in-worker", min_interval=0, retries=0).get_settings().incoming_webhook


@needs_fork
def test_multiprocessing_fork_workers_call_the_api_and_their_errors_reach_the_parent(client: gs.Client, sandbox: gs.Sandbox) -> None:
    client.get_settings()
    args = (sandbox.url, sandbox.id_instance, sandbox.api_token)
    ctx = multiprocessing.get_context("fork")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pool = ctx.Pool(2)
    try:
        assert pool.map_async(read_settings, [args] * 4).get(timeout=30) == [False] * 4
        with pytest.raises(gs.ValidationError) as bad:
            pool.apply_async(send_bad_change, (args,)).get(timeout=30)
        assert [v.field for v in bad.value.violations] == ["delaySendMessagesMilliseconds"]
        assert "delaySendMessagesMilliseconds" in str(bad.value)
        with pytest.raises(gs.AuthError) as auth:
            pool.apply_async(read_with_wrong_token, (args,)).get(timeout=30)
        assert auth.value.status == 401 and auth.value.retryable is False
    finally:
        pool.terminate()
        pool.join()
