"""Sandbox(tls=True) (issue 22): HTTPS with a certificate signed by a throw-away CA whose PEM
the sandbox hands out; a client that does not trust it fails, one that does gets the API's
answers; the server counts handshakes."""

from __future__ import annotations

import asyncio
import json
import pathlib
import ssl
import time
import urllib.request

import pytest

import greenapi_settings as gs


def test_a_plain_sandbox_has_no_ca_and_counts_no_handshakes(token: str) -> None:
    with gs.Sandbox(api_token=token) as sb:
        assert sb.url.startswith("http://127.0.0.1:")
        assert (sb.ca_pem, sb.ca_path) == (None, None)
        assert sb.server_stats()["tls"] is False
        assert sb.server_stats()["tlsHandshakes"] == 0


def test_a_tls_sandbox_serves_https_to_a_client_trusting_its_ca(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, tls=True) as sb:
        assert sb.url.startswith("https://127.0.0.1:")
        assert sb.ca_pem is not None and sb.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
        assert sb.ca_path is not None
        ca_file = pathlib.Path(sb.ca_path)
        assert ca_file.read_text(encoding="ascii") == sb.ca_pem
        context = ssl.create_default_context(cafile=sb.ca_path)
        url = f"{sb.url}/waInstance{sb.id_instance}/getSettings/{sb.api_token}"
        with urllib.request.urlopen(url, context=context, timeout=30) as answer:
            body = json.loads(answer.read())
        assert body["webhookUrl"] == ""
        stats = sb.server_stats()
        assert stats["tls"] is True
        assert stats["tlsHandshakes"] >= 1
    assert not ca_file.exists(), "the throw-away CA goes with the sandbox"


def test_a_client_that_does_not_trust_the_ca_fails_without_showing_the_token(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, tls=True) as sb:
        client = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0, retries=0)
        with pytest.raises(gs.TlsError) as caught:
            client.get_settings()
        assert caught.value.cause == "notTrusted"
        assert caught.value.host == sb.url
        assert token not in str(caught.value)
        assert token not in repr(caught.value)
        assert sb.stats().get_settings_calls == 0
        # The server counts the failed handshake when it sees the connection close, which may
        # be just after the client has given up.
        deadline = time.monotonic() + 10
        while sb.server_stats()["tlsHandshakeFailures"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sb.server_stats()["tlsHandshakeFailures"] >= 1


def test_sync_and_async_clients_trusting_the_ca_with_ca_cert_read_and_change_settings(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, tls=True) as sb:
        assert sb.ca_path is not None
        client = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0, ca_cert=sb.ca_path)
        client.set_settings(incoming_webhook=True)
        assert client.get_settings().incoming_webhook is True

        async def main() -> gs.Settings:
            aclient = gs.AsyncClient(
                sb.url, sb.id_instance, sb.api_token, min_interval=0, ca_cert=sb.ca_path
            )
            await aclient.set_settings(state_webhook=True)
            return await aclient.get_settings()

        settings = asyncio.run(main())
        assert (settings.incoming_webhook, settings.state_webhook) == (True, True)
        assert sb.stats().set_settings_calls == 2
