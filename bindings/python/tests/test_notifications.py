"""Notifications the settings switch on (issue 21): the sandbox delivers what the settings
enable to a real receiver on loopback, with the webhook token as a Bearer token; suppresses
the rest with the reason; and serves the HTTP API way of receiving to the official Python
SDK's polling loop. The bodies fit the generated `TypedDict`s."""

from __future__ import annotations

import http.server
import inspect
import json
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import greenapi_settings as gs
from greenapi_settings import notifications as n

WEBHOOK_TOKEN = "whk-SECRET-93be11"


class Receiver:
    """A webhook receiver on 127.0.0.1 that records each POST and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.got: list[tuple[str | None, dict[str, Any]]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                with outer.lock:
                    outer.got.append((self.headers.get("Authorization"), body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, seconds: float = 10.0) -> list[tuple[str | None, dict[str, Any]]]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.got) >= count:
                    return list(self.got)
            time.sleep(0.02)
        with self.lock:
            return list(self.got)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def fast_sandbox(token: str) -> Iterator[gs.Sandbox]:
    """Deliveries and receiveNotification waits scaled down to test speed."""
    with gs.Sandbox(
        api_token=token,
        rate_limit=None,
        notify_timeout=2.0,
        notify_retry=0.05,
        notify_receive_scale=0.01,
    ) as sb:
        yield sb


def client_of(sb: gs.Sandbox) -> gs.Client:
    return gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)


def wait_until(cond: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_a_receiver_gets_a_triggered_state_change_once_with_the_bearer_token(
    fast_sandbox: gs.Sandbox, receiver: Receiver
) -> None:
    client_of(fast_sandbox).set_settings(
        webhook_url=receiver.url, webhook_url_token=WEBHOOK_TOKEN, state_webhook=True
    )
    answer = fast_sandbox.trigger("stateInstanceChanged", stateInstance="starting")
    assert answer["outcome"] == "queued"
    got = receiver.wait_for(1)
    assert len(got) == 1
    auth, body = got[0]
    assert auth == f"Bearer {WEBHOOK_TOKEN}"
    assert body["typeWebhook"] == "stateInstanceChanged"
    assert body["stateInstance"] == "starting"
    assert body["instanceData"]["idInstance"] == fast_sandbox.id_instance
    assert n.StateInstanceChanged.__required_keys__ <= body.keys()
    assert wait_until(lambda: len(fast_sandbox.notifications()["delivered"]) == 1)
    time.sleep(0.2)
    assert len(receiver.got) == 1, "delivered once"
    log = fast_sandbox.notifications()
    assert WEBHOOK_TOKEN not in json.dumps(log)
    assert WEBHOOK_TOKEN not in repr(fast_sandbox)


def test_with_the_setting_off_nothing_arrives_and_the_reason_names_it(
    fast_sandbox: gs.Sandbox, receiver: Receiver
) -> None:
    client_of(fast_sandbox).set_settings(webhook_url=receiver.url, incoming_webhook=True)
    answer = fast_sandbox.trigger("incomingCall")
    assert answer["outcome"] == "suppressed"
    assert answer["reason"] == (
        "incomingCall needs incomingWebhook and incomingCallWebhook: incomingCallWebhook is off"
    )
    suppressed = fast_sandbox.notifications()["suppressed"]
    assert [s["reason"] for s in suppressed] == [answer["reason"]]
    time.sleep(0.3)
    assert receiver.got == []


def test_a_receiver_answering_500_gets_the_same_notification_again(token: str) -> None:
    failing = Receiver(status=500)
    try:
        with gs.Sandbox(api_token=token, rate_limit=None, notify_timeout=2.0, notify_retry=0.05) as sb:
            client_of(sb).set_settings(webhook_url=failing.url, state_webhook=True)
            sb.trigger("stateInstanceChanged")
            got = failing.wait_for(3)
            assert len(got) >= 3
            assert len({json.dumps(b, sort_keys=True) for _, b in got}) == 1, "the same one, again"
            assert sb.notifications()["failing"] is not None
    finally:
        failing.close()


def test_every_kind_triggered_with_every_setting_on_fits_its_typed_dict(
    fast_sandbox: gs.Sandbox,
) -> None:
    client = client_of(fast_sandbox)
    current = client.get_settings().to_dict(names="snake")
    every_switch = {k: True for k, v in current.items() if isinstance(v, bool)}
    # Deprecated and temporarily broken switches warn, and some kinds need them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.set_settings(every_switch)
    by_type = {t: getattr(n, t[0].upper() + t[1:]) for t in n.TYPE_WEBHOOKS}
    for kind in n.KINDS:
        answer = fast_sandbox.trigger(kind)
        assert answer["outcome"] == "queued", (kind, answer)
        body = answer["body"]
        assert by_type[body["typeWebhook"]].__required_keys__ <= body.keys(), kind
    assert len(fast_sandbox.notifications()["queued"]) == len(n.KINDS)


def test_trigger_refuses_an_unknown_kind_and_fields_of_the_wrong_type(
    fast_sandbox: gs.Sandbox,
) -> None:
    with pytest.raises(ValueError, match="known types.*incomingCall"):
        fast_sandbox.trigger("incomingCalls")
    with pytest.raises(ValueError, match="timestamp"):
        fast_sandbox.trigger("incomingCall", {"timestamp": "yesterday"})
    with pytest.raises(TypeError, match="mapping"):
        fast_sandbox.trigger("incomingCall", ["status", "offer"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not JSON data"):
        fast_sandbox.trigger("incomingCall", status=object())
    assert fast_sandbox.notifications()["queued"] == []


def test_the_notify_keywords_are_checked_and_shown_in_the_signature(token: str) -> None:
    for bad in ({"notify_timeout": 0}, {"notify_retry": -1}, {"notify_queue": 0}, {"notify_receive_scale": 2}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            gs.Sandbox(api_token=token, **bad)  # type: ignore[arg-type]
    params = inspect.signature(gs.Sandbox).parameters
    assert params["notify_timeout"].default == 180.0
    assert params["notify_retry"].default == 60.0
    assert params["notify_restarts"].default is False


def test_a_full_queue_drops_the_oldest_and_counts_it(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, notify_queue=2) as sb:
        client_of(sb).set_settings(incoming_webhook=True)
        for i in range(3):
            sb.trigger("incomingMessageReceived", {"messageData": {"textMessageData": {"textMessage": f"m{i}"}}})
        log = sb.notifications()
        assert log["dropped"] == 1
        assert len(log["queued"]) == 2


def test_the_official_python_sdk_polling_receives_them_in_order_and_deletes_them(
    fast_sandbox: gs.Sandbox,
) -> None:
    if sys.version_info < (3, 10):
        pytest.skip("the official SDK (whatsapp-api-client-python 0.0.55) needs Python 3.10+")
    from whatsapp_api_client_python import API  # type: ignore[import-untyped]

    client_of(fast_sandbox).set_settings(incoming_webhook=True)
    texts = [f"message {i}" for i in range(3)]
    for t in texts:
        fast_sandbox.trigger(
            "incomingMessageReceived", {"messageData": {"textMessageData": {"textMessage": t}}}
        )
    green = API.GreenApi(str(fast_sandbox.id_instance), fast_sandbox.api_token, host=fast_sandbox.url)
    seen: list[str] = []

    def on_event(type_webhook: str, body: dict[str, Any]) -> None:
        assert type_webhook == "incomingMessageReceived"
        seen.append(body["messageData"]["textMessageData"]["textMessage"])
        if len(seen) == len(texts):
            green.webhooks.stopReceivingNotifications()

    loop = threading.Thread(target=green.webhooks.startReceivingNotifications, args=(on_event,), daemon=True)
    loop.start()
    loop.join(timeout=30)
    if loop.is_alive():
        green.webhooks.stopReceivingNotifications()
        loop.join(timeout=10)
    assert seen == texts
    # The SDK deletes each after its handler: nothing is left for a second receiver.
    assert wait_until(lambda: fast_sandbox.notifications()["queued"] == [])
    delivered = fast_sandbox.notifications()["delivered"]
    assert [d["via"] for d in delivered] == ["deleteNotification"] * 3
