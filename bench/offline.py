"""Offline checkpoints (issue 17): `python -m bench.offline [--tokens N] [--scans N]`.

- the QR token with its color claim: length and QR version, beside the same token without `c` and `iat`;
- offline verification in the page: chalicelib/web/offline.js in headless Chromium (Debian's, through
  Selenium, as tests/web), `execute_async_script` looping the verifier over N distinct tokens; median per
  token, beside the floor: WebCrypto's ECDSA verify alone on the same tokens, key imported once;
- the upload of queued scans: POST /v1/verifications/batch (200 scans an upload) on DynamoDB Local, scans/s
  and DynamoDB calls per scan, beside the floor of one conditional PutItem per scan sent one after another.

The machine is shared: medians and ratios measured in the same run, and the interference printed.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench import machine, stack

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "chalicelib" / "web"

LOOP = r"""
const [tokens, jwks, now, done] = [arguments[0], arguments[1], arguments[2], arguments[arguments.length - 1]];
(async () => {
  const verifier = [], floor = [];
  const key = await crypto.subtle.importKey("jwk", {kty: "EC", crv: "P-256", x: jwks.keys[0].x, y: jwks.keys[0].y},
                                            {name: "ECDSA", namedCurve: "P-256"}, false, ["verify"]);
  const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)),
                                     (c) => c.charCodeAt(0));
  for (const warm of tokens.slice(0, 50)) await HCOffline.verify(warm, {jwks}, now);
  let valid = 0;
  const v0 = performance.now();
  for (const token of tokens) {
    const t0 = performance.now();
    const r = await HCOffline.verify(token, {jwks}, now);
    verifier.push(performance.now() - t0);
    if (r.valid && r.color) valid++;
  }
  const verifierTotal = performance.now() - v0;
  const inputs = tokens.map((token) => {
    const [h, p, s] = token.split(".");
    return [new TextEncoder().encode(h + "." + p), dec(s)];
  });
  const f0 = performance.now();
  for (const [data, sig] of inputs) {
    const t0 = performance.now();
    await crypto.subtle.verify({name: "ECDSA", hash: "SHA-256"}, key, sig, data);
    floor.push(performance.now() - t0);
  }
  const floorTotal = performance.now() - f0;
  done({verifier, floor, valid, verifierTotal, floorTotal});
})().catch((e) => done({error: String(e)}));
"""


def qr_size(issued: str) -> dict[str, Any]:
    """A token GET /v1/codes/me/qr issued, and the same code's token without the color claim."""
    import jwt

    from chalicelib import clock
    from chalicelib.security import qr_tokens
    from chalicelib.services import qr_images
    from chalicelib.settings import get_settings

    code_id = jwt.decode(issued, options={"verify_signature": False})["sub"]
    plain, _ = qr_tokens.issue(code_id, clock.now(), get_settings().qr_token_ttl)
    out = {}
    for label, token in (("with c and iat (as issued)", issued), ("without (before issue 17)", plain)):
        symbol = qr_images.symbol(token)
        out[label] = {"chars": len(token), "version": symbol.version, "error": symbol.error,
                      "parts": "+".join(str(len(p)) for p in token.split("."))}
    return out


def browser(n: int) -> dict[str, Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from chalicelib import clock
    from chalicelib.security import qr_tokens
    from chalicelib.settings import get_settings
    from tests.web.conftest import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS

    ttl = get_settings().qr_token_ttl
    now = clock.now()
    tokens = [qr_tokens.issue(f"code{i:011d}", now, ttl, color=("green", "yellow", "red")[i % 3])[0]
              for i in range(n)]
    jwks = qr_tokens.jwks(ttl)
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(WEB))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.set_script_timeout(300)
        # the folder's listing: a page on loopback (a secure context, so WebCrypto), to load offline.js into
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
        driver.execute_script("const s = document.createElement('script'); s.src = '/offline.js';"
                              "document.head.appendChild(s);")
        deadline = time.monotonic() + 10
        while not driver.execute_script("return typeof HCOffline !== 'undefined'"):
            assert time.monotonic() < deadline, "offline.js did not load"
            time.sleep(0.05)
        result = driver.execute_async_script(LOOP, tokens, jwks, now)
    finally:
        driver.quit()
        server.shutdown()
    if "error" in result:
        raise RuntimeError(result["error"])
    return {"n": n, "valid": result["valid"], "verifier_ms": statistics.median(result["verifier"]),
            "verifier_p95_ms": sorted(result["verifier"])[int(0.95 * n)],
            "floor_ms": statistics.median(result["floor"]),
            "verifier_mean_ms": result["verifierTotal"] / n, "floor_mean_ms": result["floorTotal"] / n}


def upload(scans: int) -> dict[str, Any]:
    from bench import dynamo_calls
    from chalicelib import clock
    from chalicelib.services import offline_scans
    from chalicelib.store import scans as scan_rows

    if True:
        http = stack.http_client()
        checkpoint = stack.checkpoint_headers(http)
        pool = stack.Pool.create(http, 50)
        now = clock.now()
        batches = []
        for start in range(0, scans, offline_scans.MAX_SCANS):
            batches.append([{"scan_key": str(uuid.uuid4()), "token": pool.tokens[i % len(pool.tokens)],
                             "checkpoint_id": "bench-gate", "temperature": 36.5, "scanned_at": now - 60,
                             "offline_color": "green"}
                            for i in range(start, min(scans, start + offline_scans.MAX_SCANS))])
        # warm up: one upload of other scans, by another checkpoint (each counts against its own limit: 3,000 a
        # minute, which the timed uploads and their resend stay under)
        warm = [{**s, "scan_key": str(uuid.uuid4())} for s in batches[0]]
        assert http.post("/v1/verifications/batch", headers=stack.checkpoint_headers(http),
                         body=stack.dump({"scans": warm})).status_code == 200
        with dynamo_calls.recording() as calls:
            t0 = time.perf_counter()
            recorded = 0
            for batch in batches:
                answer = http.post("/v1/verifications/batch", headers=checkpoint, body=stack.dump({"scans": batch}))
                assert answer.status_code == 200, answer.json_body
                recorded += answer.json_body["recorded"]
            elapsed = time.perf_counter() - t0
        t1 = time.perf_counter()
        for batch in batches:
            assert http.post("/v1/verifications/batch", headers=checkpoint,
                             body=stack.dump({"scans": batch})).json_body["duplicate"] == len(batch)
        again = time.perf_counter() - t1
        # the floor: one conditional PutItem per scan, one after another, nothing else
        from chalicelib.store.scans import Row, Scan
        rows = [Row(f"floor{i % 50}", Scan(f"f{uuid.uuid4().hex[:10]}", now - 60, "bench-gate", "c", None, 36.5,
                                           False, "national", True), "green", now + 86400) for i in range(scans)]
        t2 = time.perf_counter()
        for row in rows:
            scan_rows.record(row)
        floor = time.perf_counter() - t2
        kinds: dict[str, int] = {}
        for call in calls:
            name = " ".join(call.split()[:2])
            kinds[name] = kinds.get(name, 0) + 1
    return {"token": pool.tokens[0], "scans": scans, "recorded": recorded, "scans_per_s": scans / elapsed,
            "duplicates_per_s": scans / again, "floor_per_s": scans / floor,
            "calls": len(calls), "calls_per_scan": len(calls) / scans, "kinds": kinds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.offline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--scans", type=int, default=1400, help="at most 1,500: sent twice within the checkpoint's "
                                                                   "limit of 3,000 a minute")
    options = parser.parse_args(argv)
    interference = machine.Interference()
    print(f"load average at start: {machine.load()}", flush=True)
    with stack.local_stack():
        return _run(options, interference)


def _run(options: Any, interference: Any) -> int:
    up = upload(options.scans)
    print("== Upload of queued scans: POST /v1/verifications/batch, 200 scans an upload, DynamoDB Local")
    print(f"  {up['recorded']}/{up['scans']} recorded at {up['scans_per_s']:.0f} scans/s; sent again, all duplicates, "
          f"at {up['duplicates_per_s']:.0f} scans/s")
    print(f"  floor: one conditional PutItem per scan, sequential: {up['floor_per_s']:.0f} scans/s; "
          f"upload / floor: {up['scans_per_s'] / up['floor_per_s']:.2f}x")
    print(f"  DynamoDB calls: {up['calls']} for {up['scans']} scans = {up['calls_per_scan']:.3f} per scan "
          f"({', '.join(f'{k} {v}' for k, v in sorted(up['kinds'].items()))})")
    sizes = qr_size(up["token"])
    print("== QR token")
    for label, facts in sizes.items():
        print(f"  {label:28} {facts['chars']} characters ({facts['parts']}), QR version "
              f"{facts['version']}-{facts['error']}")
    web = browser(options.tokens)
    print(f"== Offline verification in headless Chromium, {web['n']} distinct tokens "
          f"({web['valid']} valid with a color)")
    print(f"  HCOffline.verify median {web['verifier_ms'] * 1000:.0f} µs (p95 {web['verifier_p95_ms'] * 1000:.0f} µs); "
          f"floor (WebCrypto ECDSA verify alone) median {web['floor_ms'] * 1000:.0f} µs; "
          f"ratio {web['verifier_ms'] / web['floor_ms']:.2f}x")
    print(f"  mean (loop time / tokens, finer than the browser's 0.1 ms timer): verifier "
          f"{web['verifier_mean_ms'] * 1000:.0f} µs, "
          f"floor {web['floor_mean_ms'] * 1000:.0f} µs; ratio {web['verifier_mean_ms'] / web['floor_mean_ms']:.2f}x")
    other, available, percent = interference.report()
    print(f"== Interference: other processes used {other:.1f} of {available:.0f} CPU-seconds ({percent:.0f} %); "
          f"load average at end {machine.load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
