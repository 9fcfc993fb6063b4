"""Clients are context managers: `with Client(...)` and `async with AsyncClient(...)` close them
at the end of the block; close() / aclose() are idempotent; a closed client raises
ClientClosedError (a GreenApiError and a RuntimeError) and sends nothing."""

from __future__ import annotations

import asyncio

import pytest

import greenapi_settings as gs


def test_with_client_closes_it_at_the_end_of_the_block(sandbox: gs.Sandbox) -> None:
    with gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0) as client:
        assert not client.closed
        assert client.get_settings().incoming_webhook is False
    assert client.closed
    with pytest.raises(gs.ClientClosedError, match="this Client is closed"):
        client.get_settings()
    assert sandbox.stats().get_settings_calls == 1


def test_client_closed_error_is_a_green_api_error_and_a_runtime_error() -> None:
    assert issubclass(gs.ClientClosedError, gs.GreenApiError)
    assert issubclass(gs.ClientClosedError, RuntimeError)


def test_close_is_idempotent_and_every_call_of_a_closed_client_raises(client: gs.Client, sandbox: gs.Sandbox) -> None:
    client.close()
    client.close()
    for call in (
        client.get_settings,
        lambda: client.set_settings(incoming_webhook=True),
        lambda: client.plan(incoming_webhook=True),
        lambda: client.apply(incoming_webhook=True),
    ):
        with pytest.raises(gs.ClientClosedError):
            call()
    assert sandbox.stats().get_settings_calls == 0 and sandbox.stats().set_settings_calls == 0


def test_entering_a_closed_client_raises(client: gs.Client) -> None:
    client.close()
    with pytest.raises(gs.ClientClosedError):
        with client:
            pass


def test_async_with_closes_the_async_client(sandbox: gs.Sandbox) -> None:
    async def main() -> gs.AsyncClient:
        async with gs.AsyncClient(sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0) as client:
            assert not client.closed
            await client.get_settings()
        assert client.closed
        with pytest.raises(gs.ClientClosedError, match="this AsyncClient is closed"):
            await client.get_settings()
        return client

    client = asyncio.run(main())
    assert client.closed and sandbox.stats().get_settings_calls == 1


def test_aclose_is_idempotent_and_a_coroutine_made_before_it_raises_when_awaited(
    aclient: gs.AsyncClient, sandbox: gs.Sandbox
) -> None:
    async def main() -> None:
        early = aclient.set_settings(incoming_webhook=True)
        await aclient.aclose()
        await aclient.aclose()
        with pytest.raises(gs.ClientClosedError):
            await early

    asyncio.run(main())
    assert sandbox.stats().set_settings_calls == 0


def test_entering_a_closed_async_client_raises_at_once(aclient: gs.AsyncClient) -> None:
    asyncio.run(aclient.aclose())
    with pytest.raises(gs.ClientClosedError):
        _ = aclient.__aenter__()


def test_an_exception_in_the_block_propagates_and_the_client_is_closed(sandbox: gs.Sandbox) -> None:
    with pytest.raises(ZeroDivisionError):
        with gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token) as client:
            1 / 0
    assert client.closed
