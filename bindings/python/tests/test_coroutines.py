"""AsyncClient methods return coroutines: lazy until awaited, accepted by asyncio.run, gather,
wait_for and create_task, and by anyio on its asyncio backend; cancelling one aborts its HTTP
request at once. Not trio: awaiting outside an asyncio loop is a clear RuntimeError."""

from __future__ import annotations

import asyncio
import inspect
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

import anyio
import pytest

import greenapi_settings as gs

ID = 1101000001
TOKEN = "tok-SECRET-4f1c9a"


@dataclass
class HangingServer:
    """Accepts one request, never answers, and notes when the client hangs up."""

    url: str
    got_request: threading.Event = field(default_factory=threading.Event)
    hung_up: threading.Event = field(default_factory=threading.Event)
    hung_up_at: float = 0.0


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    listener = socket.create_server(("127.0.0.1", 0))
    server = HangingServer(url=f"http://127.0.0.1:{listener.getsockname()[1]}")

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            server.got_request.set()
            conn.settimeout(10)
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass
            server.hung_up_at = time.monotonic()
            server.hung_up.set()

    threading.Thread(target=serve, daemon=True).start()
    yield server
    listener.close()


def test_every_method_returns_a_coroutine_that_asyncio_run_accepts(aclient: gs.AsyncClient) -> None:
    coro = aclient.get_settings()
    assert asyncio.iscoroutine(coro) and inspect.isawaitable(coro)
    assert coro.__qualname__ == "AsyncClient.get_settings"  # type: ignore[attr-defined]
    assert isinstance(asyncio.run(coro), gs.Settings)
    for make in (
        lambda: aclient.set_settings(incoming_webhook=True),
        lambda: aclient.plan(incoming_webhook=True),
        lambda: aclient.apply(incoming_webhook=True),
    ):
        c = make()
        assert asyncio.iscoroutine(c)
        asyncio.run(c)


def test_a_coroutine_sends_nothing_until_awaited(aclient: gs.AsyncClient, sandbox: gs.Sandbox) -> None:
    coro = aclient.set_settings(incoming_webhook=True)
    time.sleep(0.2)
    assert sandbox.stats().set_settings_calls == 0
    assert asyncio.run(coro) is True
    assert sandbox.stats().set_settings_calls == 1
    # Closed without being awaited: never sent.
    aclient.set_settings(state_webhook=True).close()
    assert sandbox.stats().set_settings_calls == 1


def test_a_coroutine_cannot_be_awaited_twice(aclient: gs.AsyncClient) -> None:
    coro = aclient.get_settings()
    asyncio.run(coro)
    with pytest.raises(RuntimeError, match="already awaited"):
        asyncio.run(coro)


def test_a_hundred_calls_gathered_over_ten_sandboxes_all_complete(token: str) -> None:
    with ExitStack() as stack:
        sandboxes = [stack.enter_context(gs.Sandbox(api_token=token, rate_limit=None)) for _ in range(10)]
        clients = [gs.AsyncClient(sb.url, sb.id_instance, sb.api_token, min_interval=0) for sb in sandboxes]

        async def main() -> list[gs.Settings]:
            return list(await asyncio.gather(*(c.get_settings() for c in clients for _ in range(10))))

        start = time.monotonic()
        results = asyncio.run(asyncio.wait_for(main(), timeout=30))
        print(f"100 calls over 10 sandboxes in {time.monotonic() - start:.3f} s")
        assert len(results) == 100 and all(isinstance(r, gs.Settings) for r in results)
        assert [sb.stats().get_settings_calls for sb in sandboxes] == [10] * 10


def test_cancelling_a_task_aborts_its_http_request_at_once(hanging_server: HangingServer) -> None:
    client = gs.AsyncClient(hanging_server.url, ID, TOKEN, min_interval=0, retries=0, timeout=30)

    async def main() -> float:
        task = asyncio.create_task(client.get_settings())
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, hanging_server.got_request.wait, 5)
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await loop.run_in_executor(None, hanging_server.hung_up.wait, 5)
        return hanging_server.hung_up_at - cancelled_at

    delay = asyncio.run(main())
    print(f"connection closed {delay * 1000:.1f} ms after cancel()")
    assert delay < 1.0


def test_wait_for_timeout_aborts_the_http_request(hanging_server: HangingServer) -> None:
    client = gs.AsyncClient(hanging_server.url, ID, TOKEN, min_interval=0, retries=0, timeout=30)

    async def main() -> None:
        await asyncio.wait_for(client.get_settings(), timeout=0.3)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(main())
    assert hanging_server.hung_up.wait(5)


def test_anyio_on_asyncio_runs_calls_and_its_cancel_scopes_abort_them(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None) as fast, gs.Sandbox(
        api_token=token, rate_limit=None, latency=5.0
    ) as slow:
        quick = gs.AsyncClient(fast.url, fast.id_instance, fast.api_token, min_interval=0)
        stuck = gs.AsyncClient(slow.url, slow.id_instance, slow.api_token, min_interval=0)

        async def main() -> tuple[list[gs.Settings], bool]:
            results: list[gs.Settings] = []

            async def one() -> None:
                results.append(await quick.get_settings())

            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(one)
            with anyio.move_on_after(0.3) as scope:
                await stuck.get_settings()
            return results, scope.cancelled_caught

        start = time.monotonic()
        results, cancelled = anyio.run(main, backend="asyncio")
        assert len(results) == 3 and cancelled
        assert time.monotonic() - start < 3.0


def test_awaiting_outside_an_asyncio_loop_is_a_clear_runtime_error_and_sends_nothing(
    aclient: gs.AsyncClient, sandbox: gs.Sandbox
) -> None:
    # What trio (or any other loop) would do: drive the coroutine without an asyncio loop.
    coro = aclient.set_settings(incoming_webhook=True)
    with pytest.raises(RuntimeError, match="asyncio event loop.*trio is not supported"):
        coro.send(None)
    time.sleep(0.2)
    assert sandbox.stats().set_settings_calls == 0


def test_arguments_are_checked_when_called_not_when_awaited(aclient: gs.AsyncClient) -> None:
    with pytest.raises(TypeError, match="did you mean"):
        _ = aclient.plan(keep_online_statu=True)  # type: ignore[call-arg]
    with pytest.raises(gs.ValidationError):
        _ = aclient.set_settings(delay_send_messages_milliseconds=1)


def test_plan_with_an_invalid_desired_state_raises_when_awaited_before_any_request(
    aclient: gs.AsyncClient, sandbox: gs.Sandbox
) -> None:
    coro = aclient.plan(delay_send_messages_milliseconds=1)
    with pytest.raises(gs.ValidationError):
        asyncio.run(coro)
    assert sandbox.stats().get_settings_calls == 0


EXIT_SCRIPT = """
import asyncio, sys
import greenapi_settings as gs

sb = gs.Sandbox(rate_limit=None, latency=2.0)
client = gs.AsyncClient(sb.url, sb.id_instance, sb.api_token, min_interval=0)
never_awaited = client.get_settings()

async def main() -> None:
    started = asyncio.ensure_future(client.get_settings())
    await asyncio.sleep(0.1)
    try:
        await asyncio.wait_for(client.get_settings(), timeout=0.05)
    except asyncio.TimeoutError:
        pass
    # `started` is still running when asyncio.run cancels it and the interpreter exits.

asyncio.run(main())
print("done")
"""


def test_interpreter_exit_with_coroutines_pending_or_cancelled_is_clean() -> None:
    import subprocess
    import sys

    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", EXIT_SCRIPT], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr
        assert "Traceback" not in done.stderr and "never awaited" not in done.stderr
