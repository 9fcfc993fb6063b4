"""SettingsPatch, Settings, Violation and every exception class survive pickle, copy and
deepcopy: what multiprocessing, caches and task queues do with them. (A worker's error
reaching its parent through a real process pool is in test_lifecycle.py.)"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import pytest

import greenapi_settings as gs

ROUND_TRIPS: list[Callable[[object], object]] = [
    lambda o: pickle.loads(pickle.dumps(o)),
    lambda o: pickle.loads(pickle.dumps(o, protocol=0)),
    copy.copy,
    copy.deepcopy,
]
IDS = ["pickle", "pickle-protocol-0", "copy", "deepcopy"]


@pytest.fixture(params=ROUND_TRIPS, ids=IDS)
def round_trip(request: pytest.FixtureRequest) -> Callable[[object], object]:
    fn: Callable[[object], object] = request.param
    return fn


def test_settings_patch(round_trip: Callable[[object], object]) -> None:
    patch = gs.SettingsPatch(
        webhook_url="https://example.com/hook",
        webhook_url_token="hook-secret",
        delay_send_messages_milliseconds=5000,
        incoming_webhook=True,
        outgoing_webhook=False,
    )
    back = round_trip(patch)
    assert isinstance(back, gs.SettingsPatch) and back == patch
    assert back.webhook_url_token == "hook-secret" and back.incoming_webhook is True
    assert round_trip(gs.SettingsPatch()) == gs.SettingsPatch()


def test_settings_with_read_only_and_unknown_fields(round_trip: Callable[[object], object]) -> None:
    settings = gs.Settings.from_dict(
        {"wid": "79001234567@c.us", "incomingWebhook": "yes", "delaySendMessagesMilliseconds": 5000, "someNewField": [1, {"a": None}]}
    )
    back = round_trip(settings)
    assert isinstance(back, gs.Settings) and back == settings
    assert back.extra == {"someNewField": [1, {"a": None}]} and back.wid == "79001234567@c.us"


def violations() -> list[gs.Violation]:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(delay_send_messages_milliseconds=1, webhook_url="nope", webhook_url_token="bad\x00").validate()
    found = list(info.value.violations)
    found += gs.SettingsPatch(country_instance="ru").validate()  # a warning
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch.from_dict({"webhookUrl": None})  # a JSON null as the value
    found += info.value.violations
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(webhook_url=b"x")  # type: ignore[arg-type]  # no value at all
    found += info.value.violations
    return found


def test_violations(round_trip: Callable[[object], object]) -> None:
    for v in violations():
        back = round_trip(v)
        assert isinstance(back, gs.Violation) and back == v
        assert (back.field, back.value, back.rule, back.severity, back.message) == (v.field, v.value, v.rule, v.severity, v.message)
        assert repr(back) == repr(v)


def test_validation_error_keeps_its_violations(round_trip: Callable[[object], object]) -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(delay_send_messages_milliseconds=1, webhook_url="nope").validate()
    back = round_trip(info.value)
    assert type(back) is gs.ValidationError and isinstance(back, ValueError)
    assert str(back) == str(info.value)
    assert back.violations == info.value.violations and len(back.violations) == 2


@pytest.mark.parametrize(
    "cls",
    [
        gs.GreenApiError, gs.ValidationError, gs.ConfigError, gs.AuthError, gs.ForbiddenError,
        gs.RateLimitError, gs.QuotaExceededError, gs.InstanceNotReadyError, gs.RejectedError,
        gs.ServerError, gs.TransportError, gs.TimeoutError, gs.DecodeError,
    ],
)
def test_every_exception_class_keeps_its_type_message_and_attributes(cls: type[gs.GreenApiError], round_trip: Callable[[object], object]) -> None:
    e = cls("something failed")
    e.status = 503
    e.retryable = True
    back = round_trip(e)
    assert type(back) is cls and str(back) == "something failed"
    assert back.status == 503 and back.retryable is True


def test_a_raised_error_keeps_its_attributes(sandbox: gs.Sandbox, round_trip: Callable[[object], object]) -> None:
    client = gs.Client(sandbox.url, sandbox.id_instance, "tok-WRONG-77aa0b", min_interval=0, retries=0)
    with pytest.raises(gs.AuthError) as info:
        client.get_settings()
    back = round_trip(info.value)
    assert type(back) is gs.AuthError and str(back) == str(info.value)
    assert back.status == 401 and back.retryable is False
