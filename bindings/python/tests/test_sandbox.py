"""The Sandbox class: a context manager around the real local server."""

import pathlib
import time

import pytest

import greenapi_settings as gs


def test_sandbox_serves_loopback_and_stops_when_the_block_ends(token: str) -> None:
    with gs.Sandbox(api_token=token) as sb:
        assert sb.url.startswith("http://127.0.0.1:")
        assert not sb.closed
    assert sb.closed
    with pytest.raises(RuntimeError, match="closed"):
        sb.stats()
    sb.close()  # idempotent


def test_stats_count_calls_and_show_current_settings(client: gs.Client, sandbox: gs.Sandbox) -> None:
    client.set_settings(incoming_webhook=True)
    client.get_settings()
    stats = sandbox.stats()
    assert (stats.restarts, stats.set_settings_calls, stats.get_settings_calls) == (1, 1, 1)
    assert stats.settings.incoming_webhook is True
    assert stats.pending is None
    assert stats.to_dict()["setSettingsCalls"] == 1


def test_reset_restores_defaults_and_zero_counters(client: gs.Client, sandbox: gs.Sandbox) -> None:
    client.set_settings(incoming_webhook=True)
    sandbox.reset()
    assert sandbox.stats().restarts == 0
    assert client.get_settings().incoming_webhook is False


def test_apply_delay_keeps_a_change_pending(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, apply_delay=30.0) as sb:
        client = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)
        client.set_settings(incoming_webhook=True)
        assert client.get_settings().incoming_webhook is False
        assert sb.stats().pending == gs.SettingsPatch(incoming_webhook=True)


def test_latency_delays_each_answer(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, latency=0.3) as sb:
        client = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)
        start = time.monotonic()
        client.get_settings()
        assert time.monotonic() - start >= 0.3


def test_sandbox_repr_and_stats_never_show_tokens(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None) as sb:
        client = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)
        client.set_settings(webhook_url_token="hook-secret-qq")
        assert token not in repr(sb)
        stats = sb.stats()
        assert "hook-secret-qq" not in repr(stats) + repr(stats.to_dict())
        assert stats.settings.webhook_url_token == "hook-secret-qq"


def test_state_file_keeps_settings_across_restarts(tmp_path: pathlib.Path, token: str) -> None:
    path = tmp_path / "sandbox.json"
    with gs.Sandbox(api_token=token, rate_limit=None, state_file=path) as sb:
        gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0).set_settings(state_webhook=True)
    with gs.Sandbox(api_token=token, rate_limit=None, state_file=path) as sb:
        assert gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0).get_settings().state_webhook is True


@pytest.mark.parametrize(
    "api_token",
    ["", " ", "Zq7-4k2", "tok en", "tok\ten", "tok\nen", "tok\x00en", "tok\x7fen", "tok/en", "tok?en", "tok#en", "tok\u2028en", "tok\u00a0en"],
)
def test_a_token_no_client_could_use_is_refused_without_showing_it(api_token: str) -> None:
    with pytest.raises(ValueError, match="api_token must be") as info:
        gs.Sandbox(api_token=api_token)
    if api_token.strip():
        assert api_token not in str(info.value)


def test_every_token_the_sandbox_accepts_works_for_a_client() -> None:
    for api_token in ["t-4f1c9a", "tok-SECRET_4f1c9a.~!$&'()*+,;=:@", "токен-4f1c"]:
        with gs.Sandbox(api_token=api_token, rate_limit=None) as sb:
            assert gs.Client(sb.url, sb.id_instance, api_token, min_interval=0).get_settings().incoming_webhook is False


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"port": -1}, "port"),
        ({"port": 65536}, "port"),
        ({"rate_limit": -1}, "rate_limit"),
        ({"rate_limit": 2**32}, "rate_limit"),
        ({"id_instance": -1}, "id_instance"),
        ({"seed": -1}, "seed"),
        ({"quota": 2**64}, "quota"),
        ({"body_limit": -1}, "body_limit"),
        ({"latency": -1.0}, "latency"),
        ({"latency": float("nan")}, "latency"),
        ({"apply_delay": 10**400}, "apply_delay"),
        ({"restart_duration": float("inf")}, "restart_duration"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"error_rate": -0.1}, "error_rate"),
        ({"error_rate": float("nan")}, "error_rate"),
    ],
)
def test_numeric_options_out_of_range_are_value_errors_naming_the_option(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        gs.Sandbox(**kwargs)  # type: ignore[arg-type]
