"""What the settings switch on: a local webhook receiver gets the notifications the sandbox
sends, and only those the settings enable. No account, no network: everything is on 127.0.0.1.

Run: python examples/notifications.py
"""

from __future__ import annotations

import http.server
import json
import queue
import threading
from typing import Any

import greenapi_settings as gs
from greenapi_settings.notifications import Notification

received: queue.Queue[tuple[str | None, Notification]] = queue.Queue()


class Receiver(http.server.BaseHTTPRequestHandler):
    """Your webhook server: answers 200 to each notification (or the API sends it again)."""

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        body: Notification = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        received.put((self.headers.get("Authorization"), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def main() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    webhook = f"http://127.0.0.1:{server.server_address[1]}/green-api"

    # The API's 180 s answer timeout and 60 s retry pause, scaled down for a demo.
    with gs.Sandbox(notify_timeout=5.0, notify_retry=0.5) as sandbox:
        client = gs.Client(sandbox.url, sandbox.id_instance, sandbox.api_token)
        client.set_settings(
            webhook_url=webhook, webhook_url_token="my-webhook-secret", state_webhook=True
        )

        # stateWebhook is on: delivered, with the webhook token as a Bearer token.
        print(sandbox.trigger("stateInstanceChanged", stateInstance="authorized")["outcome"])
        authorization, body = received.get(timeout=10)
        assert authorization == "Bearer my-webhook-secret"
        print("received", body["typeWebhook"], "with the Bearer token")

        # incomingCallWebhook is off: nothing is sent, and the sandbox says why.
        answer = sandbox.trigger("incomingCall")
        print(answer["outcome"] + ":", answer["reason"])

    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
