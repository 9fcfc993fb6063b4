"""apply(..., wait=...) verifies and repairs, from Client and AsyncClient, against a Sandbox
that loses acknowledged writes and drifts, as users of the API report. Every test with the
`sandbox` fixture runs twice: plain HTTP and HTTPS (see conftest)."""

import asyncio

import pytest

import greenapi_settings as gs

# Each sandbox test again over HTTPS (conftest.pytest_generate_tests).
ALSO_OVER_TLS = True


DESIRED = {"incomingWebhook": "yes", "delaySendMessagesMilliseconds": 5000}


def seed_losing_one_of_two_fields() -> int:
    """A seed under which the first setSettings of two fields loses exactly one, and the
    re-send of that field is kept (the sandbox's losses are reproducible per seed)."""
    for seed in range(500):
        with gs.Sandbox(rate_limit=None, seed=seed, lost_write_rate=0.5) as sb:
            c = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)
            c.set_settings(incoming_webhook=True, delay_send_messages_milliseconds=5000)
            stats = sb.stats()
            if stats.lost_fields != 1:
                continue
            lost = stats.unrepaired_lost_fields[0]
            c.set_settings(gs.SettingsPatch.from_dict({lost: DESIRED[lost]}))
            if not sb.stats().unrepaired_lost_fields:
                return seed
    raise AssertionError("no seed loses exactly one field once")


def test_without_wait_the_outcome_is_not_verified(sandbox: gs.Sandbox) -> None:
    c = gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0, ca_cert=sandbox.ca_path)
    applied = c.apply(incoming_webhook=True)
    assert applied.sent and applied.verification == "notVerified"
    assert applied.outcome == "not verified"
    assert not applied.converged


def test_a_lost_write_is_resent_and_converges_from_both_clients(sandbox_scheme: str) -> None:
    seed = seed_losing_one_of_two_fields()
    tls = sandbox_scheme == "https"
    with gs.Sandbox(rate_limit=None, seed=seed, lost_write_rate=0.5, tls=tls) as sb:
        c = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0, ca_cert=sb.ca_path)
        applied = c.apply(incoming_webhook=True, delay_send_messages_milliseconds=5000, wait=20.0, settle=0.3)
        assert applied.verification == "converged", applied.outcome
        assert applied.resends == 1
        assert applied.outcome == "converged after 1 re-send"
        assert sb.stats().set_settings_calls == 2
        assert sb.stats().unrepaired_lost_fields == []

    async def run() -> gs.Applied:
        with gs.Sandbox(rate_limit=None, seed=seed, lost_write_rate=0.5, tls=tls) as sb:
            async with gs.AsyncClient(sb.url, sb.id_instance, sb.api_token, min_interval=0, ca_cert=sb.ca_path) as ac:
                return await ac.apply(
                    incoming_webhook=True, delay_send_messages_milliseconds=5000, wait=20.0, settle=0.3
                )

    assert asyncio.run(run()).resends == 1


def test_writes_always_lost_end_not_converged_naming_the_fields(sandbox_scheme: str) -> None:
    with gs.Sandbox(rate_limit=None, lost_write_rate=1.0, tls=sandbox_scheme == "https") as sb:
        c = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0, ca_cert=sb.ca_path)
        applied = c.apply(incoming_webhook=True, wait=1.0, settle=0.2, max_resends=1)
        assert applied.verification == "notConverged"
        assert applied.resends == 1
        assert [ch.field for ch in applied.still_wrong] == ["incomingWebhook"]
        assert applied.still_wrong[0].current is False


@pytest.mark.parametrize(
    "kwargs",
    [{"wait": 0.0}, {"wait": -1.0}, {"wait": float("nan")}, {"wait": 5.0, "settle": 0.0}, {"wait": 5.0, "max_resends": 11}],
)
def test_bad_wait_options_are_config_errors_and_nothing_is_sent(sandbox: gs.Sandbox, kwargs: dict[str, float]) -> None:
    c = gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0, ca_cert=sandbox.ca_path)
    with pytest.raises(gs.ConfigError):
        c.apply(incoming_webhook=True, **kwargs)  # type: ignore[arg-type]
    assert sandbox.stats().get_settings_calls == 0


def test_the_sandbox_drifts_on_request_and_after_a_delay() -> None:
    with gs.Sandbox(rate_limit=None) as sb:
        c = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)
        c.set_settings(incoming_webhook=True)
        assert sb.drift(incoming_webhook=False) == ["incomingWebhook"]
        assert c.get_settings().incoming_webhook is False
        assert sb.stats().drifts == 1
        assert c.plan(incoming_webhook=True).changes[0].field == "incomingWebhook"
    with pytest.raises(ValueError, match="drift_fields"):
        gs.Sandbox(drift_fields=["noSuchSetting"])
    with pytest.raises(ValueError, match="lost_write_rate"):
        gs.Sandbox(lost_write_rate=1.5)
