"""`python -m bench`: measure and print; ends with a Markdown summary for docs/BENCHMARKS.md.

Options shrink or grow the run (on 2 cores the defaults took about 6 minutes before the city outbreak, which
adds minutes per 10,000 stays; --quick about 2):
  --requests N   timed verify requests, and iterations of each floor (default 2000)
  --citizens N   citizens who applied, whose QR tokens are verified round-robin (default 200)
  --in-memory    run the API sections on DynamoDB Local in memory, as shipped (stream records not
                 indexed; how runs before the third pass of issue 9 measured)
  --warmup N     untimed iterations of each kind before the timed rounds (default 1500: DynamoDB
                 Local's JIT is still compiling its UpdateItem path after a few hundred, and the
                 verify's p50 kept falling by 0.2 ms until about a thousand)
  --city-stays N stays in the prefecture of the city outbreak (default 100,000; minutes per 10,000)
  --only NAME    run only these fan-out sections (sync, lab, webhooks, exposure, city, venues; repeatable), without the
                 API sections: e.g. `--only city --city-stays 3000` to try the city outbreak
  --venue-visits N   visits the venue exposure fans out over (default 10,000)
  --venue-citizens N citizens who scan the venue, each timed visit a request (default 200)
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bench import (
    apply_latency,
    city,
    cold_start,
    dynamo_calls,
    emulator,
    machine,
    qr_size,
    signatures,
    sources,
    stack,
    venues,
    verify_latency,
)

FAN_OUTS = ("sync", "lab", "webhooks", "exposure", "city", "venues")
FLOORS = {"floor_a": "floor (a) token + boto3 GetItem", "floor_b": "floor (b) token + raw HTTP GetItem",
          "floor_c": "floor (c) token + raw HTTP UpdateItem"}


def say(line: str = "") -> None:
    print(line, flush=True)


def section(title: str) -> None:
    say()
    say(f"== {title}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=1500)
    parser.add_argument("--trips", type=int, default=100_000, help="stored trips for the exposure recompute")
    parser.add_argument("--events", type=int, default=1000, help="events for the webhook delivery run")
    parser.add_argument("--in-memory", action="store_true",
                        help="the API sections on DynamoDB Local in memory, as shipped")
    parser.add_argument("--quick", action="store_true",
                        help="skip the fan-outs (sync, lab, webhooks, exposures, city): the API, verify, QR, "
                             "cold-start and emulator sections only")
    parser.add_argument("--city-stays", type=int, default=100_000,
                        help="stays in the prefecture whose level goes up in the city outbreak (one person each)")
    parser.add_argument("--venue-visits", type=int, default=10_000,
                        help="visits of the venue whose exposure is fanned out (issue 18)")
    parser.add_argument("--venue-citizens", type=int, default=200, help="citizens who scan the venue (issue 18)")
    parser.add_argument("--only", action="append", choices=FAN_OUTS, metavar="NAME",
                        help=f"only these fan-out sections ({', '.join(FAN_OUTS)}), without the API sections")
    options = parser.parse_args(argv)
    if options.quick and options.only:
        parser.error("--quick skips the fan-outs that --only asks for")
    began = time.perf_counter()
    interference = machine.Interference()

    section("Machine")
    host = machine.describe()
    for key, value in host.items():
        say(f"  {key:24} {value}")
    load_at_start = machine.load()
    say(f"  {'Load average at start':24} {load_at_start}"
        + ("  (other processes are busy: figures will be noisy)" if machine.busy() else ""))

    api = None if options.only else api_sections(options, host)
    fans = {} if options.quick else fan_outs(options, set(options.only or FAN_OUTS))

    elapsed = time.perf_counter() - began
    host["Load average (start, end)"] = f"{load_at_start}; {machine.load()}"
    other, available, percent = interference.report()
    host["Interference"] = (f"other processes used {other:.1f} of {available:.0f} CPU-seconds during the run "
                            f"({percent:.0f} % of the machine)")
    section("Interference")
    say(f"  {host['Interference']}" + ("; figures are disturbed, run again on a quiet machine" if percent > 5 else ""))
    summary(host, options, api, fans, elapsed)
    return 0


def _qr_sections(pool: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The QR token's size and its signature's cost, ES256 beside EdDSA."""
    section("QR token size")
    qr = qr_size.run(pool.tokens)
    say(f"  token {qr['token_chars']} characters (header.payload.signature = "
        f"{'+'.join(map(str, qr['token_parts']))}; lengths seen {qr['token_lengths']}); header {qr['header']}")
    say(f"  QR {qr['designator']} ({qr['mode']} mode, {qr['modules']}x{qr['modules']} modules); "
        f"version {qr['version']}-M holds {qr['capacity_bytes']} bytes, {qr['spare_bytes']} to spare")
    say("  the same facts (code id, expiry, signing key), signed and verified back, at error correction M:")
    for alt in qr["alternatives"]:
        say(f"    {alt['name']:78} {alt['chars']:4} characters  version {alt['version']:2} "
            f"({alt['modules']}x{alt['modules']}, {alt['mode']})")

    section("QR token signature: ES256 beside EdDSA (Ed25519), PyJWT, keys parsed once")
    import jwt as pyjwt

    algorithms = signatures.run(pyjwt.decode(pool.tokens[0], options={"verify_signature": False}))
    for algorithm, figures in algorithms.items():
        verify_us, sign_us = figures["verify"].p50_ms * 1000, figures["sign"].p50_ms * 1000
        say(f"  {algorithm:6} token {figures['chars']} characters; verify p50 {verify_us:5.0f} µs "
            f"(mean {figures['verify'].mean_ms * 1000:.0f}); sign p50 {sign_us:5.0f} µs")
    return qr, algorithms


def _cold_start_section(checkpoint: dict[str, str], pool: Any) -> dict[str, Any]:
    """Fresh processes: importing the app, their first verification, the bundle's bytecode."""
    section("Cold start (fresh processes)")
    pool.keep_fresh(max_age_s=0)
    cold = cold_start.run(checkpoint, pool.tokens[0])
    fr = cold["first_request"]
    for key, label in (("import_app", "import app (verify function)"),
                       ("import_whole_app", "import app (API handler, every route)"),
                       ("import_app_compiled", "import app (verify), own modules compiled from source"),
                       ("import_boto3", "import boto3")):
        say(f"  {label:56} median {cold[key + '_s'] * 1000:4.0f} ms  "
            f"(runs: {', '.join(f'{s * 1000:.0f}' for s in cold[key + '_all'])})")
    say(f"  verify function: import app + first verification  median {cold['import_and_first_s'] * 1000:.0f} ms "
        f"of {cold['first_request_runs']} processes (import {fr['import_app'] * 1000:.0f} ms, first request "
        f"{fr['first'] * 1000:.0f} ms, second request {fr['second'] * 1000:.1f} ms); all valid: "
        f"{cold['first_request_ok']}; botocore imported: {cold['first_request_botocore']}")
    say(f"  import app / import boto3: {cold['import_app_s'] / cold['import_boto3_s']:.2f}x (verify function), "
        f"{cold['import_whole_app_s'] / cold['import_boto3_s']:.2f}x (API handler); import + first verification "
        f"/ import boto3: {cold['import_and_first_s'] / cold['import_boto3_s']:.2f}x")
    if cold["bundle"]:
        say(f"  the Lambda bundle (out/deployment.zip), unpacked read-only, verify function's import app: "
            f"{cold['bundle']['with'] * 1000:.0f} ms with its bytecode, {cold['bundle']['without'] * 1000:.0f} ms "
            f"without (median of 7)")
    else:
        say("  (no out/deployment.zip: `make package` first to time the Lambda bundle itself)")
    say("  import app (verify), self time by package (python -X importtime): "
        + ", ".join(f"{name} {ms:.0f} ms" for name, ms in cold["profile"]))
    return cold


def api_sections(options: Any, host: dict[str, str]) -> dict[str, Any]:
    """The API, verify, QR, cold-start and emulator sections; what the summary needs of them."""
    with stack.local_stack(in_memory=options.in_memory) as local:
        section("Local stack")
        storage = "in memory, as shipped" if options.in_memory else "scratch database, stream records indexed"
        host["DynamoDB Local"] = f"{host['DynamoDB Local']} ({storage})"
        say(f"  DynamoDB Local ({storage}) on {local.ddb.endpoint}: answered after {local.started_in_s:.1f} s; "
            f"tables bootstrapped with prefix {local.prefix}")
        http = stack.http_client()
        checkpoint = stack.checkpoint_headers(http)
        t0 = time.perf_counter()
        pool = stack.Pool.create(http, options.citizens)
        setup_s = time.perf_counter() - t0
        say(f"  {options.citizens} citizens: session + apply + QR token each, through the API, in {setup_s:.1f} s "
            f"({3 * options.citizens / setup_s:.0f} requests/s)")

        section("DynamoDB calls per API call")
        calls = dynamo_calls.run(http, checkpoint)
        for label, status, ops in calls:
            say(f"  {label:56} {status}  {len(ops)}: {', '.join(ops) or '-'}")

        section("Apply again with 5 ms added to every DynamoDB call (a stand-in for AWS's network)")
        applies = apply_latency.run(http, pool.citizens)
        for kind, lat in applies.items():
            say(f"  sources read {kind:18} {lat.row()}")

        qr, algorithms = _qr_sections(pool)

        section(f"Verify hot path: {options.requests} sequential requests of each kind, "
                f"{options.citizens} citizens' tokens round-robin")
        verify = verify_latency.run(http, pool, local.ddb.endpoint, n=options.requests,
                                    warmup=options.warmup, log=say)
        labels = {"verify": "POST /v1/verifications", "verify_lambda": "the same, as Lambda runs it", **FLOORS,
                  "token_verify": "QR token check alone"}
        for key, label in labels.items():
            say(f"  {label:38} {verify[key].row()}")
        for key, (ok, total) in verify["checks"].items():
            say(f"  {labels[key]:38} {ok}/{total} valid")
        ratios = {f: (verify["verify"].p50_ms / verify[f].p50_ms, verify["verify"].mean_ms / verify[f].mean_ms)
                  for f in FLOORS}
        for f, (p50, mean) in ratios.items():
            say(f"  verify / {f.replace('_', ' ')}: {p50:.2f}x at p50, {mean:.2f}x in mean latency")
        lam = verify["verify_lambda"].p50_ms
        say("  verify as Lambda runs it / " + "; / ".join(f"{f.replace('_', ' ')}: {lam / verify[f].p50_ms:.2f}x"
                                                       for f in FLOORS) + " at p50")

        section("Where a verify request's time goes (separate instrumented pass, mean ms per request)")
        parts = verify_latency.breakdown(http, checkpoint, pool, n=min(500, options.requests))
        for label, ms in parts.items():
            say(f"  {label:84} {ms:7.3f}")

        cold = _cold_start_section(checkpoint, pool)

    other_storage = "scratch database, stream records indexed" if options.in_memory else "in memory, as shipped"
    section(f"Verify hot path again, on a DynamoDB Local {other_storage} (its writes cost differently: the verify and "
            f"floor (c) write)")
    with stack.local_stack(in_memory=not options.in_memory):
        http = stack.http_client()
        again = verify_latency.run(http, stack.Pool.create(http, options.citizens), stack.endpoint(),
                                   n=options.requests, warmup=options.warmup, log=lambda _: None)
    for key in ("verify", "verify_lambda", *FLOORS):
        say(f"  {labels[key]:38} {again[key].row()}")
    for f in ("floor_a", "floor_c"):
        say(f"  verify / {f.replace('_', ' ')}: {again['verify'].p50_ms / again[f].p50_ms:.2f}x at p50; as Lambda "
            f"runs it: {again['verify_lambda'].p50_ms / again[f].p50_ms:.2f}x")
    storages = {"this": storage, "other": other_storage}

    section("DynamoDB Local as shipped, and with its stream records indexed (as every local run starts it): "
            "a third stream table after two took 3,000 puts each, raw HTTP")
    emu = emulator.run()
    for kind, figures in emu.items():
        for operation, lat in figures.items():
            say(f"  {kind:24} {operation:10} {lat.row()}")
    return {"verify": verify, "ratios": ratios, "parts": parts, "cold": cold, "calls": calls, "qr": qr,
            "algorithms": algorithms, "emu": emu, "again": again, "storages": storages, "applies": applies}


def fan_outs(options: Any, which: set[str]) -> dict[str, Any]:
    """The slow event-driven paths, after the verify path so they cannot disturb it, each on a DynamoDB
    Local of its own, so that one section's data cannot slow the next. Returns what the summary shows."""
    found: dict[str, Any] = {}
    if "sync" in which:
        with stack.local_stack():
            section("Province sync (issue 4): 500-record batches of new local codes")
            sync = sources.sync_throughput(stack.http_client(), batches=4)
            say(f"  {sync['written']} records written; {sync['records_per_s']:.0f} records/s; per batch "
                f"{sync['batch_ms']} ms and {sync['calls_per_batch']} DynamoDB calls")
    if "lab" in which:
        with stack.local_stack():
            section("Lab test results (issue 19): 500-record batches of new negative results, beside the "
                    "write floor")
            tests = sources.test_result_throughput(stack.http_client(), batches=4)
            say(f"  {tests['written']} results written; {tests['records_per_s']:.0f} records/s; per batch "
                f"{tests['batch_ms']} ms and {tests['calls_per_batch']} DynamoDB calls")
            say(f"  write floor in the same stack, a floor batch before each (the same 3 items per record as "
                f"conditional puts in TransactWriteItems, one thread): per batch {tests['floor_ms']} ms, "
                f"{tests['floor_records_per_s']:.0f} records/s ({tests['floor_items_per_s']:.0f} items/s); "
                f"ratio {tests['records_per_s'] / tests['floor_records_per_s']:.2f}x of the floor")

    if "webhooks" in which:
        section(f"Webhooks (issue 5): {options.events:,} events x 5 subscriptions, local pump, loopback HTTPS "
                f"receivers")
        for keep_alive, how in ((True, "receivers keep connections alive"),
                                (False, "receivers close each connection")):
            with stack.local_stack():
                hooks = sources.webhook_delivery(options.events, 5, keep_alive=keep_alive, tls=True)
            say(f"  {how}: {hooks['delivered']:,} of {hooks['expected']:,} deliveries received "
                f"({hooks['unique']:,} unique) in {hooks['total_s']:.1f} s: {hooks['deliveries_per_s']:.0f} "
                f"deliveries/s over {hooks['connections']:,} connections; events produced in "
                f"{hooks['produced_s']:.1f} s")
            say(f"    one send (connect if needed, TLS, POST, answer): p50 {hooks['send_p50_ms']:.1f} ms, "
                f"p99 {hooks['send_p99_ms']:.1f} ms; change to receipt: p50 {hooks['delay_p50_ms']:.0f} ms, "
                f"p99 {hooks['delay_p99_ms']:.0f} ms")

    if "exposure" in which:
        with stack.local_stack():
            section(f"Exposure recompute (issue 3): 1,000 passengers among {options.trips:,} stored trips")
            recompute = sources.exposure_recompute(options.trips, 1000)
            say(f"  seeded {recompute['stored']:,} trips and 1,000 codes in {recompute['seeded_s']:.1f} s "
                f"(BatchWriteItem)")
            say(f"  publish, then the pump drained (passengers paged from the trips.by_voyage index, "
                f"{recompute['page']} per unit): {recompute['indexed_s']:.2f} s, "
                f"{recompute['index_calls']:,} DynamoDB calls ({recompute['index_queries']} index queries), "
                f"{recompute['written']} codes written by {recompute['units']} units; handlers that raised: "
                f"{recompute['failures']}")
            say(f"  baseline full scan to find them: {recompute['scan_s']:.2f} s, {recompute['scan_calls']} Scan "
                f"pages, {recompute['scan_found']} found (before any recompute)")

    if "city" in which:
        with stack.local_stack():
            section(f"City outbreak (issue 14): {options.city_stays:,} stays in Guangzhou ({city.PREFECTURE}), its "
                    f"level raised; an exposure and another province's change right behind")
            found["city"] = city.run(options.city_stays, log=say)
            city.report(found["city"], say)

    if "venues" in which:
        section(f"Venue codes (issue 18): {options.venue_citizens} citizens scan a venue; an exposure over "
                f"{options.venue_visits:,} visits")
        with stack.local_stack():
            recorded = venues.visits_recorded(options.venue_citizens, log=say)
        with stack.local_stack():
            fanned = venues.exposure_fan_out(options.venue_visits, log=say)
        found["venues"] = {"visits": recorded, "fan_out": fanned}
        venues.report(found["venues"], say)
    return found


def summary(host: dict[str, str], options: Any, api: dict[str, Any] | None, fans: dict[str, Any],
            elapsed: float) -> None:
    section("Summary (Markdown, paste into docs/BENCHMARKS.md)")
    say()
    say(f"Machine: {host['CPUs (nproc)']} CPUs ({host['CPU model']}), {host['Memory']}, {host['Python']}, "
        f"{host['DynamoDB Local']}, {host['Java']}. Load average (1, 5, 15 min) at start and end: "
        f"{host['Load average (start, end)']}; {host['Interference']}.")
    if api:
        summary_api(options, **api)
    if "city" in fans:
        summary_city(fans["city"])
    if "venues" in fans:
        say()
        venues.summary(fans["venues"], say)
    say()
    say(f"(bench ran in {elapsed:.0f} s)")


def summary_api(options: Any, verify: dict[str, Any], ratios: dict[str, tuple[float, float]],
                parts: dict[str, float], cold: dict[str, Any], calls: list[tuple[str, int, list[str]]],
                qr: dict[str, Any], algorithms: dict[str, dict[str, Any]], emu: dict[str, dict[str, Any]],
                again: dict[str, Any], storages: dict[str, str], applies: dict[str, Any]) -> None:
    say()
    say(f"| Verify hot path, {options.requests} sequential, DynamoDB Local {storages['this']} "
        f"| req/s | p50 ms | p99 ms | mean ms |")
    say("|---|---:|---:|---:|---:|")
    names = {"verify": "POST /v1/verifications (chalice.test.Client)",
             "verify_lambda": "the same request as Lambda runs it (`app.verify_api`, API Gateway event)",
             "floor_a": "floor (a): QR token check + boto3 GetItem",
             "floor_b": "floor (b): QR token check + raw HTTP GetItem",
             "floor_c": "floor (c): QR token check + raw HTTP UpdateItem of the same item (`SET last_scan`, ALL_NEW)",
             "token_verify": "QR token check (ES256) alone"}
    for key, label in names.items():
        lat = verify[key]
        say(f"| {label} | {lat.per_second:,.0f} | {lat.p50_ms:.2f} | {lat.p99_ms:.2f} | {lat.mean_ms:.2f} |")
    say()
    say("; ".join(f"verify / {f.replace('floor_', 'floor (')}): {ratios[f][0]:.2f}x (p50), {ratios[f][1]:.2f}x (mean)"
                  for f in FLOORS)
        + ". As Lambda runs it: " + ", ".join(f"{verify['verify_lambda'].p50_ms / verify[f].p50_ms:.2f}x "
                                              f"{f.replace('floor_', 'floor (')})" for f in FLOORS) + " (p50).")
    say()
    say(f"| The same, DynamoDB Local {storages['other']} | req/s | p50 ms | p99 ms | mean ms |")
    say("|---|---:|---:|---:|---:|")
    for key in ("verify", "verify_lambda", *FLOORS):
        lat = again[key]
        say(f"| {names[key]} | {lat.per_second:,.0f} | {lat.p50_ms:.2f} | {lat.p99_ms:.2f} | {lat.mean_ms:.2f} |")
    say()
    say("; ".join(f"verify / {f.replace('floor_', 'floor (')}) there: {again['verify'].p50_ms / again[f].p50_ms:.2f}x "
                  f"(p50), {again['verify'].mean_ms / again[f].mean_ms:.2f}x (mean), as Lambda runs it "
                  f"{again['verify_lambda'].p50_ms / again[f].p50_ms:.2f}x (p50)" for f in ("floor_a", "floor_c"))
        + ".")
    say()
    say("| Verify request, mean ms per part | ms |")
    say("|---|---:|")
    for label, ms in parts.items():
        cell = f"↳ {label.strip()}" if label.startswith(" ") else label
        say(f"| {cell} | {ms:.2f} |")
    say()
    fr = cold["first_request"]
    say("| Cold start (fresh process, bytecode cached unless said, median) | ms |")
    say("|---|---:|")
    boto3_ms = cold['import_boto3_s'] * 1000
    runs = len(cold["import_boto3_all"])
    say(f"| `import boto3` alone (of {runs}) | {boto3_ms:.0f} |")
    for key, label in (("import_app", f"`import app`, verify function (of {runs})"),
                       ("import_whole_app", f"`import app`, API handler with every route (of {runs})"),
                       ("import_app_compiled", f"`import app`, verify function, own modules compiled from source "
                                               f"(of {runs})"),
                       ("import_and_first", f"verify function: `import app` + first verification "
                                            f"(of {cold['first_request_runs']})")):
        ms = cold[key + "_s"] * 1000
        say(f"| {label} | {ms:.0f} ({ms / boto3_ms:.2f}x boto3) |")
    say(f"| of which the first verification | {fr['first'] * 1000:.0f} |")
    say(f"| the second verification in that process | {fr['second'] * 1000:.1f} |")
    if cold["bundle"]:
        for kind in ("with", "without"):
            say(f"| `import app`, verify function, from the Lambda bundle unpacked read-only, {kind} its bytecode "
                f"(of 7) | {cold['bundle'][kind] * 1000:.0f} |")
    say()
    say("| API call | DynamoDB calls | operations |")
    say("|---|---:|---|")
    for label, _, ops in calls:
        say(f"| {label} | {len(ops)} | {', '.join(ops) or '-'} |")
    say()
    say("| Apply again, 5 ms added to every DynamoDB call | p50 ms | p99 ms | mean ms |")
    say("|---|---:|---:|---:|")
    for kind, lat in applies.items():
        say(f"| sources read {kind} | {lat.p50_ms:.1f} | {lat.p99_ms:.1f} | {lat.mean_ms:.1f} |")
    say()
    say(f"QR token: {qr['token_chars']} characters → QR version {qr['version']} at error correction "
        f"{qr['error']} ({qr['modules']}×{qr['modules']} modules, byte mode; holds {qr['capacity_bytes']} "
        f"bytes, {qr['spare_bytes']} to spare).")
    say()
    say("| QR token signature (PyJWT, keys parsed once) | token characters | verify p50 µs | sign p50 µs |")
    say("|---|---:|---:|---:|")
    for algorithm, figures in algorithms.items():
        say(f"| {algorithm} | {figures['chars']} | {figures['verify'].p50_ms * 1000:.0f} | "
            f"{figures['sign'].p50_ms * 1000:.0f} |")
    say()
    say("| The same facts as a QR, error correction M | characters | QR version | modules |")
    say("|---|---:|---:|---:|")
    for alt in qr["alternatives"]:
        say(f"| {alt['name']} | {alt['chars']} | {alt['version']} ({alt['mode']}) | "
            f"{alt['modules']}×{alt['modules']} |")
    say()
    say("| DynamoDB Local, third stream table after 2 × 3,000 stream records, p50 ms | GetItem | UpdateItem ALL_NEW |")
    say("|---|---:|---:|")
    for kind, figures in emu.items():
        say(f"| {kind} | {figures['GetItem'].p50_ms:.2f} | {figures['UpdateItem'].p50_ms:.2f} |")


def summary_city(found: dict[str, Any]) -> None:
    seconds, crowd, sampled = city.seconds, found["crowd"], found["here"]["sampled"]

    def first_last(reads: dict[str, Any]) -> str:
        return f"{seconds(reads['first'])} / {seconds(reads['last'])}"

    say()
    say(f"| City outbreak: {found['stays']:,} stays in Guangzhou, `PUT /v1/areas/{city.PREFECTURE}` to {city.LEVEL} "
        f"| s after the answer |")
    say("|---|---:|")
    say(f"| a verify reads the new color in the container that made the change: first / last of {sampled} sampled "
        f"codes | {first_last(found['here'])} |")
    say(f"| the same in another container (a verify-function process whose copy of the levels was read "
        f"{found['elsewhere_copy_age_s']:.2f} s before the PUT answered; max age {found['max_age_s']:g} s) "
        f"| {first_last(found['elsewhere'])} |")
    say(f"| an exposure published right after: its passenger reads yellow (after the publication's answer) "
        f"| {seconds(found['passenger_s'])} |")
    say(f"| another province's change right after: its visitors read yellow / their stored codes are written "
        f"(after its answer) | {seconds(found['visitors_read_s'])} / {seconds(found['visitors_stored_s'])} |")
    rate = f"{found['codes_per_s']:,.0f}" if found["codes_per_s"] else "-"
    say(f"| the stored codes (new version, history) of all {found['stays']:,} up to date: {found['written']:,} "
        f"written by {found['units']} units, {rate} codes/s | {seconds(found['stored_s'])} |")
    say(f"| all webhooks of the change delivered ({found['webhooks']} of {found['webhooks_expected']}: one per person "
        f"holding a Guangdong local code, and the area's) | {seconds(found['webhooks_s'])} |")
    say(f"| the fan-out's last DynamoDB call (events and fanout functions: every color change handled) "
        f"| {seconds(found['fan_out_s'])} |")
    say()
    say(f"Seeding: {crowd.items:,} items (codes, stays, {len(crowd.hooked)} local codes with their aliases) built in "
        f"{crowd.built_s:.1f} s and written in {crowd.written_s:.1f} s with BatchWriteItem on 4 threads "
        f"({crowd.items / crowd.written_s:,.0f} items/s). Afterwards {found['stored_area']:,} crowd codes carry an "
        f"area reason and {found['stored_yellow']:,} are yellow; stream handlers that raised: {found['failures']}.")
    say()
    total = sum(found["fan_out_calls"].values())
    say("| DynamoDB calls per level change | calls | operations |")
    say("|---|---:|---|")
    say(f"| `PUT /v1/areas/{city.PREFECTURE}` | {len(found['put_calls'])} | {', '.join(found['put_calls'])} |")
    per_code = f", {total / found['written']:.2f} per code written" if found["written"] else ""
    say(f"| the fan-out: events and fanout functions (with the few of the exposure and the other change) "
        f"| {total:,}{per_code} | "
        + ", ".join(f"{what} × {count:,}" for what, count in found["fan_out_calls"].most_common()) + " |")
    say()
    say("| People item, as DynamoDB counts it | bytes | of which stays | area-days | WCU per verify (UpdateItem) |")
    say("|---|---:|---:|---:|---:|")
    for label, size in found["sizes"].items():
        say(f"| {label} | {size['bytes']:,} | {size['stays_bytes']} | {size['stay_pairs']} | {size['wcu']} |")


if __name__ == "__main__":
    sys.exit(main())
