"""Blocking calls release the GIL while waiting for the network and stop at Ctrl-C."""

import _thread
import threading
import time

import pytest

import greenapi_settings as gs


def test_ctrl_c_interrupts_a_slow_blocking_call_long_before_it_would_finish(token: str) -> None:
    sb = gs.Sandbox(api_token=token, rate_limit=None, latency=5.0)
    client = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0, retries=0)
    timer = threading.Timer(0.2, _thread.interrupt_main)  # what Ctrl-C does to the main thread
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            client.get_settings()
    finally:
        timer.cancel()
    assert time.monotonic() - start < 2.5  # the call itself would take 5 s
    # The request was aborted, not left running: the server has nothing in flight to wait
    # for when it shuts down (it would wait out the 5 s latency otherwise).
    start = time.monotonic()
    sb.close()
    assert time.monotonic() - start < 2.0


def test_other_python_threads_run_while_a_call_waits_for_the_network(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, latency=0.5) as sb:
        client = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)
        ticks = 0
        done = threading.Event()

        def count() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                time.sleep(0.01)

        worker = threading.Thread(target=count)
        worker.start()
        try:
            client.get_settings()
        finally:
            done.set()
            worker.join()
        # ~50 ticks in 0.5 s if the GIL is free; none if the call held it.
        assert ticks >= 20


def test_blocking_calls_work_from_a_worker_thread(client: gs.Client) -> None:
    results: list[bool] = []
    t = threading.Thread(target=lambda: results.append(client.get_settings().incoming_webhook))
    t.start()
    t.join()
    assert results == [False]


def test_blocking_calls_from_many_threads_at_once_all_complete(client: gs.Client, sandbox: gs.Sandbox) -> None:
    # Each blocking call runs its request on its own thread; one client shared by eight
    # threads, and a client per thread, side by side.
    errors: list[BaseException] = []

    def work(c: gs.Client) -> None:
        try:
            for i in range(25):
                c.set_settings(delay_send_messages_milliseconds=1000 + i)
                c.get_settings()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    own = [gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0) for _ in range(4)]
    threads = [threading.Thread(target=work, args=(c,)) for c in [client] * 8 + own]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == []
    assert sandbox.stats().set_settings_calls == 12 * 25
    assert time.monotonic() - start < 30


def test_a_slow_call_in_one_thread_does_not_hold_up_calls_in_another(token: str, client: gs.Client) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, latency=2.0) as slow_sb:
        slow = gs.Client(slow_sb.url, slow_sb.id_instance, slow_sb.api_token, min_interval=0, retries=0)
        started = threading.Event()
        done: list[float] = []

        def wait_for_slow() -> None:
            started.set()
            slow.get_settings()
            done.append(time.monotonic())

        t = threading.Thread(target=wait_for_slow)
        t.start()
        started.wait()
        time.sleep(0.1)  # the slow call is on the wire
        start = time.monotonic()
        for _ in range(20):
            client.get_settings()
        fast = time.monotonic() - start
        t.join(timeout=30)
        assert done, "the slow call never finished"
        assert fast < 1.0, f"20 fast calls took {fast:.2f} s next to a 2 s call"
