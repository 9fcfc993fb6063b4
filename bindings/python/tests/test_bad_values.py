"""Python values with no JSON form (integers past 64 bits, NaN, infinities, bytes, Decimal,
strings with lone surrogates, ...) given for a setting: always one `ValidationError` naming
the field in API spelling, by every way of passing settings, and nothing is sent. Never an
OverflowError, a TypeError or a UnicodeEncodeError from the conversion."""

from __future__ import annotations

import asyncio
import decimal
from collections.abc import Callable
from typing import Any

import pytest

import greenapi_settings as gs

def _contains_itself_list() -> list[Any]:
    a: list[Any] = []
    a.append(a)
    return a


def _contains_itself_dict() -> dict[str, Any]:
    d: dict[str, Any] = {}
    d["x"] = d
    return d


def _nested(levels: int) -> Any:
    v: Any = 0
    for _ in range(levels):
        v = [v]
    return v


BAD_VALUES = [
    pytest.param(10**400, id="10**400"),
    pytest.param(2**64, id="2**64"),
    pytest.param(-(2**64), id="-2**64"),
    pytest.param(float("nan"), id="nan"),
    pytest.param(float("inf"), id="inf"),
    pytest.param(float("-inf"), id="-inf"),
    pytest.param(b"yes", id="bytes"),
    pytest.param(bytearray(b"x"), id="bytearray"),
    pytest.param(decimal.Decimal("5000"), id="Decimal"),
    pytest.param("\ud800", id="lone-surrogate"),
    pytest.param(["ok", b"x"], id="list-with-bytes"),
    pytest.param({1: 2}, id="dict-with-int-key"),
    pytest.param(object(), id="object"),
    # Issue 18 item 3: these used to overflow the stack converting to JSON (SIGSEGV).
    pytest.param(_contains_itself_list(), id="list-containing-itself"),
    pytest.param(_contains_itself_dict(), id="dict-containing-itself"),
    pytest.param(_nested(100_000), id="nested-100000-deep"),
]

# (keyword, API name): one setting of each kind.
FIELDS = [
    pytest.param("delay_send_messages_milliseconds", "delaySendMessagesMilliseconds", id="integer"),
    pytest.param("incoming_webhook", "incomingWebhook", id="yes-no"),
    pytest.param("webhook_url", "webhookUrl", id="url"),
    pytest.param("webhook_url_token", "webhookUrlToken", id="secret"),
]


def only_violation_names(e: gs.ValidationError, api_name: str) -> gs.Violation:
    assert [v.field for v in e.violations] == [api_name]
    assert api_name in str(e)
    [v] = e.violations
    assert v.severity == "error"
    return v


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize(("keyword", "api_name"), FIELDS)
def test_settings_patch_keywords(value: Any, keyword: str, api_name: str) -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(**{keyword: value})
    only_violation_names(info.value, api_name)


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize(("keyword", "api_name"), FIELDS)
@pytest.mark.parametrize("spelling", ["api", "snake"])
def test_settings_patch_from_dict(value: Any, keyword: str, api_name: str, spelling: str) -> None:
    key = api_name if spelling == "api" else keyword
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch.from_dict({key: value})
    only_violation_names(info.value, api_name)


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("method", ["set_settings", "plan", "apply"])
def test_client_calls_send_nothing(client: gs.Client, sandbox: gs.Sandbox, value: Any, method: str) -> None:
    call: Callable[..., Any] = getattr(client, method)
    with pytest.raises(gs.ValidationError) as info:
        call(delay_send_messages_milliseconds=value)
    only_violation_names(info.value, "delaySendMessagesMilliseconds")
    with pytest.raises(gs.ValidationError) as info:
        call({"webhookUrl": value})
    only_violation_names(info.value, "webhookUrl")
    stats = sandbox.stats()
    assert stats.get_settings_calls == stats.set_settings_calls == 0


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("method", ["set_settings", "plan", "apply"])
def test_async_client_calls_raise_before_anything_is_awaited(aclient: gs.AsyncClient, sandbox: gs.Sandbox, value: Any, method: str) -> None:
    call: Callable[..., Any] = getattr(aclient, method)

    async def main() -> None:
        with pytest.raises(gs.ValidationError) as info:
            call(incoming_webhook=value)
        only_violation_names(info.value, "incomingWebhook")

    asyncio.run(main())
    stats = sandbox.stats()
    assert stats.get_settings_calls == stats.set_settings_calls == 0


@pytest.mark.parametrize("value", [2**63, 2**64 - 1, 2**64, 10**30])
def test_an_integer_past_64_bits_is_shown_as_an_integer(value: int) -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(delay_send_messages_milliseconds=value)
    v = only_violation_names(info.value, "delaySendMessagesMilliseconds")
    assert v.rule == "range"
    assert str(value) in str(info.value) and str(value) in v.message
    assert "e+" not in str(info.value)  # never 1.8446744073709552e+19


def test_a_huge_integer_is_described_not_printed_in_full() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(webhook_url=10**400)  # type: ignore[arg-type]
    assert "an integer of 1329 bits" in str(info.value)
    assert len(str(info.value)) < 200


def test_a_bad_secret_is_never_shown() -> None:
    secret = "\ud800hook-secret-zz"
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(webhook_url_token=secret)
    [v] = info.value.violations
    assert v.value == "<redacted>"
    assert "hook-secret-zz" not in str(info.value) + repr(info.value.violations)


def test_every_bad_value_of_one_call_is_reported_together() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(delay_send_messages_milliseconds=float("nan"), webhook_url=b"x", incoming_webhook="\udfff")  # type: ignore[arg-type]
    assert {v.field for v in info.value.violations} == {"delaySendMessagesMilliseconds", "webhookUrl", "incomingWebhook"}


def test_an_unknown_name_with_an_unusable_value_is_reported_as_unknown() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch.from_dict({"webhookUrll": b"x"})
    [v] = info.value.violations
    assert v.field == "webhookUrll" and v.rule == "unknownField"


def test_integer_like_objects_are_integers() -> None:
    class Index:
        def __index__(self) -> int:
            return 5000

    patch = gs.SettingsPatch(delay_send_messages_milliseconds=Index())  # type: ignore[arg-type]
    assert patch.delay_send_messages_milliseconds == 5000


@pytest.mark.parametrize("value", BAD_VALUES)
def test_settings_from_dict_names_the_field(value: Any) -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.Settings.from_dict({"webhookUrl": value})
    only_violation_names(info.value, "webhookUrl")
    with pytest.raises(gs.ValidationError) as info:
        gs.Settings.from_dict({"someNewField": value})
    only_violation_names(info.value, "someNewField")


def test_a_value_nested_too_deep_says_so() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(webhook_url=_contains_itself_list())  # type: ignore[arg-type]
    assert "nested more than 32 levels deep (or one that contains itself)" in str(info.value)
    with pytest.raises(gs.ValidationError, match="nested more than 32 levels"):
        gs.Settings.from_dict({"someNewSetting": _nested(100_000)})


def test_a_whole_number_written_as_a_float_is_taken_as_that_integer() -> None:
    # Issue 19: 5000.0 is 5000 (as pydantic's lax mode takes it), in keywords and mappings.
    patch = gs.SettingsPatch(delay_send_messages_milliseconds=5000.0)  # type: ignore[arg-type]
    assert patch.delay_send_messages_milliseconds == 5000
    assert type(patch.delay_send_messages_milliseconds) is int
    assert patch == gs.SettingsPatch(delay_send_messages_milliseconds=5000)
    assert patch.to_dict(names="api") == {"delaySendMessagesMilliseconds": 5000}
    assert gs.SettingsPatch.from_dict({"delaySendMessagesMilliseconds": 5000.0}) == patch


def test_a_float_that_is_no_whole_number_must_be_an_integer() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(delay_send_messages_milliseconds=5000.5)  # type: ignore[arg-type]
    (v,) = info.value.violations
    assert v.field == "delaySendMessagesMilliseconds" and v.rule == "integer"
    assert "must be an integer, found 5000.5" in v.message
    assert "beyond" not in str(info.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
def test_nan_and_infinities_must_be_an_integer(value: float) -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(delay_send_messages_milliseconds=value)  # type: ignore[arg-type]
    (v,) = info.value.violations
    assert v.field == "delaySendMessagesMilliseconds"
    assert "must be an integer" in v.message and "not a finite number" in v.message


def test_a_whole_float_past_64_bits_is_out_of_range_not_beyond_an_integer() -> None:
    with pytest.raises(gs.ValidationError) as info:
        gs.SettingsPatch(delay_send_messages_milliseconds=1e20)  # type: ignore[arg-type]
    assert "out of range" in str(info.value)
