"""Trusting and reaching the API from real networks (issue 22 part 2): `ca_cert=` adds roots on
top of the system's, `proxy=` sends requests through a proxy that sees only `CONNECT host:port`,
a plain http:// api_url through a proxy is refused unless `allow_insecure_proxy=True`, and TLS
failures are `TlsError(TransportError)` with `host` and `cause`. Every server is on 127.0.0.1:
certificates are made in the test with the openssl command line tool."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator

import pytest

import greenapi_settings as gs

TOKEN = "tok-SECRET-4f1c9a"
ID = 1101000001

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl tool")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's HTTPS_PROXY / NO_PROXY must not change where these tests' requests go."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)


def _openssl(*args: str, cwd: pathlib.Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def certs(tmp_path: pathlib.Path) -> pathlib.Path:
    """ca.pem / ca.key (a throw-away CA), leaf.pem / leaf.key (for 127.0.0.1, signed by it)
    and self.pem / self.key (self-signed for 127.0.0.1)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl tool")
    d = tmp_path
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=py-test-ca", cwd=d)
    (d / "leaf.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    _openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext", cwd=d)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "self.key", "-out", "self.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=CA:FALSE", cwd=d)
    return d


def _pump(src: socket.socket, dst: socket.socket, record: bytearray | None = None) -> None:
    try:
        while data := src.recv(16384):
            if record is not None:
                record.extend(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def tls_front(cert: pathlib.Path, key: pathlib.Path, backend: tuple[str, int]) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 with `cert`, relaying each connection to `backend` (a plain
    sandbox). Yields its https:// URL."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return

            def one(raw: socket.socket = raw) -> None:
                try:
                    tls = ctx.wrap_socket(raw, server_side=True)
                except (OSError, ssl.SSLError):
                    raw.close()
                    return
                back = socket.create_connection(backend)
                t = threading.Thread(target=_pump, args=(back, tls), daemon=True)
                t.start()
                _pump(tls, back)
                t.join(10)
                tls.close()
                back.close()

            threading.Thread(target=one, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        listener.close()


@contextlib.contextmanager
def connect_proxy(answer: bytes | None = None) -> Iterator[tuple[str, list[bytearray]]]:
    """A loopback CONNECT proxy recording every byte each client sends (tunnel included).
    `answer` (e.g. a 407) is sent instead of tunnelling. Yields its address and the record."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytearray] = []

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            record = bytearray()
            seen.append(record)

            def one(client: socket.socket = client, record: bytearray = record) -> None:
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = client.recv(4096)
                    if not data:
                        client.close()
                        return
                    head += data
                    record.extend(data)
                words = head.split()
                if answer is not None or words[0] != b"CONNECT":
                    client.sendall(answer or b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    client.close()
                    return
                host, port = words[1].decode().rsplit(":", 1)
                server = socket.create_connection((host, int(port)))
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                t = threading.Thread(target=_pump, args=(server, client), daemon=True)
                t.start()
                _pump(client, server, record)
                t.join(10)
                client.close()
                server.close()

            threading.Thread(target=one, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        listener.close()


def _addr(sb: gs.Sandbox) -> tuple[str, int]:
    host, port = sb.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _hidden(e: BaseException, *secrets: str) -> None:
    for text in (str(e), repr(e)):
        for s in (TOKEN, "getSettings", *secrets):
            assert s not in text, text


@needs_openssl
def test_a_self_signed_server_raises_tls_error_not_trusted_naming_the_host(
    sandbox: gs.Sandbox, certs: pathlib.Path
) -> None:
    with tls_front(certs / "self.pem", certs / "self.key", _addr(sandbox)) as url:
        with pytest.raises(gs.TlsError) as info:
            gs.Client(url, ID, TOKEN, min_interval=0, retries=2).get_settings()
    e = info.value
    assert isinstance(e, gs.TransportError)
    assert e.cause == "notTrusted" and e.host == url
    assert e.retryable is False and e.status is None
    assert "certificate not trusted" in str(e)
    _hidden(e)


@needs_openssl
def test_ca_cert_trusts_the_servers_ca_in_both_clients(sandbox: gs.Sandbox, certs: pathlib.Path) -> None:
    with tls_front(certs / "leaf.pem", certs / "leaf.key", _addr(sandbox)) as url:
        with pytest.raises(gs.TlsError):
            gs.Client(url, ID, TOKEN, min_interval=0).get_settings()
        client = gs.Client(url, ID, TOKEN, min_interval=0, ca_cert=certs / "ca.pem")
        assert client.get_settings().incoming_webhook is False
        aclient = gs.AsyncClient(url, ID, TOKEN, min_interval=0, ca_cert=str(certs / "ca.pem"))
        assert asyncio.run(aclient.get_settings()).incoming_webhook is False


def test_a_ca_cert_that_is_not_pem_certificates_is_a_config_error_naming_the_file(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "not-a-cert.der"
    bad.write_bytes(b"\x30\x82\x01\x0a")
    for make in (gs.Client, gs.AsyncClient):
        with pytest.raises(gs.ConfigError) as info:
            make("https://1101.api.greenapi.com", ID, TOKEN, ca_cert=bad)
        assert "holds no PEM certificate" in str(info.value)
        assert "not-a-cert.der" in str(info.value)


def test_https_to_the_plain_sandbox_is_tls_error_not_tls(sandbox: gs.Sandbox) -> None:
    url = sandbox.url.replace("http://", "https://")
    with pytest.raises(gs.TlsError) as info:
        gs.Client(url, ID, TOKEN, min_interval=0).get_settings()
    assert info.value.cause == "notTls"
    _hidden(info.value)


@needs_openssl
def test_through_proxy_only_connect_host_port_crosses_in_clear(sandbox: gs.Sandbox, certs: pathlib.Path) -> None:
    with tls_front(certs / "leaf.pem", certs / "leaf.key", _addr(sandbox)) as url:
        with connect_proxy() as (proxy, seen):
            client = gs.Client(
                url, ID, TOKEN, min_interval=0, ca_cert=certs / "ca.pem",
                proxy=f"http://carol:Pr0xy-Pa55word@{proxy}",
            )
            assert "Pr0xy-Pa55word" not in repr(client)
            assert client.get_settings().incoming_webhook is False
    assert len(seen) == 1
    clear = bytes(seen[0])
    first = clear.split(b"\r\n", 1)[0].decode()
    assert first == f"CONNECT {url.removeprefix('https://')} HTTP/1.1"
    assert TOKEN.encode() not in clear and b"getSettings" not in clear


def test_a_proxy_answering_407_is_a_transport_error_without_its_credentials() -> None:
    answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
    with connect_proxy(answer) as (proxy, _seen):
        client = gs.Client("https://127.0.0.1:9", ID, TOKEN, min_interval=0, retries=0,
                           proxy=f"http://dave:Hunter2Hunter2@{proxy}")
        with pytest.raises(gs.TransportError) as info:
            client.get_settings()
    assert "proxy authorization required" in str(info.value)
    _hidden(info.value, "Hunter2Hunter2", "dave")


def test_a_plain_http_api_url_through_a_proxy_is_refused_unless_allowed(sandbox: gs.Sandbox) -> None:
    with connect_proxy() as (proxy, seen):
        for make in (gs.Client, gs.AsyncClient):
            with pytest.raises(gs.ConfigError) as info:
                make(sandbox.url, ID, TOKEN, proxy=f"http://u:Secret-Pw-99@{proxy}")
            assert "plain HTTP" in str(info.value) and "allow_insecure_proxy" in str(info.value)
            _hidden(info.value, "Secret-Pw-99")
        assert seen == []
        client = gs.Client(sandbox.url, ID, TOKEN, min_interval=0, retries=0,
                           proxy=f"http://{proxy}", allow_insecure_proxy=True)
        with pytest.raises(gs.GreenApiError):
            client.get_settings()  # the test proxy answers a plain request 502
        assert len(seen) == 1 and bytes(seen[0]).startswith(b"GET http://")


def test_a_proxy_url_that_is_not_usable_is_a_config_error_never_quoted() -> None:
    with pytest.raises(gs.ConfigError) as info:
        gs.Client("https://1101.api.greenapi.com", ID, TOKEN, proxy="socks5://u:pw-secret-1@h:1080")
    assert "SOCKS is not supported" in str(info.value)
    _hidden(info.value, "pw-secret-1")


@needs_openssl
def test_from_env_trusts_the_ca_file_named_by_green_api_ca_cert(
    sandbox: gs.Sandbox, certs: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tls_front(certs / "leaf.pem", certs / "leaf.key", _addr(sandbox)) as url:
        monkeypatch.setenv("GREEN_API_URL", url)
        monkeypatch.setenv("GREEN_API_ID_INSTANCE", str(ID))
        monkeypatch.setenv("GREEN_API_TOKEN", TOKEN)
        monkeypatch.setenv("GREEN_API_CA_CERT", str(certs / "ca.pem"))
        assert gs.Client.from_env(min_interval=0).get_settings().incoming_webhook is False
