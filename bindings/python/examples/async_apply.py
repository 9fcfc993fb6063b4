"""The asyncio client: read, apply, and handle the typed errors.

    python bindings/python/examples/async_apply.py
"""

from __future__ import annotations

import asyncio

import greenapi_settings as gs


async def configure(client: gs.AsyncClient) -> gs.Applied:
    before = await client.get_settings()
    print(f"incoming_webhook before: {before.incoming_webhook}")
    return await client.apply(incoming_webhook=True, state_webhook=True)


async def main() -> None:
    with gs.Sandbox(rate_limit=None) as sandbox:
        client = gs.AsyncClient(sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0)
        applied = await configure(client)
        print(f"changed: {[c.field for c in applied.plan.changes]}")

        wrong = gs.AsyncClient(sandbox.url, sandbox.id_instance, "not-the-token", retries=0)
        try:
            await wrong.get_settings()
        except gs.AuthError as e:
            print(f"{type(e).__name__} (HTTP {e.status}): {e}")


if __name__ == "__main__":
    asyncio.run(main())
