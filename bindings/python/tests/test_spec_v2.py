"""Spec v2 from Python: the new settings are keywords with Python types, send exactly their
wire form, and the new limits and rules are reported together."""

import pytest

import greenapi_settings as gs


def test_new_settings_are_keywords_that_send_their_wire_form(client: gs.Client, sandbox: gs.Sandbox) -> None:
    assert gs.SettingsPatch(edited_message_webhook=True).to_dict(names="api", reveal_secrets=True) == {"editedMessageWebhook": "yes"}
    assert gs.SettingsPatch(auto_typing=2).to_dict(names="api", reveal_secrets=True) == {"autoTyping": 2}
    assert client.set_settings(edited_message_webhook=True, auto_typing=2) is True
    s = client.get_settings()
    assert s.edited_message_webhook is True
    assert s.auto_typing == 2
    assert s.link_preview is False
    assert s.extra == {}


def test_v2_limits_are_errors_naming_each_field_in_one_call() -> None:
    with pytest.raises(gs.ValidationError) as e:
        gs.SettingsPatch(auto_typing=5, delay_send_messages_milliseconds=700_000).validate()
    assert sorted(str(v.field) for v in e.value.violations) == ["autoTyping", "delaySendMessagesMilliseconds"]


def test_a_delay_above_the_recommendation_and_both_read_marks_warn() -> None:
    warnings = gs.SettingsPatch(
        delay_send_messages_milliseconds=400_000,
        mark_incoming_messages_readed=True,
        mark_incoming_messages_readed_on_reply=True,
    ).validate()
    assert [w.rule for w in warnings] == ["aboveRecommended", "markReadIgnoredOnReply"]
    assert all(w.severity == "warning" for w in warnings)
    assert "use one setting" in warnings[1].message


def test_todays_getsettings_body_with_json_booleans_reads_typed() -> None:
    s = gs.Settings.from_dict(
        {"linkPreview": True, "enableLidMode": "no", "autoTyping": 3, "typeInstance": "whatsapp"}
    )
    assert s.link_preview is True and s.enable_lid_mode is False
    assert s.auto_typing == 3
    assert s.to_dict(names="api", reveal_secrets=True)["linkPreview"] == "yes"
