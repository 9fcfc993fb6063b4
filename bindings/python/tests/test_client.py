"""The blocking Client against the real sandbox over loopback: get/set/plan/apply, warnings
before sending, validation before sending, configuration errors."""

import warnings
from typing import Any

import pytest

import greenapi_settings as gs


def test_get_settings_returns_typed_settings_of_a_fresh_instance(client: gs.Client) -> None:
    s = client.get_settings()
    assert isinstance(s, gs.Settings)
    assert s.incoming_webhook is False
    assert s.wid is not None


def test_set_settings_with_keywords_changes_the_instance(client: gs.Client, sandbox: gs.Sandbox) -> None:
    assert client.set_settings(incoming_webhook=True, delay_send_messages_milliseconds=15_000) is True
    s = client.get_settings()
    assert s.incoming_webhook is True and s.delay_send_messages_milliseconds == 15_000
    assert sandbox.stats().restarts == 1


def test_set_settings_accepts_a_patch_or_a_mapping(client: gs.Client) -> None:
    assert client.set_settings(gs.SettingsPatch(state_webhook=True))
    assert client.set_settings({"keepOnlineStatus": "yes"})
    s = client.get_settings()
    assert s.state_webhook is True and s.keep_online_status is True


def test_set_settings_refuses_a_patch_and_keywords_together(client: gs.Client) -> None:
    with pytest.raises(TypeError, match="not both"):
        client.set_settings(gs.SettingsPatch(state_webhook=True), incoming_webhook=True)


def test_invalid_change_raises_every_error_and_sends_nothing(client: gs.Client, sandbox: gs.Sandbox) -> None:
    with pytest.raises(gs.ValidationError) as info:
        client.set_settings(delay_send_messages_milliseconds=1, webhook_url="not a url")
    assert {v.field for v in info.value.violations} == {"delaySendMessagesMilliseconds", "webhookUrl"}
    assert sandbox.stats().set_settings_calls == 0


def test_unknown_keyword_in_a_client_call_is_a_type_error_with_a_suggestion(client: gs.Client) -> None:
    with pytest.raises(TypeError, match="did you mean 'keep_online_status'"):
        client.set_settings(keep_online_statu=True)  # type: ignore[call-arg]


def test_unused_field_emits_deprecation_warning_before_sending(client: gs.Client, sandbox: gs.Sandbox) -> None:
    with pytest.warns(DeprecationWarning, match=r"sharedSession: is deprecated"):
        client.set_settings(shared_session=True)
    assert sandbox.stats().restarts == 1


def test_temporarily_broken_field_emits_user_warning(client: gs.Client) -> None:
    with pytest.warns(UserWarning, match=r"deviceWebhook: is temporarily not working") as record:
        client.set_settings(device_webhook=True)
    assert all(not issubclass(w.category, DeprecationWarning) for w in record)


def test_warning_points_at_the_calling_line(client: gs.Client) -> None:
    with pytest.warns(UserWarning) as record:
        client.set_settings(incoming_block_webhook=True)
    assert record[0].filename == __file__


def test_warnings_turned_into_errors_stop_the_change_before_it_is_sent(client: gs.Client, sandbox: gs.Sandbox) -> None:
    # pyproject sets filterwarnings = error; this is what a user with -W error gets.
    with pytest.raises(DeprecationWarning):
        client.set_settings(enable_messages_history=True)
    assert sandbox.stats().set_settings_calls == 0


def test_plan_shows_changes_and_cross_field_warnings_against_current_settings(client: gs.Client, sandbox: gs.Sandbox) -> None:
    with pytest.warns(UserWarning, match="incomingCallWebhook"):
        plan = client.plan(incoming_call_webhook=True, delay_send_messages_milliseconds=5000)
    assert [(c.field, c.current, c.desired) for c in plan.changes] == [
        ("delaySendMessagesMilliseconds", 0, 5000),
        ("incomingCallWebhook", False, True),
    ]
    assert [w.rule for w in plan.warnings] == ["incomingCallStatuses"]
    assert plan.to_send == gs.SettingsPatch(incoming_call_webhook=True, delay_send_messages_milliseconds=5000)
    assert plan.after().incoming_call_webhook is True
    assert not plan.is_noop
    assert sandbox.stats().set_settings_calls == 0


def test_apply_sends_only_the_difference_and_nothing_when_it_already_matches(client: gs.Client, sandbox: gs.Sandbox) -> None:
    client.set_settings(incoming_webhook=True)
    applied = client.apply(incoming_webhook=True, outgoing_webhook=True)
    assert applied.sent and applied.save_settings is True
    assert applied.plan.to_send == gs.SettingsPatch(outgoing_webhook=True)
    again = client.apply(incoming_webhook=True, outgoing_webhook=True)
    assert not again.sent and again.save_settings is None and again.plan.is_noop
    assert sandbox.stats().restarts == 2


def test_change_repr_hides_secret_values_but_attributes_hold_them(client: gs.Client) -> None:
    plan = client.plan(webhook_url_token="hook-secret-abcd")
    [change] = plan.changes
    assert change.secret and change.desired == "hook-secret-abcd"
    assert "hook-secret-abcd" not in repr(change) + str(change) + repr(plan)


def test_from_env_reads_the_three_environment_variables(monkeypatch: pytest.MonkeyPatch, sandbox: gs.Sandbox) -> None:
    monkeypatch.setenv("GREEN_API_URL", sandbox.url)
    monkeypatch.setenv("GREEN_API_ID_INSTANCE", str(sandbox.id_instance))
    monkeypatch.setenv("GREEN_API_TOKEN", sandbox.api_token)
    client = gs.Client.from_env(min_interval=0)
    assert client.id_instance == sandbox.id_instance and client.api_url == sandbox.url
    assert client.get_settings().incoming_webhook is False


def test_from_env_without_variables_is_a_config_error_naming_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GREEN_API_URL", "GREEN_API_ID_INSTANCE", "GREEN_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(gs.ConfigError, match="GREEN_API_URL.*GREEN_API_ID_INSTANCE.*GREEN_API_TOKEN"):
        gs.Client.from_env()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api_url": "ftp://example.com"}, "absolute http"),
        ({"timeout": 0.0}, "timeout must be"),
        ({"min_interval": -1.0}, "min_interval must be"),
    ],
)
def test_bad_configuration_is_a_config_error_which_is_a_value_error(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, Any] = {"api_url": "http://127.0.0.1:9", "id_instance": 1, "api_token": "tok-abcdef", **kwargs}
    with pytest.raises(ValueError, match=message) as info:
        gs.Client(**args)
    assert isinstance(info.value, gs.ConfigError)


def test_client_repr_shows_where_it_talks_but_never_the_token(client: gs.Client, token: str) -> None:
    assert token not in repr(client)
    assert repr(client).startswith("Client(api_url='http://127.0.0.1:")
    assert "api_token=<redacted>" in repr(client)


def test_pacing_keeps_the_api_rate_limit_by_default(token: str) -> None:
    import time

    with gs.Sandbox(api_token=token) as sb:  # the sandbox enforces 1 request per second
        client = gs.Client(sb.url, sb.id_instance, sb.api_token, retries=0)
        start = time.monotonic()
        client.get_settings()
        client.get_settings()
        assert time.monotonic() - start >= 0.9
        assert sb.stats().rate_limited == 0


def test_no_warning_is_emitted_for_an_ordinary_change(client: gs.Client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.set_settings(incoming_webhook=True, outgoing_message_webhook=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retries": -1}, "retries must be"),
        ({"retries": 2**32}, "retries must be"),
        ({"timeout": -1}, "timeout must be"),
        ({"timeout": float("nan")}, "timeout must be"),
        ({"timeout": float("inf")}, "timeout must be"),
        ({"timeout": 10**400}, "timeout must be"),
        ({"timeout": 1e300}, "timeout must be"),
        ({"min_interval": float("nan")}, "min_interval must be"),
        ({"min_interval": 10**400}, "min_interval must be"),
        ({"id_instance": -1}, "id_instance must be"),
        ({"id_instance": 2**64}, "id_instance must be"),
    ],
)
@pytest.mark.parametrize("cls", [gs.Client, gs.AsyncClient])
def test_numeric_options_out_of_range_are_config_errors(cls: type[gs.Client], kwargs: dict[str, object], message: str) -> None:
    args: dict[str, Any] = {"api_url": "http://127.0.0.1:9", "id_instance": 1, "api_token": "tok-abcdef", **kwargs}
    with pytest.raises(gs.ConfigError, match=message):
        cls(**args)
    options: dict[str, Any] = {k: v for k, v in kwargs.items() if k != "id_instance"}
    if options:
        with pytest.raises(gs.ConfigError, match=message):
            cls.from_env(**options)


@pytest.mark.parametrize("kwargs", [{"retries": 1.5}, {"retries": "3"}, {"timeout": "30"}, {"id_instance": "1"}, {"retries": True}])
def test_numeric_options_of_the_wrong_type_are_type_errors(kwargs: dict[str, object]) -> None:
    args: dict[str, Any] = {"api_url": "http://127.0.0.1:9", "id_instance": 1, "api_token": "tok-abcdef", **kwargs}
    with pytest.raises(TypeError, match=next(iter(kwargs))):
        gs.Client(**args)


def test_numeric_options_accept_their_range(sandbox: gs.Sandbox) -> None:
    client = gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token, retries=0, timeout=1, min_interval=0)
    assert client.get_settings().incoming_webhook is False
    gs.Client(sandbox.url, 2**64 - 1, sandbox.api_token, retries=2**32 - 1, timeout=0.001, min_interval=0.0)


@pytest.mark.parametrize("empty", ["", "   "])
def test_from_env_treats_empty_variables_as_unset(monkeypatch: pytest.MonkeyPatch, empty: str) -> None:
    # As the CLI does: an empty GREEN_API_URL is "missing", not "not a URL".
    for name in ("GREEN_API_URL", "GREEN_API_ID_INSTANCE", "GREEN_API_TOKEN"):
        monkeypatch.setenv(name, empty)
    with pytest.raises(gs.ConfigError, match="missing.*GREEN_API_URL.*GREEN_API_ID_INSTANCE.*GREEN_API_TOKEN"):
        gs.Client.from_env()
    with pytest.raises(gs.ConfigError, match="missing.*GREEN_API_URL.*GREEN_API_ID_INSTANCE.*GREEN_API_TOKEN"):
        gs.AsyncClient.from_env()


def test_from_env_with_one_empty_variable_names_only_that_one(monkeypatch: pytest.MonkeyPatch, sandbox: gs.Sandbox) -> None:
    monkeypatch.setenv("GREEN_API_URL", sandbox.url)
    monkeypatch.setenv("GREEN_API_ID_INSTANCE", "")
    monkeypatch.setenv("GREEN_API_TOKEN", sandbox.api_token)
    with pytest.raises(gs.ConfigError) as info:
        gs.Client.from_env()
    assert "GREEN_API_ID_INSTANCE" in str(info.value)
    assert "GREEN_API_URL" not in str(info.value) and "GREEN_API_TOKEN" not in str(info.value)
