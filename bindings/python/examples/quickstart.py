"""Configure an instance's webhooks the safe way: validate, plan, apply only the difference.

Runs against a local sandbox (no account, no network):

    python bindings/python/examples/quickstart.py

Against a real instance, replace the Sandbox with `Client.from_env()` (GREEN_API_URL,
GREEN_API_ID_INSTANCE, GREEN_API_TOKEN).
"""

from __future__ import annotations

import greenapi_settings as gs

DESIRED = gs.SettingsPatch(
    webhook_url="https://example.com/green-api/webhook",
    incoming_webhook=True,
    outgoing_message_webhook=True,
    outgoing_webhook=True,
    delay_send_messages_milliseconds=5_000,
)


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
        print(f"restarts: {sandbox.stats().restarts}")


if __name__ == "__main__":
    main()
