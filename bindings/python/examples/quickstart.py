"""Configure an instance's webhooks the safe way: validate, plan, apply only the difference.

Runs against a local sandbox (no account, no network):

    python bindings/python/examples/quickstart.py

Against a real instance, replace the Sandbox with `Client.from_env()` (GREEN_API_URL,
GREEN_API_ID_INSTANCE, GREEN_API_TOKEN).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import greenapi_settings as gs

if TYPE_CHECKING:
    from greenapi_settings import SettingsPatchKwargs

# The keywords as a typed dict: a type checker checks each name and value.
WEBHOOKS: SettingsPatchKwargs = {
    "webhook_url": "https://example.com/green-api/webhook",
    "incoming_webhook": True,
    "outgoing_message_webhook": True,
    "outgoing_webhook": True,
}
DESIRED = gs.SettingsPatch(**WEBHOOKS).replace(delay_send_messages_milliseconds=5_000)


def show_problems(error: gs.ValidationError) -> None:
    for v in error.violations:
        print(f"  {v.field or '(patch)'}: {v.message} [{v.rule}]")


def main() -> None:
    with gs.Sandbox() as sandbox, gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token) as client:
        print(f"talking to {client!r}")

        # Mistakes are caught before anything is sent, all at once.
        try:
            client.set_settings(delay_send_messages_milliseconds=100, webhook_url="ftp://x")
        except gs.ValidationError as e:
            print(f"rejected locally ({len(e.violations)} problems):")
            show_problems(e)

        plan = client.plan(DESIRED)
        print("plan:")
        for change in plan.changes:
            print(f"  {change}")

        applied = client.apply(DESIRED)
        print(f"sent: {applied.sent}, saved: {applied.save_settings}")
        again = client.apply(DESIRED)
        print(f"second apply sent anything: {again.sent}")  # each setSettings restarts the instance

        current: gs.Settings = client.get_settings()
        assert current.incoming_webhook and current.delay_send_messages_milliseconds == 5_000
        # Plain data for json.dumps, in the spelling chosen (the webhook secret is redacted).
        print(json.dumps(current.to_dict(names="snake"))[:60] + "...")
        slower = DESIRED.replace(delay_send_messages_milliseconds=15_000)
        print(f"a variant: {slower.to_json(names='api')}")
        print(f"restarts: {sandbox.stats().restarts}")


if __name__ == "__main__":
    main()
