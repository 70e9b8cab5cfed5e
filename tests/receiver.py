"""A province's webhook receiver on loopback, verifying every delivery with the `standardwebhooks`
library as a province would, with faults we can script."""
from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# plan(message_id, attempt_number) -> ("ok" | "500" | "slow" | "429" | "drop" | "410", extra)
Plan = Callable[[str, int], str]
# what a verified delivery is answered, by plan action: (status, headers); any other action answers 500
ANSWERS: dict[str, tuple[int, dict[str, str] | None]] = {"ok": (200, None), "slow": (200, None),
                                                         "429": (429, {"Retry-After": "120"}), "410": (410, None)}


class Receiver:
    def __init__(self, secret: str | None = None, plan: Plan | None = None, slow_seconds: float = 1.0,
                 keep_alive: bool = False, idle_seconds: float | None = None, tls: Any = None):
        """keep_alive: answer HTTP/1.1 and keep connections open (closing idle ones after idle_seconds),
        as most web servers do; without it, HTTP/1.0 and one connection per request."""
        self.keep_alive, self.idle_seconds, self.tls = keep_alive, idle_seconds, tls  # tls: a server SSLContext
        self.connections = 0                          # TCP connections accepted
        self.open: list[Any] = []                     # their sockets, for close_idle()
        self.secrets: list[str] = [secret] if secret else []
        self.plan: Plan = plan or (lambda message_id, attempt: "ok")
        self.slow_seconds = slow_seconds
        self.attempts: dict[str, int] = defaultdict(int)
        self.accepted: list[dict[str, Any]] = []     # verified bodies we answered 2xx to
        self.rejected_signatures = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/hooks/healthcode"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if receiver.keep_alive else "HTTP/1.0"
            timeout = receiver.idle_seconds  # an idle kept-alive connection is closed after this

            def setup(self) -> None:
                if receiver.tls:
                    self.request.settimeout(5)
                    self.request.do_handshake()
                super().setup()
                with receiver.lock:
                    receiver.connections += 1
                    receiver.open.append(self.connection)

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items()}
                message_id = self.headers.get("webhook-id", "")
                with receiver.lock:
                    receiver.attempts[message_id] += 1
                    attempt = receiver.attempts[message_id]
                action = receiver.plan(message_id, attempt)
                if action == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if action == "slow":
                    time.sleep(receiver.slow_seconds)
                verified = receiver.verified(body, headers)
                if verified is None:
                    self._answer(401)
                    return
                if action in ("ok", "slow"):
                    with receiver.lock:
                        receiver.accepted.append({"id": message_id, "body": verified, "attempt": attempt,
                                                  "signatures": self.headers.get("webhook-signature", "")})
                self._answer(*ANSWERS.get(action, (500, None)))

            def _answer(self, code: int, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        if self.tls:  # each connection shakes hands in its own thread (Handler.setup), not in accept()
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True,
                                                      do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def verified(self, body: bytes, headers: dict[str, str]) -> Any:
        """The body, if one of our secrets signed it (counted as a rejected signature if none did)."""
        for secret in self.secrets:
            try:
                return Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
        with self.lock:
            self.rejected_signatures += 1
        return None

    def close_idle(self) -> None:
        """Close every kept-alive connection now, as a server whose idle timeout passed would (without waiting
        for one: a test that slept past it depended on how busy the machine was)."""
        import socket

        with self.lock:
            sockets, self.open = self.open, []
        for sock in sockets:
            with contextlib.suppress(OSError):  # closed already
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def unique(self) -> dict[str, dict[str, Any]]:
        """What the province keeps after de-duplicating on webhook-id."""
        kept: dict[str, dict[str, Any]] = {}
        for delivery in self.accepted:
            kept.setdefault(delivery["id"], delivery)
        return kept

    @staticmethod
    def body_text(delivery: dict[str, Any]) -> str:
        return json.dumps(delivery["body"], ensure_ascii=False)
