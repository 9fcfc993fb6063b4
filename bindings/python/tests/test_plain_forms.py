"""`to_dict(names=...)` / `to_json(names=...)` (issue 19): plain, `json.dumps`-able data with the
key spelling chosen explicitly; the webhook secret redacted unless asked for."""

from __future__ import annotations

import json

import pytest

import greenapi_settings as gs

SECRET = "hook-SECRET-5e7d"
BODY = {
    "wid": "79001234567@c.us",
    "incomingWebhook": "yes",
    "outgoingWebhook": "no",
    "webhookUrl": "https://example.com/hook",
    "webhookUrlToken": SECRET,
    "delaySendMessagesMilliseconds": 5000,
    "someFutureSetting": "yes",
}


def patch() -> gs.SettingsPatch:
    return gs.SettingsPatch(
        incoming_webhook=True, delay_send_messages_milliseconds=5000, webhook_url_token=SECRET
    )


def test_names_must_be_chosen_explicitly() -> None:
    with pytest.raises(TypeError, match="names"):
        patch().to_dict()  # type: ignore[call-arg]
    with pytest.raises(ValueError, match='"api".*"snake"'):
        patch().to_dict(names="camel")  # type: ignore[arg-type]


def test_a_patch_in_api_names_is_the_request_body_with_the_secret_redacted() -> None:
    assert patch().to_dict(names="api") == {
        "incomingWebhook": "yes",
        "delaySendMessagesMilliseconds": 5000,
        "webhookUrlToken": "<redacted>",
    }


def test_a_patch_in_snake_names_round_trips_through_the_constructor_when_revealed() -> None:
    d = patch().to_dict(names="snake", reveal_secrets=True)
    assert d == {
        "incoming_webhook": True,
        "delay_send_messages_milliseconds": 5000,
        "webhook_url_token": SECRET,
    }
    assert gs.SettingsPatch(**d) == patch()
    assert gs.SettingsPatch.from_dict(patch().to_dict(names="api", reveal_secrets=True)) == patch()


def test_an_empty_secret_is_not_redacted() -> None:
    assert gs.SettingsPatch(webhook_url_token="").to_dict(names="api") == {"webhookUrlToken": ""}


def test_to_json_is_json_dumps_of_to_dict_and_hides_the_secret() -> None:
    p = patch()
    for names in ("api", "snake"):
        text = p.to_json(names=names)
        assert json.loads(text) == p.to_dict(names=names)
        assert SECRET not in text
    assert p.to_json(names="api", indent=2) == json.dumps(p.to_dict(names="api"), indent=2)
    assert SECRET in p.to_json(names="api", reveal_secrets=True)


def test_settings_in_both_spellings() -> None:
    s = gs.Settings.from_dict(BODY)
    api = s.to_dict(names="api")
    assert api["incomingWebhook"] == "yes" and api["wid"] == "79001234567@c.us"
    assert api["webhookUrlToken"] == "<redacted>" and api["someFutureSetting"] == "yes"
    snake = s.to_dict(names="snake")
    assert snake["incoming_webhook"] is True and snake["outgoing_webhook"] is False
    assert snake["webhook_url_token"] == "<redacted>" and snake["wid"] == "79001234567@c.us"
    # A field this version does not know has no snake_case name: it stays in `extra`.
    assert "someFutureSetting" not in snake and "some_future_setting" not in snake
    assert SECRET not in s.to_json(names="api") + s.to_json(names="snake")
    assert gs.Settings.from_dict(s.to_dict(names="api", reveal_secrets=True)) == s


def test_a_plan_its_changes_and_warnings_are_plain_data(client: gs.Client) -> None:
    with pytest.warns(UserWarning):  # device_webhook is temporarily broken
        plan = client.plan(webhook_url_token=SECRET, device_webhook=True, incoming_webhook=True)
    d = plan.to_dict(names="snake")
    json.dumps(d)
    assert SECRET not in plan.to_json(names="snake") + plan.to_json(names="api")
    fields = {c["field"] for c in d["changes"]}
    assert {"webhook_url_token", "device_webhook", "incoming_webhook"} <= fields
    token = next(c for c in d["changes"] if c["field"] == "webhook_url_token")
    assert token["desired"] == "<redacted>"
    assert d["desired"]["webhook_url_token"] == "<redacted>" and d["is_noop"] is False
    assert set(d) == {"changes", "warnings", "current", "desired", "to_send", "is_noop"}
    assert {w["field"] for w in d["warnings"]} >= {"device_webhook"}
    api = plan.to_dict(names="api")
    assert set(api) == {"changes", "warnings", "current", "desired", "toSend", "isNoop"}
    assert any(c["field"] == "incomingWebhook" and c["desired"] == "yes" for c in api["changes"])
    revealed = plan.to_dict(names="snake", reveal_secrets=True)
    assert any(c["desired"] == SECRET for c in revealed["changes"])
    change = plan.changes[0]
    assert change.to_dict(names="api")["field"] == change.field
    warning = plan.warnings[0]
    assert warning.to_dict(names="api") == {
        "field": warning.field,
        "value": warning.value,
        "rule": warning.rule,
        "severity": warning.severity,
        "message": warning.message,
    }


def test_what_apply_did_is_plain_data_without_the_secret(client: gs.Client) -> None:
    applied = client.apply(webhook_url_token=SECRET, incoming_webhook=True, wait=30, settle=0.1)
    d = applied.to_dict(names="snake")
    assert d["sent"] is True and d["save_settings"] is True and d["converged"] is True
    assert d["verification"] == "converged" and d["resends"] == 0 and d["still_wrong"] == []
    assert {c["field"] for c in d["plan"]["changes"]} == {"webhook_url_token", "incoming_webhook"}
    assert SECRET not in applied.to_json(names="snake") + applied.to_json(names="api")
    api = applied.to_dict(names="api")
    assert set(api) == {"sent", "saveSettings", "verification", "converged", "resends", "stillWrong", "plan"}
    assert SECRET in applied.to_json(names="api", reveal_secrets=True)
