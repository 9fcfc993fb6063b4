"""Fixtures: a real sandbox server on loopback, clients for it, and a tiny echo server for
answers the sandbox never gives (garbage bodies, server text that repeats the request path).

The tests import the *installed* package (`pip install ./bindings/python`), never the source
tree: pytest runs with `--import-mode=importlib`, so nothing here is put on `sys.path`.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Callable, Iterator

import pytest

import greenapi_settings as gs

# Distinctive, so that a leak anywhere is found by a plain substring search.
TOKEN = "tok-SECRET-4f1c9a"
WRONG_TOKEN = "tok-WRONG-77aa0b"
ID = 1101000001


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module with `ALSO_OVER_TLS = True` runs each of its sandbox tests twice: against the
    plain sandbox and against the TLS one (`Sandbox(tls=True)`, its CA trusted by the `client`
    and `aclient` fixtures and by clients made with `ca_cert=sandbox.ca_path`)."""
    if "sandbox_scheme" in metafunc.fixturenames and getattr(metafunc.module, "ALSO_OVER_TLS", False):
        metafunc.parametrize("sandbox_scheme", ["http", "https"], indirect=True)


@pytest.fixture
def sandbox_scheme(request: pytest.FixtureRequest) -> str:
    """`http`, or `https` in the second run of an `ALSO_OVER_TLS` module."""
    return str(getattr(request, "param", "http"))


@pytest.fixture
def sandbox(sandbox_scheme: str) -> Iterator[gs.Sandbox]:
    """A fresh sandbox without rate limit, so tests run at full speed."""
    with gs.Sandbox(id_instance=ID, api_token=TOKEN, rate_limit=None, tls=sandbox_scheme == "https") as sb:
        assert sb.url.startswith(f"{sandbox_scheme}://")
        yield sb


@pytest.fixture
def client(sandbox: gs.Sandbox) -> gs.Client:
    return gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0, ca_cert=sandbox.ca_path)


@pytest.fixture
def aclient(sandbox: gs.Sandbox) -> gs.AsyncClient:
    return gs.AsyncClient(
        sandbox.url, sandbox.id_instance, sandbox.api_token, min_interval=0, ca_cert=sandbox.ca_path
    )


# `respond(path, request body)` -> (status, body) of the answer.
Responder = Callable[[str, str], tuple[int, str]]


@contextlib.contextmanager
def _http_servers() -> Iterator[Callable[[Responder], str]]:
    """`serve(respond)` starts a loopback server answering every GET and POST with
    `respond(path, body)` (as JSON); returns its base URL. All are stopped on exit."""
    servers: list[http.server.HTTPServer] = []

    def serve(respond: Responder) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sent = self.rfile.read(length).decode() if length else ""
                status, body = respond(self.path, sent)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = answer
            do_POST = answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    try:
        yield serve
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


EchoServer = Callable[[int, str], str]


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    """`start(status, body)` serves `body` (with `{path}` replaced by the request path, token
    included) with `status` to every request; returns the base URL."""
    with _http_servers() as serve:

        def start(status: int, body: str) -> str:
            return serve(lambda path, _sent: (status, body.replace("{path}", path)))

        yield start


@pytest.fixture
def token() -> str:
    """The sandbox's API token."""
    return TOKEN


@pytest.fixture
def wrong_token() -> str:
    return WRONG_TOKEN


ScriptedServer = Callable[[list[tuple[int, str]]], str]


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """`start([(status, body), ...])` answers the n-th request with the n-th pair (the last one
    again after the list ends); `{body}` in a body is replaced by the request's body (a server
    that echoes what it was sent). Returns the base URL."""
    with _http_servers() as serve:

        def start(script: list[tuple[int, str]]) -> str:
            answers = iter(script)
            last = script[-1]

            def respond(_path: str, sent: str) -> tuple[int, str]:
                nonlocal last
                last = next(answers, last)
                status, body = last
                return status, body.replace("{body}", sent)

            return serve(respond)

        yield start


@pytest.fixture
def settings_body(token: str) -> str:
    """A full getSettings answer, as the sandbox gives it."""
    import json

    with gs.Sandbox(id_instance=ID, api_token=token, rate_limit=None) as sb:
        client = gs.Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)
        return json.dumps(client.get_settings().to_dict(names="api", reveal_secrets=True))
