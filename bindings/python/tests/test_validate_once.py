"""Validate once, warn once, on one channel: each warning about a change is emitted exactly once,
as a Python warning (DeprecationWarning for unused or deprecated settings, UserWarning
otherwise), never also as a log record; errors raise ValidationError before anything is sent."""

from __future__ import annotations

import asyncio
import logging
import warnings

import pytest

import greenapi_settings as gs


def caught(call: object) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        call()  # type: ignore[operator]
    return seen


def test_set_settings_warns_once_per_problem(client: gs.Client) -> None:
    seen = caught(lambda: client.set_settings(device_webhook=True, shared_session=True))
    assert sorted(w.category.__name__ for w in seen) == ["DeprecationWarning", "UserWarning"]


def test_async_set_settings_warns_once_when_called_and_not_again_when_awaited(aclient: gs.AsyncClient) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        coro = aclient.set_settings(device_webhook=True)
        assert len(seen) == 1
        asyncio.run(coro)
    assert len(seen) == 1 and seen[0].category is UserWarning


def test_apply_warns_once_for_the_plan_and_not_again_for_the_send(client: gs.Client, sandbox: gs.Sandbox) -> None:
    seen = caught(lambda: client.apply(device_webhook=True))
    assert [w.category for w in seen] == [UserWarning]
    assert sandbox.stats().set_settings_calls == 1


def test_warnings_are_not_also_logged(client: gs.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        caught(lambda: client.set_settings(device_webhook=True))
        caught(lambda: client.apply(shared_session=True))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("method", ["set_settings", "plan", "apply"])
def test_an_invalid_change_raises_before_any_request(client: gs.Client, sandbox: gs.Sandbox, method: str) -> None:
    with pytest.raises(gs.ValidationError) as info:
        getattr(client, method)(delay_send_messages_milliseconds=1)
    assert [v.field for v in info.value.violations] == ["delaySendMessagesMilliseconds"]
    stats = sandbox.stats()
    assert stats.get_settings_calls == 0 and stats.set_settings_calls == 0


def test_a_patch_sent_again_warns_again_with_the_same_text(client: gs.Client, sandbox: gs.Sandbox) -> None:
    # A SettingsPatch keeps its check (and its warnings' text) from the first send; every
    # send still emits every warning, each time as the first time.
    patch = gs.SettingsPatch(device_webhook=True, shared_session=True, incoming_webhook=False)
    first = caught(lambda: client.set_settings(patch))
    second = caught(lambda: client.set_settings(patch))
    assert [(w.category, str(w.message)) for w in second] == [(w.category, str(w.message)) for w in first]
    assert sorted(w.category.__name__ for w in first) == ["DeprecationWarning", "UserWarning"]
    assert sandbox.stats().set_settings_calls == 2


def test_warnings_as_errors_stop_every_send_of_a_kept_patch(client: gs.Client, sandbox: gs.Sandbox) -> None:
    patch = gs.SettingsPatch(device_webhook=True)
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(UserWarning):
                client.set_settings(patch)
    assert sandbox.stats().set_settings_calls == 0
    caught(lambda: client.set_settings(patch))
    assert sandbox.stats().set_settings_calls == 1


def test_an_invalid_patch_raises_on_every_send(client: gs.Client, sandbox: gs.Sandbox) -> None:
    patch = gs.SettingsPatch(delay_send_messages_milliseconds=1)
    for _ in range(2):
        with pytest.raises(gs.ValidationError):
            client.set_settings(patch)
    assert sandbox.stats().set_settings_calls == 0


def test_a_patch_and_keywords_together_are_still_refused(client: gs.Client) -> None:
    with pytest.raises(TypeError, match="not both"):
        client.set_settings(gs.SettingsPatch(incoming_webhook=True), device_webhook=True)
