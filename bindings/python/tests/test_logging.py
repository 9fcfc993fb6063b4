"""Rust-side events reach Python's `logging` under the logger `greenapi_settings`: retries with
their reason and delay, each response's method and status; never the token or a webhook
secret; a NullHandler by default, as libraries do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

import greenapi_settings as gs

ScriptedServer = Callable[[list[tuple[int, str]]], str]
ID = 1101000001
TOKEN = "tok-SECRET-4f1c9a"  # the sandbox token of conftest.py
SECRET = "hook-SECRET-91b2"


def everything(record: logging.LogRecord) -> str:
    return record.getMessage() + " " + repr(record.__dict__)


def test_the_package_logger_has_a_null_handler_and_no_level_of_its_own() -> None:
    logger = logging.getLogger("greenapi_settings")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)
    assert logger.level == logging.NOTSET


def test_a_retry_on_503_is_logged_with_its_status_and_delay(
    scripted_server: ScriptedServer, settings_body: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = scripted_server([(503, '{"message": "busy"}'), (200, settings_body)])
    client = gs.Client(url, ID, TOKEN, min_interval=0, retries=1)
    with caplog.at_level(logging.DEBUG, logger="greenapi_settings"):
        client.get_settings()
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len(retries) == 1, [r.getMessage() for r in caplog.records]
    retry = retries[0]
    print(retry.getMessage())
    assert retry.name == "greenapi_settings" and retry.levelno == logging.DEBUG
    assert "503" in retry.getMessage() and "wait_ms=" in retry.getMessage()
    assert "method=getSettings" in retry.getMessage()
    assert all(TOKEN not in everything(r) for r in caplog.records)


def test_each_response_is_logged_with_its_method_and_status(
    client: gs.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="greenapi_settings"):
        client.set_settings(incoming_webhook=True)
        client.get_settings()
    responses = [r.getMessage() for r in caplog.records if r.getMessage().startswith("response")]
    assert len(responses) == 2
    assert "method=setSettings" in responses[0] and "status=200" in responses[0]
    assert "method=getSettings" in responses[1] and "status=200" in responses[1]
    assert all(TOKEN not in everything(r) for r in caplog.records)


def test_async_calls_log_before_the_await_returns(
    aclient: gs.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> list[str]:
        await aclient.get_settings()
        return [r.getMessage() for r in caplog.records]

    with caplog.at_level(logging.DEBUG, logger="greenapi_settings"):
        seen = asyncio.run(main())
    assert any(m.startswith("response") and "method=getSettings" in m for m in seen)


def test_records_are_stamped_with_the_time_of_the_event_not_of_the_logging(
    client: gs.Client, caplog: pytest.LogCaptureFixture
) -> None:
    import time

    before = time.time()
    with caplog.at_level(logging.DEBUG, logger="greenapi_settings"):
        client.get_settings()
    after = time.time()
    assert caplog.records and all(before <= r.created <= after for r in caplog.records)


def test_nothing_is_logged_when_the_logger_is_above_debug(
    client: gs.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="greenapi_settings"):
        client.get_settings()
    assert caplog.records == []


def test_a_retry_after_a_server_echoing_the_webhook_secret_does_not_log_it(
    scripted_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = scripted_server([(503, '{"message": "cannot apply {body}"}'), (200, '{"saveSettings": true}')])
    client = gs.Client(url, ID, TOKEN, min_interval=0, retries=1)
    with caplog.at_level(logging.DEBUG, logger="greenapi_settings"):
        assert client.set_settings(webhook_url="https://example.com/hook", webhook_url_token=SECRET)
    assert any(r.getMessage().startswith("retrying") for r in caplog.records)
    assert all(SECRET not in everything(r) and TOKEN not in everything(r) for r in caplog.records)


def test_warnings_about_a_change_go_to_warnings_only_not_to_logging(
    client: gs.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="greenapi_settings"):
        with pytest.warns(UserWarning) as caught:
            client.set_settings(device_webhook=True)
    assert len(caught) == 1
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_records_go_to_the_logger_get_logger_returns_now(client: gs.Client) -> None:
    # The bridge finds the logger by name on every record (not a logger object kept from an
    # earlier call): a logger dropped from logging's registry and created anew gets them.
    client.get_settings()  # a record for the package logger as it was
    loggers = logging.Logger.manager.loggerDict
    old = loggers.pop("greenapi_settings")
    try:
        new = logging.getLogger("greenapi_settings")
        assert new is not old
        seen: list[logging.LogRecord] = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                seen.append(record)

        new.addHandler(Keep())
        new.setLevel(logging.DEBUG)
        client.get_settings()
        assert any(r.getMessage().startswith("response") for r in seen), [r.getMessage() for r in seen]
    finally:
        loggers["greenapi_settings"] = old
