"""Where the binding sends requests (issue 18 items 11 and 12): an API URL holding the token
is refused as the CLI refuses it, never shown; a loopback sandbox is reached directly even with
a proxy in the environment."""

from __future__ import annotations

import pytest

import greenapi_settings as gs

TOKEN = "tok-SECRET-4f1c9a"
ID = 1101000001


@pytest.mark.parametrize(
    "shape",
    ["{url}/{token}", "{url}/prefix/{token}/", "{url}/{upper}", "{url}/x/{encoded}"],
)
def test_an_api_url_holding_the_token_is_refused_and_never_shown(sandbox: gs.Sandbox, shape: str) -> None:
    encoded = "".join(f"%{b:02X}" for b in TOKEN.encode())
    url = shape.format(url=sandbox.url, token=TOKEN, upper=TOKEN.upper(), encoded=encoded)
    for make in (gs.Client, gs.AsyncClient):
        with pytest.raises(gs.ConfigError) as info:
            make(url, ID, TOKEN)
        text = str(info.value)
        assert "api_url contains the API token" in text
        assert TOKEN.lower() not in text.lower() and encoded not in text
        assert TOKEN.lower() not in repr(info.value).lower()


def test_a_one_letter_token_is_not_scrubbed_from_every_message() -> None:
    with pytest.raises(gs.ConfigError) as info:
        gs.Client("not a url", ID, "t")
    assert "the API token is shorter than 8 characters" in str(info.value)
    assert "redacted" not in str(info.value)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_the_local_sandbox_is_reached_directly_with_a_proxy_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # Port 9 (discard) on loopback: nothing listens there, so a request through it fails.
    monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with gs.Sandbox(id_instance=ID, api_token=TOKEN, rate_limit=None) as sb:
        client = gs.Client(sb.url, ID, TOKEN, min_interval=0, retries=0)
        assert client.get_settings().incoming_webhook is False


def test_a_token_shorter_than_8_characters_is_refused_naming_the_rule_not_the_token() -> None:
    # A placeholder token would otherwise make the scrub rewrite ordinary words in messages.
    with pytest.raises(gs.ConfigError) as info:
        gs.Client("https://1101.api.greenapi.com", ID, "Zq7-4k2")
    text = str(info.value)
    assert "shorter than 8 characters" in text
    assert "Zq7-4k2" not in text and "Zq7-4k2" not in repr(info.value)
