"""The asyncio client: read, apply, many instances at once, and the typed errors.

    python bindings/python/examples/async_apply.py

Every AsyncClient method returns a coroutine; `async with` closes the client at the end.
"""

from __future__ import annotations

import asyncio

import greenapi_settings as gs


async def configure(client: gs.AsyncClient) -> gs.Applied:
    before = await client.get_settings()
    print(f"incoming_webhook before: {before.incoming_webhook}")
    return await client.apply(incoming_webhook=True, state_webhook=True)


async def main() -> None:
    with gs.Sandbox(rate_limit=None) as sandbox, gs.Sandbox(rate_limit=None) as other:
        async with gs.AsyncClient(sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0) as client:
            applied = await configure(client)
            print(f"changed: {[c.field for c in applied.plan.changes]}")

        # Several instances at once: one client each, the calls gathered.
        clients = [gs.AsyncClient(sb.url, sb.id_instance, sb.api_token) for sb in (sandbox, other)]
        both = await asyncio.gather(*(c.get_settings() for c in clients))
        print(f"incoming_webhook per instance: {[s.incoming_webhook for s in both]}")

        async with gs.AsyncClient(sandbox.url, sandbox.id_instance, "not-the-token", retries=0) as wrong:
            try:
                await wrong.get_settings()
            except gs.AuthError as e:
                print(f"{type(e).__name__} (HTTP {e.status}): {e}")


if __name__ == "__main__":
    asyncio.run(main())
