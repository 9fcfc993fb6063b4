"""Python-side benchmarks, one run on one machine, printed as one Markdown table (and JSON with
--json):

1. Loopback round trips against the in-process sandbox (rate limit off): the greenapi_settings
   Python binding versus the official SDK (`whatsapp-api-client-python`, `GreenApi(id, token,
   host=sandbox_url)`), for getSettings and setSettings: requests/s, p50 and p99 latency.
2. Validation cost of a full patch: `SettingsPatch(**kwargs).validate()` versus a pydantic v2
   model of the same fields and constraints.

Every loop is bounded by a request count. Run: `bash scripts/bench` (it installs what this
needs into .venv-bench), or directly: `python bench/python_bench.py [--requests N] [--json]`.

`--worker` runs none of that: it serves rounds of the binding's round trips to the loopback
bench (tests/e2e/benches/support/python_worker.rs), which interleaves them with its Rust client
rounds, so that the binding's overhead over the Rust client comes from paired rounds of one
step. It starts its own sandbox (rate limit off, no latency) and binding client, pins them as
the round trips above do, prints one JSON line ({"ready": ...} or {"error": ...}), then answers
each command line on stdin ("get N" or "set N": N calls, N ≤ 100000) with one JSON line: the
per-call times in ns, the loop's wall time and the CPU split of the round; "quit" or end of
input ends it.
"""

from __future__ import annotations

import argparse
import json
import os
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
# sends, here and in the Rust rows of tests/e2e/benches/support/sequential.rs.
EXAMPLE_BODY: dict[str, Any] = json.loads((ROOT / "spec" / "settings.json").read_text(encoding="utf-8"))[
    "methods"
]["setSettings"]["exampleBody"]

# Every one of the spec's 24 settings (spec v2), with valid values: the patch both validators
# check in the validation rows. Deprecated, broken and beta fields make the binding's
# validate() return warnings (it emits none); pydantic has no such notion.
FULL: dict[str, Any] = dict(
    webhook_url="https://mysite.com/webhook/green-api/",
    webhook_url_token="secret-token",
    delay_send_messages_milliseconds=5000,
    mark_incoming_messages_readed=False,
    mark_incoming_messages_readed_on_reply=False,
    shared_session=False,
    country_instance="",
    outgoing_webhook=True,
    outgoing_message_webhook=True,
    outgoing_api_message_webhook=True,
    state_webhook=True,
    incoming_webhook=True,
    device_webhook=False,
    status_instance_webhook=False,
    enable_messages_history=False,
    keep_online_status=False,
    poll_message_webhook=False,
    incoming_block_webhook=True,
    incoming_call_webhook=True,
    edited_message_webhook=False,
    deleted_message_webhook=False,
    auto_typing=2,
    link_preview=True,
    enable_lid_mode=False,
)


ROUNDS = 10


def measure_interleaved(
    calls: list[Callable[[int], Any]], n: int, rounds: int = ROUNDS, warmup: int = 20
) -> list[dict[str, float]]:
    """n calls of each of `calls`, in `rounds` rounds that take turns (round 1 of every call,
    then round 2 of every call, ...), so that a change in the machine's load falls on every
    row alike, as the Rust rows do; requests/s is each call's calls over its own time."""
    for call in calls:
        for i in range(warmup):
            call(i)
    lat: list[list[int]] = [[] for _ in calls]
    spent = [0.0 for _ in calls]
    per_round = [n // rounds + (1 if r < n % rounds else 0) for r in range(rounds)]
    for count in per_round:
        for k, call in enumerate(calls):
            start = time.perf_counter()
            for i in range(count):
                t0 = time.perf_counter_ns()
                call(i)
                lat[k].append(time.perf_counter_ns() - t0)
            spent[k] += time.perf_counter() - start
    rows = []
    for times, total in zip(lat, spent):
        times.sort()
        rows.append(
            {
                "n": len(times),
                "rps": len(times) / total,
                "p50_us": times[len(times) // 2] / 1000,
                "p99_us": times[min(len(times) - 1, int(len(times) * 0.99))] / 1000,
            }
        )
    return rows


def pin_client_and_server(undo: bool = False) -> bool:
    """Sandbox threads (named greenapi-sandbox) on CPU 1, every other thread of this process
    (Python, which runs the binding's blocking requests itself, and the official SDK's) on
    CPU 0, as tests/e2e/benches/support/cpu.rs does for the Rust rows: client and server always
    talk across CPUs. `undo` gives back every CPU.
    PIN_MODE=server-only in the environment pins the sandbox threads only."""
    cpus = os.cpu_count() or 1
    if cpus < 2 or not hasattr(os, "sched_setaffinity"):
        return False
    mode = os.environ.get("PIN_MODE", "split")
    ok = True
    for tid in os.listdir("/proc/self/task"):
        try:
            comm = pathlib.Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            if undo:
                cpu = set(range(cpus))
            elif comm.startswith("greenapi-sandbo"):
                cpu = {1}
            elif mode == "server-only":
                continue
            else:
                cpu = {0}
            os.sched_setaffinity(int(tid), cpu)
        except OSError:
            ok = False  # a thread that ended meanwhile; the others are still (un)pinned
    return ok


def schedstat() -> dict[int, tuple[int, int, int, bool]]:
    """Every thread of this process: tid -> (ns on a CPU, ns runnable but waiting, times
    scheduled in, whether it is a sandbox thread), from /proc/self/task/TID/schedstat, as
    tests/e2e/benches/support/cpu.rs reads it for the Rust rows."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            cpu, wait, slices = pathlib.Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[:3]
            comm = pathlib.Path(f"/proc/self/task/{tid}/comm").read_text()
        except (OSError, ValueError):
            continue  # a thread that ended meanwhile
        out[int(tid)] = (int(cpu), int(wait), int(slices), comm.startswith("greenapi-sandbo"))
    return out


def worker(pin: bool) -> int:
    """Serves rounds of binding round trips on stdin/stdout (see the module's docstring)."""

    def say(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    with gs.Sandbox(rate_limit=None, latency=0.0) as sb, warnings.catch_warnings():
        # The example body sets two temporarily-broken fields: the binding warns on each send.
        warnings.simplefilter("ignore")
        ours = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0.0, retries=0)
        patch = gs.SettingsPatch.from_dict(EXAMPLE_BODY)

        def ours_set() -> None:
            ours.set_settings(patch)

        calls: dict[str, Callable[[], Any]] = {"get": ours.get_settings, "set": ours_set}
        for call in calls.values():
            call()  # every thread exists once the client made a call
        pinned = pin and pin_client_and_server()
        say({"ready": True, "pinned": pinned, "python": sys.version.split()[0], "binding": gs.__version__})
        for line in sys.stdin:
            words = line.split()
            if words == ["quit"]:
                break
            if len(words) != 2 or words[0] not in calls or not words[1].isdigit() or int(words[1]) > 100_000:
                say({"error": f"unknown command {line.strip()[:80]!r}"})
                continue
            call, n = calls[words[0]], int(words[1])
            before = schedstat()
            lat = [0] * n
            start = time.perf_counter_ns()
            for i in range(n):
                t0 = time.perf_counter_ns()
                call()
                lat[i] = time.perf_counter_ns() - t0
            wall = time.perf_counter_ns() - start
            after = schedstat()
            split = {"client_cpu_ns": 0, "server_cpu_ns": 0, "wait_ns": 0, "slices": 0}
            for tid, (cpu, wait, slices, server) in after.items():
                b = before.get(tid, (0, 0, 0, server))
                # The sandbox's threads serve; every other thread (Python's, which runs the binding's
                # requests itself, and the binding's own) is the client side.
                split["server_cpu_ns" if server else "client_cpu_ns"] += cpu - b[0]
                split["wait_ns"] += wait - b[1]
                split["slices"] += slices - b[2]
            say({"ns": lat, "wall_ns": wall, **split})
    return 0


def roundtrips(n: int, pin: bool = True) -> list[dict[str, Any]]:
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
            # Every thread exists once each client made a call.
            for _, _, call in cases:
                call(0)
            pinned = pin and pin_client_and_server()
            measured = measure_interleaved([call for _, _, call in cases], n)
            for (method, who, _), m in zip(cases, measured):
                rows.append({"method": method, "client": who, "pinned": pinned, **m})
            if pinned:
                pin_client_and_server(undo=True)
    return rows


def pydantic_model() -> Any:
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    # The spec's 24 settings with its limits (spec/settings.json, v2): lengths, ranges, URL
    # schemes; pydantic's Optional[...] = None stands for "not set".
    class Patch(BaseModel):
        model_config = ConfigDict(extra="forbid")
        webhook_url: Optional[str] = Field(default=None, max_length=2048)
        webhook_url_token: Optional[str] = Field(default=None, max_length=1024)
        delay_send_messages_milliseconds: Optional[int] = Field(default=None, ge=500, le=600_000)
        mark_incoming_messages_readed: Optional[bool] = None
        mark_incoming_messages_readed_on_reply: Optional[bool] = None
        shared_session: Optional[bool] = None
        country_instance: Optional[str] = Field(default=None, max_length=64)
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
        edited_message_webhook: Optional[bool] = None
        deleted_message_webhook: Optional[bool] = None
        auto_typing: Optional[int] = Field(default=None, ge=0, le=4)
        link_preview: Optional[bool] = None
        enable_lid_mode: Optional[bool] = None

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
    ap.add_argument("--no-pin", action="store_true", help="leave thread placement to the scheduler")
    ap.add_argument("--worker", action="store_true", help="serve rounds to the loopback bench (see above)")
    args = ap.parse_args()
    if args.worker:
        return worker(pin=not args.no_pin)
    rt = roundtrips(args.requests, pin=not args.no_pin)
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
    print(f"\n| validation of a full patch ({len(FULL)} fields) | µs/call | vs pydantic |")
    print("|---|---:|---:|")
    base = val[1]["us_per_call"]
    for r in val:
        print(f"| {r['what']} | {r['us_per_call']:.2f} | {r['us_per_call'] / base:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
