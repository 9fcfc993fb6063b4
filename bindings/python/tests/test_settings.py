"""Settings: the getSettings shape, tolerant of unknown fields, with read-only ones."""

import pytest

import greenapi_settings as gs

BODY = {
    "wid": "79001234567@c.us",
    "webhookUrl": "https://example.com/hook",
    "webhookUrlToken": "hook-secret-5678",
    "delaySendMessagesMilliseconds": 0,
    "incomingWebhook": "yes",
    "outgoingWebhook": "no",
    "someFutureSetting": "yes",
}


def test_from_dict_reads_typed_attributes_and_read_only_fields() -> None:
    s = gs.Settings.from_dict(BODY)
    assert s.incoming_webhook is True and s.outgoing_webhook is False
    assert s.delay_send_messages_milliseconds == 0  # fresh instances report 0: not rejected
    assert s.wid == "79001234567@c.us"
    assert s.proxy_instance is None


def test_unknown_fields_are_kept_in_extra_and_round_trip() -> None:
    s = gs.Settings.from_dict(BODY)
    assert s.extra == {"someFutureSetting": "yes"}
    assert s.to_dict(names="api", reveal_secrets=True)["someFutureSetting"] == "yes"
    assert gs.Settings.from_dict(s.to_dict(names="api", reveal_secrets=True)) == s


def test_to_dict_is_the_wire_form() -> None:
    d = gs.Settings.from_dict(BODY).to_dict(names="api", reveal_secrets=True)
    assert d["incomingWebhook"] == "yes" and d["outgoingWebhook"] == "no"
    assert d["webhookUrlToken"] == "hook-secret-5678"


def test_repr_hides_the_webhook_token_and_unknown_values() -> None:
    text = repr(gs.Settings.from_dict(BODY))
    assert "hook-secret-5678" not in text
    assert "webhook_url_token=<redacted>" in text
    assert "incoming_webhook=True" in text
    assert "extra_fields=" in text and "someFutureSetting" in text


def test_a_known_field_of_the_wrong_type_is_a_validation_error() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.Settings.from_dict({"incomingWebhook": 1, "delaySendMessagesMilliseconds": "x"})
    assert sorted(v.field or "" for v in info.value.violations) == [
        "delaySendMessagesMilliseconds",
        "incomingWebhook",
    ]


def test_to_patch_sets_every_writable_field() -> None:
    settings = gs.Settings.from_dict(BODY)
    patch = settings.to_patch()
    assert patch.incoming_webhook is True
    writable = set(settings.to_dict(names="api", reveal_secrets=True)) - {"wid", "typeAccount", "proxyInstance", "someFutureSetting"}
    assert set(patch.to_dict(names="api", reveal_secrets=True)) == writable
    assert len(patch) == len(writable)


def test_settings_are_read_only() -> None:
    s = gs.Settings.from_dict(BODY)
    with pytest.raises(AttributeError):
        s.incoming_webhook = False  # type: ignore[misc]
