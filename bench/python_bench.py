"""Python-side benchmarks, one run on one machine, printed as one Markdown table (and JSON with
--json):

1. Loopback round trips against the in-process sandbox (rate limit off): the greenapi_settings
   Python binding versus the official SDK (`whatsapp-api-client-python`, `GreenApi(id, token,
   host=sandbox_url)`), for getSettings and setSettings: requests/s, p50 and p99 latency.
2. Validation cost of a full patch: `SettingsPatch(**kwargs).validate()` versus a pydantic v2
   model of the same fields and constraints.

Every loop is bounded by a request count. Run: `bash scripts/bench` (it installs what this
needs into .venv-bench), or directly: `python bench/python_bench.py [--requests N] [--json]`.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
import timeit
import warnings
from typing import Any, Callable, Optional
from urllib.parse import urlparse

import greenapi_settings as gs

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The API documentation's example body (15 settings), from the spec: what every setSettings row
# sends, here and in the Rust rows of tests/e2e/benches/loopback.rs.
EXAMPLE_BODY: dict[str, Any] = json.loads((ROOT / "spec" / "settings.json").read_text(encoding="utf-8"))[
    "methods"
]["setSettings"]["exampleBody"]

FULL = dict(
    webhook_url="https://mysite.com/webhook/green-api/",
    webhook_url_token="secret-token",
    delay_send_messages_milliseconds=5000,
    mark_incoming_messages_readed=False,
    mark_incoming_messages_readed_on_reply=False,
    outgoing_webhook=True,
    outgoing_message_webhook=True,
    outgoing_api_message_webhook=True,
    incoming_webhook=True,
    device_webhook=False,
    state_webhook=True,
    keep_online_status=False,
    poll_message_webhook=False,
    incoming_block_webhook=True,
    incoming_call_webhook=True,
)


def measure(call: Callable[[int], Any], n: int, warmup: int = 20) -> dict[str, float]:
    for i in range(warmup):
        call(i)
    lat = []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter_ns()
        call(i)
        lat.append(time.perf_counter_ns() - t0)
    total = time.perf_counter() - start
    lat.sort()
    return {
        "n": n,
        "rps": n / total,
        "p50_us": lat[len(lat) // 2] / 1000,
        "p99_us": lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1000,
    }


def roundtrips(n: int) -> list[dict[str, Any]]:
    from whatsapp_api_client_python import API  # the official SDK

    rows = []
    with gs.Sandbox(rate_limit=None) as sb:
        ours = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0.0, retries=0)
        sdk = API.GreenApi(str(sb.id_instance), sb.api_token, host=sb.url)

        def sdk_get(_: int) -> None:
            r = sdk.account.getSettings()
            assert r.code == 200, r.error

        patch = gs.SettingsPatch.from_dict(EXAMPLE_BODY)

        def sdk_set(_: int) -> None:
            r = sdk.account.setSettings(EXAMPLE_BODY)
            assert r.code == 200, r.error

        def ours_set(_: int) -> None:
            ours.set_settings(patch)

        cases = [
            ("getSettings", "greenapi_settings (Python binding)", lambda _: ours.get_settings()),
            ("getSettings", "whatsapp-api-client-python (official SDK)", sdk_get),
            ("setSettings", "greenapi_settings (Python binding)", ours_set),
            ("setSettings", "whatsapp-api-client-python (official SDK)", sdk_set),
        ]
        with warnings.catch_warnings():
            # The example body sets two temporarily-broken fields: the binding warns on each send.
            warnings.simplefilter("ignore")
            for method, who, call in cases:
                rows.append({"method": method, "client": who, **measure(call, n)})
    return rows


def pydantic_model() -> Any:
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    class Patch(BaseModel):
        model_config = ConfigDict(extra="forbid")
        webhook_url: Optional[str] = None
        webhook_url_token: Optional[str] = None
        delay_send_messages_milliseconds: Optional[int] = Field(default=None, ge=500, le=600_000)
        mark_incoming_messages_readed: Optional[bool] = None
        mark_incoming_messages_readed_on_reply: Optional[bool] = None
        shared_session: Optional[bool] = None
        country_instance: Optional[str] = None
        outgoing_webhook: Optional[bool] = None
        outgoing_message_webhook: Optional[bool] = None
        outgoing_api_message_webhook: Optional[bool] = None
        state_webhook: Optional[bool] = None
        incoming_webhook: Optional[bool] = None
        device_webhook: Optional[bool] = None
        status_instance_webhook: Optional[bool] = None
        enable_messages_history: Optional[bool] = None
        keep_online_status: Optional[bool] = None
        poll_message_webhook: Optional[bool] = None
        incoming_block_webhook: Optional[bool] = None
        incoming_call_webhook: Optional[bool] = None

        @field_validator("webhook_url")
        @classmethod
        def _url(cls, v: Optional[str]) -> Optional[str]:
            if v:
                u = urlparse(v)
                if u.scheme not in ("http", "https") or not u.netloc or any(c.isspace() for c in v):
                    raise ValueError("must be empty or an absolute http/https URL")
            return v

        @field_validator("webhook_url_token")
        @classmethod
        def _token(cls, v: Optional[str]) -> Optional[str]:
            if v is not None and any(ord(c) < 32 or ord(c) == 127 for c in v):
                raise ValueError("control characters")
            return v

    return Patch


def validation(repeat: int) -> list[dict[str, Any]]:
    patch_model = pydantic_model()

    def ours() -> None:
        # validate() returns warnings (here: two temporarily-broken fields); it emits none.
        gs.SettingsPatch(**FULL).validate()

    def theirs() -> None:
        patch_model(**FULL)

    rows = []
    for who, fn in [("greenapi_settings SettingsPatch(**kw).validate()", ours), ("pydantic v2 model(**kw)", theirs)]:
        fn()
        best = min(timeit.repeat(fn, number=repeat, repeat=5)) / repeat
        rows.append({"what": who, "us_per_call": best * 1e6, "n": repeat})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000, help="requests per client and method (bounded)")
    ap.add_argument("--validations", type=int, default=20000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rt = roundtrips(args.requests)
    val = validation(args.validations)
    if args.json:
        print(json.dumps({"roundtrip": rt, "validation": val}, indent=2))
        return 0
    print(
        f"Python {sys.version.split()[0]}, {args.requests} requests per row, loopback, sandbox rate limit off, "
        "setSettings sends the documented example body (15 settings)\n"
    )
    print("| method | client | req/s | p50 µs | p99 µs | req/s vs SDK |")
    print("|---|---|---:|---:|---:|---:|")
    for m in ("getSettings", "setSettings"):
        pair = [r for r in rt if r["method"] == m]
        sdk = next(r for r in pair if "official" in r["client"])
        for r in pair:
            print(f"| {m} | {r['client']} | {r['rps']:.0f} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | {r['rps'] / sdk['rps']:.2f}x |")
    print("\n| validation of a full patch (15 fields) | µs/call | vs pydantic |")
    print("|---|---:|---:|")
    base = val[1]["us_per_call"]
    for r in val:
        print(f"| {r['what']} | {r['us_per_call']:.2f} | {r['us_per_call'] / base:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
