"""AsyncClient: the same calls as coroutines on asyncio, cancellable, with the same errors.
Every test with the `sandbox` fixture runs twice: plain HTTP and HTTPS (see conftest)."""

import asyncio
import time

import pytest

import greenapi_settings as gs

# Each sandbox test again over HTTPS (conftest.pytest_generate_tests).
ALSO_OVER_TLS = True


def test_async_get_and_set_settings_round_trip(aclient: gs.AsyncClient) -> None:
    async def main() -> gs.Settings:
        assert await aclient.set_settings(incoming_webhook=True) is True
        return await aclient.get_settings()

    assert asyncio.run(main()).incoming_webhook is True


def test_async_plan_and_apply_send_only_the_difference(aclient: gs.AsyncClient, sandbox: gs.Sandbox) -> None:
    async def main() -> tuple[gs.Plan, gs.Applied, gs.Applied]:
        plan = await aclient.plan(state_webhook=True)
        first = await aclient.apply(state_webhook=True)
        second = await aclient.apply(state_webhook=True)
        return plan, first, second

    plan, first, second = asyncio.run(main())
    assert [c.field for c in plan.changes] == ["stateWebhook"]
    assert first.sent and not second.sent
    assert sandbox.stats().restarts == 1


def test_async_calls_run_concurrently(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, latency=0.5) as sb:
        client = gs.AsyncClient(sb.url, sb.id_instance, sb.api_token, min_interval=0)

        async def main() -> list[gs.Settings]:
            return list(await asyncio.gather(*(client.get_settings() for _ in range(4))))

        start = time.monotonic()
        results = asyncio.run(main())
        # One after another they would take 2.0 s.
        assert len(results) == 4 and time.monotonic() - start < 1.5


def test_async_errors_are_the_same_classes(sandbox: gs.Sandbox, wrong_token: str) -> None:
    client = gs.AsyncClient(
        sandbox.url, sandbox.id_instance, wrong_token, min_interval=0, retries=0, ca_cert=sandbox.ca_path
    )

    async def main() -> gs.Settings:
        return await client.get_settings()

    with pytest.raises(gs.AuthError) as info:
        asyncio.run(main())
    assert wrong_token not in str(info.value)


def test_async_validation_errors_raise_at_call_time_before_anything_is_awaited(aclient: gs.AsyncClient, sandbox: gs.Sandbox) -> None:
    with pytest.raises(gs.ValidationError):
        _ = aclient.set_settings(delay_send_messages_milliseconds=1)
    assert sandbox.stats().set_settings_calls == 0


def test_async_unused_field_warns_and_with_warnings_as_errors_sends_nothing(aclient: gs.AsyncClient, sandbox: gs.Sandbox) -> None:
    with pytest.raises(DeprecationWarning):
        _ = aclient.set_settings(country_instance="ru")

    async def main() -> gs.Applied:
        return await aclient.apply(country_instance="ru")

    with pytest.raises(DeprecationWarning):
        asyncio.run(main())
    assert sandbox.stats().set_settings_calls == 0


def test_cancelling_the_awaiting_task_abandons_a_slow_request(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, latency=5.0) as sb:
        client = gs.AsyncClient(sb.url, sb.id_instance, sb.api_token, min_interval=0)

        async def main() -> None:
            await asyncio.wait_for(client.get_settings(), timeout=0.2)

        start = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            asyncio.run(main())
        assert time.monotonic() - start < 2.0


def test_async_client_repr_hides_the_token(aclient: gs.AsyncClient, token: str) -> None:
    assert token not in repr(aclient) and "AsyncClient(" in repr(aclient)
