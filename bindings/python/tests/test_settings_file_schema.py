"""The JSON Schema of the CLI's settings files (docs/settings-file.schema.json, generated from
the spec) is a valid 2020-12 schema that accepts the example files — a plain one, an exported
one (one instance and a fleet) and a layered one — and rejects what `greenapi-settings validate`
rejects for shape, names, types and ranges.

Runs without the wheel: it reads files only and does not import greenapi_settings.
"""

from __future__ import annotations

import copy
import json
import pathlib
import sys
from typing import Any

import pytest
from jsonschema import Draft202012Validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.9 and 3.10: the same parser, from PyPI
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCHEMA_PATH = ROOT / "docs" / "settings-file.schema.json"
EXAMPLES = ROOT / "docs" / "examples"


def load(path: pathlib.Path) -> Any:
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text(encoding="utf-8"))
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(validator: Draft202012Validator, doc: Any) -> list[str]:
    return [e.message for e in validator.iter_errors(doc)]


def test_the_schema_is_a_2020_12_schema_generated_from_the_spec() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    spec = json.loads((ROOT / "spec" / "settings.json").read_text(encoding="utf-8"))
    for setting in spec["settings"]:
        assert setting["name"] in schema["$defs"], setting["name"]
    delay = schema["$defs"]["delaySendMessagesMilliseconds"]
    assert (delay["minimum"], delay["maximum"]) == (500, 600000)
    assert schema["$defs"]["webhookUrlToken"]["maxLength"] == 1024


@pytest.mark.parametrize(
    "name",
    [
        "settings.json",
        "layered.toml",
        "exported-instance.toml",
        "exported-fleet.toml",
        "exported-fleet.json",
    ],
)
def test_every_example_file_is_valid(validator: Draft202012Validator, name: str) -> None:
    assert errors(validator, load(EXAMPLES / name)) == []


def test_an_exported_file_has_no_read_only_or_deprecated_settings_and_no_clear_token() -> None:
    doc = load(EXAMPLES / "exported-instance.toml")
    settings = doc["settings"]
    for name in ["wid", "typeAccount", "sharedSession", "countryInstance"]:
        assert name not in settings
    assert settings["webhookUrlToken"] == "${GREENAPI_WEBHOOK_TOKEN}"


def test_the_layered_example_overrides_some_instances() -> None:
    doc = load(EXAMPLES / "layered.toml")
    assert set(doc["instances"]) == {"1101000002", "1101000003"}
    assert "{idInstance}" in doc["settings"]["webhookUrl"]


GOOD: dict[str, Any] = {
    "settings": {"incomingWebhook": "yes", "delaySendMessagesMilliseconds": 5000},
    "instances": {"1101000001": {"incoming_webhook": False}},
}


@pytest.mark.parametrize(
    ("label", "change"),
    [
        ("both spellings", lambda d: d["settings"].update(incoming_webhook=True)),
        ("out of range", lambda d: d["settings"].update(delaySendMessagesMilliseconds=100)),
        ("not yes/no", lambda d: d["settings"].update(stateWebhook="maybe")),
        ("unknown setting", lambda d: d["settings"].update(incomingWebhok="yes")),
        ("defaults twice", lambda d: d.update(stateWebhook="yes")),
        ("bad instance id", lambda d: d["instances"].update({"01101": {}})),
        ("instance not a table", lambda d: d["instances"].update({"1101000002": 5})),
        ("ftp webhook", lambda d: d["settings"].update(webhookUrl="ftp://hooks.example.com")),
        ("url too long", lambda d: d["settings"].update(webhookUrl="https://h/" + "a" * 2048)),
        ("integer as string", lambda d: d["settings"].update(autoTyping="2")),
        ("unknown in override", lambda d: d["instances"]["1101000001"].update(bogus=1)),
    ],
)
def test_what_validate_rejects_the_schema_rejects(
    validator: Draft202012Validator, label: str, change: Any
) -> None:
    assert errors(validator, GOOD) == []
    doc = copy.deepcopy(GOOD)
    change(doc)
    assert errors(validator, doc), label


@pytest.mark.parametrize(
    "value",
    [
        {"webhookUrl": ""},
        {"webhookUrl": "HTTPS://hooks.example.com/{idInstance}"},
        {"webhookUrl": "${HOOK_URL}"},
        {"webhook_url_token": "${TOKEN}"},
        {"incomingWebhook": "${INCOMING}"},
        {"incoming_webhook": True},
        {"sharedSession": "no"},
    ],
)
def test_placeholders_booleans_and_both_shapes_are_accepted(
    validator: Draft202012Validator, value: dict[str, Any]
) -> None:
    assert errors(validator, value) == [], "top-level defaults"
    assert errors(validator, {"settings": value}) == [], "[settings]"
    assert errors(validator, {"instances": {"1101000001": value}}) == [], "override"
