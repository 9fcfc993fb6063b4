"""Real signatures (issue 19): `inspect.signature` and `help()` show every keyword of
`SettingsPatch(...)` (from the spec) and `Sandbox(...)`'s defaults."""

from __future__ import annotations

import inspect
import json
import pathlib
import pydoc
import re

import greenapi_settings as gs

ROOT = pathlib.Path(__file__).resolve().parents[3]
SPEC = json.loads((ROOT / "spec" / "settings.json").read_text(encoding="utf-8"))


def snake(name: str) -> str:
    # outgoingAPIMessageWebhook -> outgoing_api_message_webhook
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def test_settings_patch_signature_lists_every_setting_of_the_spec_as_a_keyword() -> None:
    sig = inspect.signature(gs.SettingsPatch)
    assert list(sig.parameters) == [snake(s["name"]) for s in SPEC["settings"]]
    for p in sig.parameters.values():
        assert p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is None
    assert str(sig.parameters["incoming_webhook"].annotation) == "typing.Optional[bool]"


def test_help_shows_the_keywords() -> None:
    text = pydoc.plain(pydoc.render_doc(gs.SettingsPatch))
    assert "delay_send_messages_milliseconds" in text and "webhook_url_token" in text


def test_sandbox_signature_shows_the_defaults_it_uses() -> None:
    sig = inspect.signature(gs.Sandbox)
    defaults = {name: p.default for name, p in sig.parameters.items()}
    assert defaults["id_instance"] == 1101000001 and defaults["api_token"] == "sandbox-token"
    assert defaults["rate_limit"] == 1 and defaults["port"] == 0
    # Every keyword of the signature is one Sandbox takes, and its default is what it uses.
    with gs.Sandbox(**defaults) as sb:
        assert sb.id_instance == defaults["id_instance"] and sb.api_token == defaults["api_token"]
    assert "id_instance=1101000001" in pydoc.plain(pydoc.render_doc(gs.Sandbox))
