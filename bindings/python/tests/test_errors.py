"""One Python exception class per failure, each carrying its data, none ever showing the API
token: not in str(), repr(), args, attributes or the formatted traceback. Real failures come
from the sandbox; answers it never gives (garbage, server text echoing the request URL with
the token in it) come from a small echo server."""

from __future__ import annotations

import builtins
import traceback
from collections.abc import Callable

import pytest

import greenapi_settings as gs

EchoServer = Callable[[int, str], str]


def assert_token_hidden(exc: BaseException, *tokens: str) -> None:
    shown = [
        str(exc),
        repr(exc),
        repr(exc.args),
        repr(vars(exc)),
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    ]
    for token in tokens:
        for text in shown:
            assert token not in text, text


def quick(sb: gs.Sandbox, token: str | None = None, **kwargs: float) -> gs.Client:
    """A client that neither paces nor retries, so each failure surfaces at once."""
    options = {"min_interval": 0.0, "retries": 0, **kwargs}
    return gs.Client(sb.url, sb.id_instance, token or sb.api_token, **options)  # type: ignore[arg-type]


def test_wrong_token_is_auth_error_401_not_retryable(sandbox: gs.Sandbox, token: str, wrong_token: str) -> None:
    with pytest.raises(gs.AuthError) as info:
        quick(sandbox, wrong_token).get_settings()
    assert info.value.status == 401 and info.value.retryable is False
    assert_token_hidden(info.value, token, wrong_token)


def test_unknown_instance_is_forbidden_error_403(sandbox: gs.Sandbox, token: str) -> None:
    client = gs.Client(sandbox.url, sandbox.id_instance + 1, token, min_interval=0, retries=0)
    with pytest.raises(gs.ForbiddenError) as info:
        client.get_settings()
    assert info.value.status == 403
    assert_token_hidden(info.value, token)


def test_too_many_requests_is_rate_limit_error_with_retry_after_seconds(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=1) as sb:
        client = quick(sb)
        client.get_settings()
        with pytest.raises(gs.RateLimitError) as info:
            client.get_settings()
    assert info.value.status == 429 and info.value.retryable is True
    assert info.value.retry_after == 1.0
    assert_token_hidden(info.value, token)


def test_used_up_quota_is_quota_exceeded_error_with_used_total_and_method(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, quota=1) as sb:
        client = quick(sb)
        client.get_settings()
        with pytest.raises(gs.QuotaExceededError) as info:
            client.get_settings()
    e = info.value
    assert e.status == 466 and (e.used, e.total) == (1, 1)
    assert e.method == "getSettings" and e.description
    assert_token_hidden(e, token)


def test_restarting_instance_is_instance_not_ready_error(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, restart_duration=5.0) as sb:
        client = quick(sb)
        client.set_settings(incoming_webhook=True)
        with pytest.raises(gs.InstanceNotReadyError) as info:
            client.get_settings()
    assert info.value.status == 400 and "starting" in info.value.message
    assert_token_hidden(info.value, token)


def test_body_too_large_is_rejected_error_with_status_and_message(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, body_limit=16) as sb:
        with pytest.raises(gs.RejectedError) as info:
            quick(sb).set_settings(webhook_url="https://example.com/a/long/webhook/path")
    assert info.value.status == 413 and info.value.message
    assert_token_hidden(info.value, token)


def test_5xx_after_retries_is_server_error(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, error_rate=1.0) as sb:
        with pytest.raises(gs.ServerError) as info:
            quick(sb, retries=2, timeout=5.0).get_settings()
        assert sb.stats().get_settings_calls == 3  # retried twice
    assert info.value.status is not None and 500 <= info.value.status <= 504
    assert_token_hidden(info.value, token)


def test_connection_refused_is_transport_error(token: str) -> None:
    sb = gs.Sandbox(api_token=token)
    sb.close()
    with pytest.raises(gs.TransportError) as info:
        quick(sb).get_settings()
    assert info.value.status is None and info.value.retryable is True
    assert not isinstance(info.value, gs.TimeoutError)
    assert_token_hidden(info.value, token)


def test_an_https_url_to_a_server_not_speaking_tls_is_tls_error_not_retried(echo_server: EchoServer, token: str) -> None:
    # Issue 18 item 14: a TLS failure is permanent; it was retried like a network blip.
    url = echo_server(200, "{}").replace("http://", "https://")
    client = gs.Client(url, 1101000001, token, min_interval=0.0, retries=3)
    with pytest.raises(gs.TlsError) as info:
        client.get_settings()
    assert isinstance(info.value, gs.TransportError)
    assert info.value.retryable is False and info.value.status is None
    assert_token_hidden(info.value, token)


def test_slow_answer_is_timeout_error_also_a_transport_and_builtin_timeout_error(token: str) -> None:
    with gs.Sandbox(api_token=token, rate_limit=None, latency=2.0) as sb:
        with pytest.raises(builtins.TimeoutError) as info:
            quick(sb, timeout=0.2).get_settings()
    assert isinstance(info.value, gs.TimeoutError) and isinstance(info.value, gs.TransportError)
    assert info.value.timeout == pytest.approx(0.2)
    assert_token_hidden(info.value, token)


def test_garbage_answer_is_decode_error_with_the_body_scrubbed_of_the_token(echo_server: EchoServer, token: str) -> None:
    url = echo_server(200, "<html>proxy error for {path}</html>")
    with pytest.raises(gs.DecodeError) as info:
        gs.Client(url, 1101000001, token, min_interval=0, retries=0).get_settings()
    e = info.value
    assert e.status == 200 and e.reason
    assert "<redacted>" in e.body and "proxy error" in e.body
    assert_token_hidden(e, token)


def test_server_text_echoing_the_url_is_scrubbed_in_server_error(echo_server: EchoServer, token: str) -> None:
    url = echo_server(500, '{"message": "internal error at {path}"}')
    with pytest.raises(gs.ServerError) as info:
        gs.Client(url, 1101000001, token, min_interval=0, retries=0).get_settings()
    assert info.value.status == 500 and "<redacted>" in info.value.message
    assert_token_hidden(info.value, token)


def test_server_text_echoing_the_url_is_scrubbed_in_rejected_error(echo_server: EchoServer, token: str) -> None:
    url = echo_server(400, '{"message": "bad request to {path}"}')
    with pytest.raises(gs.RejectedError) as info:
        gs.Client(url, 1101000001, token, min_interval=0, retries=0).set_settings(incoming_webhook=True)
    assert info.value.status == 400 and "<redacted>" in info.value.message
    assert_token_hidden(info.value, token)


def test_token_unfit_for_a_url_is_config_error_without_the_value() -> None:
    bad = "tok SECRET/with-slash"
    with pytest.raises(gs.ConfigError) as info:
        gs.Client("http://127.0.0.1:9", 1, bad)
    assert "value not shown" in str(info.value)
    assert_token_hidden(info.value, bad, "SECRET")


def test_validation_error_never_shows_the_token_or_a_secret_value(client: gs.Client, token: str) -> None:
    secret = "hook\nsecret-zz"  # a variable: the traceback shows the calling line's source
    with pytest.raises(gs.ValidationError) as info:
        client.set_settings(webhook_url_token=secret, delay_send_messages_milliseconds=1)
    assert len(info.value.violations) == 2
    assert_token_hidden(info.value, token, "secret-zz")


def test_every_error_class_derives_from_green_api_error() -> None:
    for cls in (
        gs.ValidationError, gs.ConfigError, gs.AuthError, gs.ForbiddenError, gs.RateLimitError,
        gs.QuotaExceededError, gs.InstanceNotReadyError, gs.RejectedError, gs.ServerError,
        gs.TransportError, gs.TimeoutError, gs.DecodeError,
    ):
        assert issubclass(cls, gs.GreenApiError) and cls.__module__ == "greenapi_settings"
    assert issubclass(gs.ValidationError, ValueError) and issubclass(gs.ConfigError, ValueError)


def test_errors_raised_by_user_code_still_have_status_and_retryable() -> None:
    e = gs.AuthError("made up")
    assert e.status is None and e.retryable is False


def test_a_redirect_is_a_redirect_error_and_is_not_followed(echo_server: EchoServer, token: str) -> None:
    url = echo_server(302, '{"moved": "{path}"}')
    client = gs.Client(url, 1101000001, token, retries=0, min_interval=0)
    with pytest.raises(gs.RedirectError) as e:
        client.set_settings(incoming_webhook=True)
    assert isinstance(e.value, gs.GreenApiError)
    assert e.value.status == 302
    assert e.value.target == "nowhere"
    assert e.value.retryable is False
    assert token not in str(e.value) and token not in repr(e.value)
