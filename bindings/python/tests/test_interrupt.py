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
