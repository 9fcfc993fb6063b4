"""pydantic v2 interop (issue 19): a `SettingsPatch` validates as a field of a model. Skipped
only where pydantic is not installed (scripts/test installs it)."""

from __future__ import annotations

import json

import pytest

import greenapi_settings as gs

pydantic = pytest.importorskip("pydantic")


class Desired(pydantic.BaseModel):  # type: ignore[misc, name-defined]
    name: str
    patch: gs.SettingsPatch


def test_a_settings_patch_field_takes_a_patch_as_it_is() -> None:
    p = gs.SettingsPatch(incoming_webhook=True)
    model = Desired(name="a", patch=p)
    assert model.patch is p


def test_a_settings_patch_field_takes_a_mapping_in_either_spelling() -> None:
    a = Desired(name="a", patch={"incomingWebhook": "yes", "delay_send_messages_milliseconds": 5000})
    assert a.patch == gs.SettingsPatch(incoming_webhook=True, delay_send_messages_milliseconds=5000)
    b = Desired.model_validate_json('{"name": "b", "patch": {"incoming_webhook": true}}')
    assert b.patch == gs.SettingsPatch(incoming_webhook=True)


def test_bad_settings_are_a_pydantic_validation_error_naming_the_field() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        Desired(name="a", patch={"incomingWebhok": "yes"})
    assert "incomingWebhook" in str(info.value)  # the suggestion
    with pytest.raises(pydantic.ValidationError, match="SettingsPatch or a mapping"):
        Desired(name="a", patch=42)


def test_a_model_dumps_the_request_body_with_the_secret_redacted() -> None:
    model = Desired(name="a", patch=gs.SettingsPatch(incoming_webhook=True, webhook_url_token="hook-SECRET-aa11"))
    dumped = model.model_dump()
    assert dumped["patch"] == {"incomingWebhook": "yes", "webhookUrlToken": "<redacted>"}
    assert "hook-SECRET-aa11" not in model.model_dump_json()
    json.loads(model.model_dump_json())


def test_a_model_with_a_settings_patch_field_has_a_json_schema() -> None:
    schema = Desired.model_json_schema()
    assert schema["properties"]["patch"]["type"] == "object"
