"""Typed, validated access to the settings of a GREEN-API WhatsApp instance
(setSettings / getSettings), backed by the Rust crate `greenapi-settings`.

    from greenapi_settings import Client, Sandbox

    with Sandbox() as sandbox:  # a local look-alike of the API: no account, no network
        client = Client(sandbox.url, sandbox.id_instance, sandbox.api_token)
        plan = client.plan(incoming_webhook=True, delay_send_messages_milliseconds=15_000)
        for change in plan.changes:
            print(change)
        client.apply(plan.desired)

Everything lives in the native module `greenapi_settings._native`; its stub `_native.pyi` is
generated from the same spec as the Rust types. Retries and responses are logged to the logger
`greenapi_settings` (a `NullHandler` is attached, as libraries do: configure `logging` to see
them). `SettingsPatchKwargs` (the keywords of `SettingsPatch(...)` as a `TypedDict`) exists
for type checkers only: import it under `typing.TYPE_CHECKING`. The command line
`greenapi-settings` is installed with the package (also `python -m greenapi_settings`).
"""

import logging as _logging
from typing import TYPE_CHECKING

from greenapi_settings._native import (
    Applied,
    AsyncClient,
    AuthError,
    Change,
    Client,
    ClientClosedError,
    ConfigError,
    DecodeError,
    ForbiddenError,
    GreenApiError,
    InstanceNotReadyError,
    Plan,
    QuotaExceededError,
    RateLimitError,
    RedirectError,
    RejectedError,
    Sandbox,
    SandboxStats,
    ServerError,
    Settings,
    SettingsPatch,
    TimeoutError,
    TlsError,
    TransportError,
    ValidationError,
    Violation,
    __version__,
)

if TYPE_CHECKING:
    from greenapi_settings._native import Names as Names
    from greenapi_settings._native import SettingsPatchKwargs as SettingsPatchKwargs

__all__ = [
    "Applied",
    "AsyncClient",
    "AuthError",
    "Change",
    "Client",
    "ClientClosedError",
    "ConfigError",
    "DecodeError",
    "ForbiddenError",
    "GreenApiError",
    "InstanceNotReadyError",
    "Plan",
    "QuotaExceededError",
    "RateLimitError",
    "RedirectError",
    "RejectedError",
    "Sandbox",
    "SandboxStats",
    "ServerError",
    "Settings",
    "SettingsPatch",
    "TimeoutError",
    "TlsError",
    "TransportError",
    "ValidationError",
    "Violation",
    "__version__",
]

_logging.getLogger(__name__).addHandler(_logging.NullHandler())
