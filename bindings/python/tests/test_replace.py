"""`replace(**changes)` (issue 19): a new, checked object, like `dataclasses.replace`."""

from __future__ import annotations

import pytest

import greenapi_settings as gs


def test_replace_changes_adds_and_unsets_fields_and_leaves_the_original_alone() -> None:
    p = gs.SettingsPatch(incoming_webhook=True, webhook_url="https://example.com/a")
    q = p.replace(incoming_webhook=False, delay_send_messages_milliseconds=5000, webhook_url=None)
    assert q == gs.SettingsPatch(incoming_webhook=False, delay_send_messages_milliseconds=5000)
    assert p == gs.SettingsPatch(incoming_webhook=True, webhook_url="https://example.com/a")
    assert p.replace() == p and p.replace() is not p


def test_replace_names_an_unknown_keyword_with_a_suggestion() -> None:
    with pytest.raises(TypeError, match=r"^SettingsPatch\.replace\(\) got an unexpected keyword argument 'incoming_webhok' \(did you mean 'incoming_webhook'"):
        gs.SettingsPatch().replace(incoming_webhok=True)  # type: ignore[call-arg]


def test_replace_checks_values_as_the_constructor_does() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch().replace(incoming_webhook="maybe", delay_send_messages_milliseconds=5.5)  # type: ignore[arg-type]
    assert {v.field for v in info.value.violations} == {"incomingWebhook", "delaySendMessagesMilliseconds"}


def test_settings_replace_gives_new_settings(client: gs.Client) -> None:
    s = client.get_settings()
    t = s.replace(incoming_webhook=not s.incoming_webhook, delay_send_messages_milliseconds=5000.0)  # type: ignore[arg-type]
    assert t.incoming_webhook is (not s.incoming_webhook) and t.delay_send_messages_milliseconds == 5000
    assert t.wid == s.wid and s == client.get_settings()
    with pytest.raises(TypeError, match="did you mean 'incoming_webhook'"):
        s.replace(incoming_webhok=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="cannot be None"):
        s.replace(incoming_webhook=None)  # type: ignore[arg-type]
