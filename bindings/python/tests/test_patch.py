"""SettingsPatch: snake_case keywords and bool in, API spelling and "yes"/"no" out; every
problem reported at once; unknown keywords named with close matches; secrets never shown."""

import inspect
import sys
from typing import Any

import pytest

import greenapi_settings as gs


def test_keywords_become_the_api_body_with_yes_no_wire_values() -> None:
    patch = gs.SettingsPatch(
        incoming_webhook=True,
        outgoing_api_message_webhook=False,
        delay_send_messages_milliseconds=15_000,
        webhook_url="https://example.com/hook",
    )
    assert patch.to_dict(names="api", reveal_secrets=True) == {
        "webhookUrl": "https://example.com/hook",
        "delaySendMessagesMilliseconds": 15_000,
        "outgoingAPIMessageWebhook": "no",
        "incomingWebhook": "yes",
    }


def test_unset_and_none_fields_are_not_sent() -> None:
    patch = gs.SettingsPatch(incoming_webhook=True, webhook_url=None)
    assert patch.to_dict(names="api", reveal_secrets=True) == {"incomingWebhook": "yes"}
    assert len(patch) == 1
    assert patch.webhook_url is None


def test_attributes_read_back_in_python_types() -> None:
    patch = gs.SettingsPatch(keep_online_status=False, delay_send_messages_milliseconds=600)
    assert patch.keep_online_status is False
    assert patch.delay_send_messages_milliseconds == 600
    assert patch.incoming_webhook is None


def test_patch_is_immutable() -> None:
    patch = gs.SettingsPatch(incoming_webhook=True)
    with pytest.raises(AttributeError):
        patch.incoming_webhook = False  # type: ignore[misc]


def test_from_dict_accepts_api_spelling_and_snake_case_and_round_trips() -> None:
    body = {"incomingWebhook": "yes", "delay_send_messages_milliseconds": 5000, "stateWebhook": False}
    patch = gs.SettingsPatch.from_dict(body)
    assert patch == gs.SettingsPatch(
        incoming_webhook=True, delay_send_messages_milliseconds=5000, state_webhook=False
    )
    assert gs.SettingsPatch.from_dict(patch.to_dict(names="api", reveal_secrets=True)) == patch


def test_from_dict_reports_every_bad_entry_in_one_validation_error() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch.from_dict({"incomingWebhok": "yes", "stateWebhook": "maybe", "delaySendMessagesMilliseconds": "5"})
    rules = sorted(v.rule for v in info.value.violations)
    assert rules == ["integer", "unknownField", "yesNo"]
    assert "did you mean `incomingWebhook`" in str(info.value)


def test_unknown_keyword_is_a_type_error_naming_close_matches() -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'incoming_webhok' \(did you mean 'incoming_webhook'"):
        gs.SettingsPatch(incoming_webhok=True)  # type: ignore[call-arg]


def test_api_spelling_as_keyword_suggests_the_snake_case_name() -> None:
    with pytest.raises(TypeError, match="did you mean 'webhook_url'"):
        gs.SettingsPatch(webhookUrl="https://x.example")  # type: ignore[call-arg]


def test_wrong_value_types_raise_one_validation_error_with_every_problem() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(incoming_webhook="maybe", delay_send_messages_milliseconds=1.5)  # type: ignore[arg-type]
    assert [(v.field, v.rule) for v in info.value.violations] == [
        ("incomingWebhook", "yesNo"),
        ("delaySendMessagesMilliseconds", "integer"),
    ]


def test_validate_raises_validation_error_with_every_error_which_is_also_a_value_error() -> None:
    patch = gs.SettingsPatch(delay_send_messages_milliseconds=100, webhook_url="ftp://x")
    with pytest.raises(ValueError) as info:
        patch.validate()
    err = info.value
    assert isinstance(err, gs.ValidationError) and isinstance(err, gs.GreenApiError)
    assert [(v.field, v.value, v.rule, v.severity) for v in err.violations] == [
        ("webhookUrl", "ftp://x", "url", "error"),
        ("delaySendMessagesMilliseconds", 100, "range", "error"),
    ]
    assert all(v.message for v in err.violations)
    assert "2 problems" in str(err)


def test_empty_patch_is_invalid_because_set_settings_needs_a_parameter() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch().validate()
    assert [(v.field, v.rule) for v in info.value.violations] == [(None, "atLeastOneParameter")]


def test_validate_returns_status_and_rule_warnings_without_emitting_them() -> None:
    warnings = gs.SettingsPatch(shared_session=True, device_webhook=True).validate()
    assert [(w.field, w.rule, w.severity) for w in warnings] == [
        ("sharedSession", "deprecated", "warning"),
        ("deviceWebhook", "temporarilyBroken", "warning"),
    ]


def test_validate_against_current_settings_evaluates_cross_field_rules() -> None:
    current = gs.Settings.from_dict({"incomingWebhook": "no"})
    warnings = gs.SettingsPatch(incoming_call_webhook=True).validate(current)
    assert [(w.field, w.rule) for w in warnings] == [("incomingCallWebhook", "incomingCallStatuses")]
    assert gs.SettingsPatch(incoming_call_webhook=True).validate() == []


def test_repr_shows_snake_case_fields_and_hides_the_webhook_token() -> None:
    patch = gs.SettingsPatch(webhook_url_token="hook-secret-1234", incoming_webhook=True)
    text = repr(patch)
    assert text == "SettingsPatch(webhook_url_token=<redacted>, incoming_webhook=True)"
    assert "hook-secret-1234" not in str(patch)


def test_secret_values_are_never_echoed_in_validation_errors() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(webhook_url_token="bad\r\nsecret-9").validate()
    assert "secret-9" not in str(info.value)
    assert info.value.violations[0].value == "<redacted>"


def test_patches_compare_by_value() -> None:
    assert gs.SettingsPatch(incoming_webhook=True) == gs.SettingsPatch(incoming_webhook=True)
    assert gs.SettingsPatch(incoming_webhook=True) != gs.SettingsPatch(incoming_webhook=False)


def test_misspelled_attribute_names_a_close_match() -> None:
    with pytest.raises(AttributeError, match="did you mean 'incoming_webhook'"):
        gs.SettingsPatch().incoming_webhok  # type: ignore[attr-defined]


def test_positional_arguments_are_refused_and_the_signature_shows_keywords_only() -> None:
    # The constructor takes `*args` to receive its keywords without pyo3's per-name copy; a
    # positional argument is still a TypeError, worded as Python words it.
    new: Any = gs.SettingsPatch  # the stub has no positional parameters
    with pytest.raises(TypeError, match=r"^SettingsPatch\.__new__\(\) takes 0 positional arguments but 1 was given$"):
        new({"incomingWebhook": "yes"})
    with pytest.raises(TypeError, match="but 2 were given"):
        new(1, 2, incoming_webhook=True)
    # The signature shows the settings as keyword-only parameters (test_signatures.py).
    params = inspect.signature(gs.SettingsPatch).parameters.values()
    assert params and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)


def test_keywords_from_a_dict_or_a_str_subclass_are_matched_by_text() -> None:
    # `**kw` names that are not the interned names (built at runtime, or a str subclass) are
    # matched by their text, in any order; the caller's dict is left as it was.
    class Name(str):
        pass

    kw: dict[str, Any] = {"".join(["incoming", "_webhook"]): True, Name("auto_typing"): 2}
    before = dict(kw)
    patch = gs.SettingsPatch(**kw)
    assert patch.to_dict(names="api", reveal_secrets=True) == {"incomingWebhook": "yes", "autoTyping": 2}
    assert kw == before
