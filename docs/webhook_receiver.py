"""A webhook receiver for local development: verifies each delivery as a province would, prints it.

    WEBHOOK_SECRET=whsec_... .venv/bin/python docs/webhook_receiver.py 9000

Listens on http://127.0.0.1:<port>/ (any path). Each POST is verified with the `standardwebhooks`
library (in .venv from requirements-dev.txt) against every secret in WEBHOOK_SECRET (space-separated,
for a rotation), answered 204 if it verifies and 401 if not (so the platform retries it), and
printed. Duplicates (the same webhook-id again) are answered 204 and marked, not processed twice.
Only for a laptop: a real receiver sits behind https and persists the ids it has seen.
"""
from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRETS = os.environ.get("WEBHOOK_SECRET", "").split()
seen: set[str] = set()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        message_id = headers.get("webhook-id", "?")
        payload = None
        for secret in SECRETS:
            try:
                payload = Webhook(secret).verify(body, headers)  # signature and timestamp (±5 min)
                break
            except WebhookVerificationError:
                continue
        if payload is None:
            print(f"REJECTED {message_id}: signature does not verify with WEBHOOK_SECRET", flush=True)
            self._answer(401)
            return
        duplicate = message_id in seen
        seen.add(message_id)
        print(f"{'DUPLICATE ' if duplicate else ''}{message_id} {payload['type']} "
              f"{json.dumps(payload['data'], ensure_ascii=False)}", flush=True)
        self._answer(204)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


if __name__ == "__main__":
    if not SECRETS:
        sys.exit("set WEBHOOK_SECRET to the whsec_... secret POST /v1/webhooks returned")
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    print(f"receiving on http://127.0.0.1:{port}/", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
