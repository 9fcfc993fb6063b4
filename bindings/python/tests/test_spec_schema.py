"""The spec format's JSON Schema (spec/settings.schema.json) accepts the project spec and the
valid test specs, and rejects the malformed ones the generator's UI tests use."""

import json
import pathlib

import jsonschema
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "spec" / "settings.schema.json").read_text(encoding="utf-8"))
UI = ROOT / "crates" / "greenapi-settings" / "tests"


def validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    return cls(SCHEMA)


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"].endswith("2020-12/schema")
    validator()


@pytest.mark.parametrize("path", [ROOT / "spec" / "settings.json", UI / "ui-pass" / "renamed-field.json"])
def test_valid_specs_pass_the_schema(path: pathlib.Path) -> None:
    errors = list(validator().iter_errors(json.loads(path.read_text(encoding="utf-8"))))
    assert errors == []


@pytest.mark.parametrize("name", ["unknown-type", "many-problems"])
def test_schema_rejects_malformed_settings(name: str) -> None:
    spec = json.loads((UI / "ui" / "specs" / f"{name}.json").read_text(encoding="utf-8"))
    assert list(validator().iter_errors(spec)), name


def test_schema_rejects_a_range_on_a_yes_no_setting() -> None:
    spec = json.loads((ROOT / "spec" / "settings.json").read_text(encoding="utf-8"))
    spec["settings"][3]["range"] = {"min": 0, "max": 1}
    assert list(validator().iter_errors(spec))


def test_spec_lists_the_24_settings_of_todays_api_with_statuses() -> None:
    spec = json.loads((ROOT / "spec" / "settings.json").read_text(encoding="utf-8"))
    by_status: dict[str, set[str]] = {}
    for s in spec["settings"]:
        by_status.setdefault(s["status"], set()).add(s["name"])
    assert len(spec["settings"]) == 24
    assert by_status["deprecated"] == {"sharedSession", "countryInstance", "statusInstanceWebhook", "enableMessagesHistory"}
    assert by_status["temporarilyBroken"] == {"deviceWebhook", "incomingBlockWebhook"}
    assert by_status["beta"] == {"editedMessageWebhook", "deletedMessageWebhook", "linkPreview", "enableLidMode"}
    # The seed's 19 settings are named in the seed document kept in the repository; the five
    # newer ones are not (they come from spec/sources/api-current.md).
    text = (ROOT / "spec" / "sources" / "setSettings.ru.txt").read_text(encoding="utf-8")
    seed = [s for s in spec["settings"] if s.get("alwaysReturned", True)]
    assert len(seed) == 19
    for s in seed:
        assert f"\n{s['name']} " in text, s["name"]
