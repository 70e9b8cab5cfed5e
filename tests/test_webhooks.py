"""Sync webhooks: provinces receive every change, signed, retried, and never lost."""
from __future__ import annotations

import email.utils
import socket
import ssl
import time
from dataclasses import replace

import pytest

from chalicelib import clock, settings
from chalicelib.domain import retries
from chalicelib.events import delivery, handlers
from chalicelib.security import urls
from chalicelib.security.access import Role
from chalicelib.store import deliveries as delivery_store, dynamo
from tests import people
from tests.conftest import auth, client_token, dump
from tests.receiver import Receiver

HOUR = 3600


@pytest.fixture
def province(client):
    return lambda code: auth(client_token(client, Role.PROVINCE, province=code))


@pytest.fixture
def fast_timeouts():
    settings.override(webhook_timeout=0.5)


def subscribe(client, headers, url, event_types):
    response = client.post("/v1/webhooks", headers=headers,
                           body=dump({"url": url, "event_types": event_types, "description": "test receiver"}))
    assert response.status_code == 201, response.json_body
    return response.json_body


def run_retries_until_quiet(webhook_id: str, max_rounds: int = 12) -> None:
    """Move the clock past each step of the schedule and run the sweeper, as the scheduled Lambda would."""
    for _ in range(max_rounds):
        items, _ = delivery_store.page(webhook_id, 1000, None, "pending")
        if not items:
            return
        clock.shift(max(i.next_attempt_at or 0 for i in items) - clock.now() + 1)
        handlers.retry_deliveries()


def test_every_event_arrives_once_despite_faults(client, health_authority, province, pump, fast_timeouts):
    faults = ["ok", "500", "slow", "429", "drop"]
    receiver = Receiver(plan=lambda mid, attempt: faults[hash(mid) % len(faults)] if attempt == 1 else "ok").start()
    hubei = province("42")
    hook = subscribe(client, hubei, receiver.url, ["area.level_changed"])
    receiver.secrets.append(hook["secret"])
    authority = health_authority("42")
    counties = [c for c in people.divisions.all_counties() if c.startswith("42")][:25]

    def change_levels(rounds: range) -> None:
        for i in rounds:
            area = counties[i % len(counties)]
            level = ["medium", "high", "low", "medium"][i // len(counties)]
            assert client.put(f"/v1/areas/{area}", headers=authority,
                              body=dump({"level": level})).status_code == 200

    change_levels(range(0, 75))
    pump.drain()
    # the receiver goes down for the last 25 events: every first attempt is refused
    receiver.stop()
    change_levels(range(75, 100))
    pump.drain()
    receiver.start()  # back up on the same port

    page, _ = delivery_store.page(hook["id"], 1000, None)
    assert len(page) == 100
    slowed = [d for d in page if d.status == "pending" and d.attempt_log[0].status_code == 429]
    assert slowed and all(d.next_attempt_at - d.attempt_log[0].at >= 120 for d in slowed)

    run_retries_until_quiet(hook["id"])
    unique = receiver.unique()
    assert len(unique) == 100 and receiver.rejected_signatures == 0
    assert {d["body"]["type"] for d in unique.values()} == {"area.level_changed"}
    assert all(d["body"]["data"]["area"].startswith("42") for d in unique.values())
    hubei = province("42")  # the clock moved on past the retries: log in again
    listed = client.get(f"/v1/webhooks/{hook['id']}/deliveries?limit=100", headers=hubei).json_body
    assert len(listed["deliveries"]) == 100 and {d["status"] for d in listed["deliveries"]} == {"delivered"}
    retried = [d for d in listed["deliveries"] if len(d["attempts"]) > 1]
    assert retried and all(a["status_code"] != 200 for d in retried for a in d["attempts"][:-1])
    receiver.stop()


def test_a_crash_between_fan_out_and_send_loses_nothing(client, health_authority, province, pump, monkeypatch):
    receiver = Receiver().start()
    hook = subscribe(client, province("43"), receiver.url, ["area.level_changed"])
    receiver.secrets.append(hook["secret"])
    calls = {"n": 0}
    real = delivery.attempt_many

    def crash_once(keys, now, **options):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the handler died after fanning out")
        return real(keys, now, **options)

    monkeypatch.setattr(delivery, "attempt_many", crash_once)
    client.put("/v1/areas/430102", headers=health_authority("43"), body=dump({"level": "high"}))
    pump.drain()
    assert pump.failures >= 1 and receiver.unique() == {}
    handlers.retry_deliveries()
    assert [d["body"]["data"]["area"] for d in receiver.unique().values()] == ["430102"]
    receiver.stop()


def test_a_dead_delivery_can_be_replayed_and_410_disables(client, health_authority, province, pump, fast_timeouts):
    broken = Receiver(plan=lambda mid, attempt: "500").start()
    henan = province("41")
    hook = subscribe(client, henan, broken.url, ["area.level_changed"])
    broken.secrets.append(hook["secret"])
    client.put("/v1/areas/410102", headers=health_authority("41"), body=dump({"level": "medium"}))
    pump.drain()
    run_retries_until_quiet(hook["id"], max_rounds=retries.MAX_ATTEMPTS + 2)
    henan = province("41")  # a day and a half has passed: log in again
    listed = client.get(f"/v1/webhooks/{hook['id']}/deliveries?status=dead", headers=henan).json_body
    dead = listed["deliveries"]
    assert len(dead) == 1 and len(dead[0]["attempts"]) == retries.MAX_ATTEMPTS, listed

    broken.plan = lambda mid, attempt: "ok"
    replayed = client.post(f"/v1/webhooks/{hook['id']}/deliveries/{dead[0]['id']}/replay", headers=henan)
    assert replayed.status_code == 200 and replayed.json_body["status"] == "delivered"
    assert list(broken.unique()) == [dead[0]["id"]]  # the same webhook-id as every earlier attempt

    broken.plan = lambda mid, attempt: "410"
    client.put("/v1/areas/410103", headers=health_authority("41"), body=dump({"level": "high"}))
    pump.drain()
    described = client.get(f"/v1/webhooks/{hook['id']}", headers=henan).json_body
    assert described["status"] == "disabled" and "410" in described["disabled_reason"]
    broken.stop()


def test_a_batch_of_deliveries_reads_its_subscription_once(client, health_authority, province, pump):
    receiver = Receiver(plan=lambda mid, attempt: "ok").start()
    shaanxi = province("61")
    hook = subscribe(client, shaanxi, receiver.url, ["area.level_changed"])
    receiver.secrets.append(hook["secret"])
    authority = health_authority("61")
    areas = ("610102", "610103", "610104", "610111", "610112", "610113")
    for area in areas:
        assert client.put(f"/v1/areas/{area}", headers=authority, body=dump({"level": "medium"})).status_code == 200
    reads: list[str] = []

    def count(params, **_):
        if params.get("TableName", "").endswith("-webhooks") and params["Key"]["pk"]["S"] == hook["id"]:
            reads.append(hook["id"])  # (earlier tests' subscriptions get these public events too)

    events = dynamo.client().meta.events
    events.register("provide-client-params.dynamodb.GetItem", count, unique_id="count-webhook-reads")
    try:
        pump.drain()
    finally:
        events.unregister("provide-client-params.dynamodb.GetItem", unique_id="count-webhook-reads")
    page, _ = delivery_store.page(hook["id"], 1000, None)
    assert len(page) == len(areas) and {d.status for d in page} == {"delivered"}
    assert len(receiver.unique()) == len(areas)
    assert len(reads) == 1, reads  # six deliveries, one read of their subscription
    receiver.stop()


def test_person_changes_go_only_to_provinces_that_know_the_person(client, citizen, province, pump):
    worker = citizen(people.in_province("51"))
    worker.apply()
    pump.drain()  # the code's issue happened before anyone looked the worker up
    looker, stranger = Receiver().start(), Receiver().start()
    guangdong, beijing = province("44"), province("11")
    for headers, receiver in ((guangdong, looker), (beijing, stranger)):
        receiver.secrets.append(subscribe(client, headers, receiver.url, ["person.color_changed"])["secret"])
    found = client.post("/v1/sync/lookups", headers=guangdong,
                        body=dump({"id_numbers": [worker.id_number], "purpose": "返岗核验"})).json_body
    subject = found["results"][0]["subject_id"]

    worker.apply(temperature=38.4)
    pump.drain()
    bodies = [d["body"] for d in looker.unique().values()]
    assert [(b["type"], b["data"]["subject_id"], b["data"]["color"], b["data"]["previous_color"])
            for b in bodies] == [("person.color_changed", subject, "yellow", "green")]
    text = Receiver.body_text(looker.accepted[0])
    assert worker.id_number not in text and worker.name not in text and '"code_id"' not in text
    assert stranger.unique() == {}
    looker.stop(), stranger.stop()


def test_rotated_secrets_both_sign_during_the_grace_period(client, health_authority, province, pump):
    receiver = Receiver().start()
    jilin = province("22")
    hook = subscribe(client, jilin, receiver.url, ["area.level_changed"])
    rotated = client.post(f"/v1/webhooks/{hook['id']}/rotate-secret", headers=jilin).json_body
    assert rotated["secret"] != hook["secret"] and len(rotated["secrets"]) == 2
    for secret in (hook["secret"], rotated["secret"]):
        receiver.secrets = [secret]
        pinged = client.post(f"/v1/webhooks/{hook['id']}/ping", headers=jilin).json_body
        assert pinged["status"] == "delivered", pinged
    assert all(len(d["signatures"].split(" ")) == 2 for d in receiver.accepted)
    clock.shift(25 * HOUR)  # past the grace period: only the new secret signs
    receiver.secrets = [hook["secret"]]
    jilin = province("22")
    assert client.post(f"/v1/webhooks/{hook['id']}/ping", headers=jilin).json_body["status"] == "pending"
    assert receiver.rejected_signatures == 1
    receiver.stop()


def test_subscriptions_belong_to_their_province(client, province):
    receiver_url = "http://127.0.0.1:9/hook"
    own = subscribe(client, province("33"), receiver_url, ["exposure.published"])
    other = province("34")
    assert client.get(f"/v1/webhooks/{own['id']}", headers=other).status_code == 404
    assert client.delete(f"/v1/webhooks/{own['id']}", headers=other).status_code == 404
    assert own["id"] not in [w["id"] for w in client.get("/v1/webhooks", headers=other).json_body["webhooks"]]
    listed = client.get("/v1/webhooks", headers=province("33")).json_body["webhooks"]
    assert "whsec_" not in dump(listed) and all("secret" not in w for w in listed)
    bad_type = client.post("/v1/webhooks", headers=other,
                           body=dump({"url": receiver_url, "event_types": ["everything"]}))
    assert bad_type.status_code == 422


@pytest.mark.parametrize("url, reason", [
    ("http://healthcode.example.org/hook", "https"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://10.0.0.5/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "metadata"),
    ("https://100.100.100.200/latest/meta-data", "metadata"),
    ("https://100.64.1.1/hook", "non-public"),
    ("https://intranet.example.org/hook", "private"),
])
def test_prod_refuses_urls_into_our_own_network(url, reason, monkeypatch):
    real = socket.getaddrinfo

    def fake_dns(host, *args, **kwargs):  # a name that resolves into a private network
        if host in ("intranet.example.org", "healthcode.example.org"):
            address = "10.20.30.40" if host.startswith("intranet") else "203.0.113.7"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    with pytest.raises(urls.UnsafeUrl, match=reason):
        urls.check(url, allow_loopback=False)


def test_the_prod_stage_refuses_a_loopback_webhook(client, province):
    settings.override(stage="prod")
    refused = client.post("/v1/webhooks", headers=province("35"),
                          body=dump({"url": "http://127.0.0.1:8080/hook", "event_types": ["area.level_changed"]}))
    assert refused.status_code == 422 and refused.json_body["error"]["details"][0]["field"] == "url"


def test_retry_after_in_seconds_or_as_an_http_date():
    now = 1_800_000_000.0
    assert delivery.retry_after_seconds("120", now) == 120
    date = email.utils.formatdate(now + 300, usegmt=True)
    assert delivery.retry_after_seconds(date, now) == 300
    assert delivery.retry_after_seconds("soon", now) is None


@pytest.mark.parametrize("scheme, areas", [("http", ("630102", "630103", "630104", "630105")),
                                           ("https", ("630202", "630203", "630222", "630223"))])
def test_deliveries_to_one_endpoint_reuse_a_kept_alive_connection(client, health_authority, province, pump,
                                                                  tmp_path, monkeypatch, scheme, areas):
    # a province and areas no other test uses: its subscriptions get these events, and the levels stay raised
    tls = None
    if scheme == "https":
        from tests.tls import loopback_tls

        ca_file, tls = loopback_tls(tmp_path)
        # the sender trusts the throwaway CA. Not through SSL_CERT_FILE: in the whole suite the process's default
        # verify paths were settled before this test set it, and the handshakes failed with "unknown ca"
        default_context = ssl.create_default_context
        monkeypatch.setattr(delivery.ssl, "create_default_context",
                            lambda *args, **kwargs: default_context(cafile=str(ca_file)))
    receiver = Receiver(keep_alive=True, tls=tls).start()   # keeps connections until told to close them
    assert receiver.url.startswith(f"{scheme}://")
    hook = subscribe(client, province("63"), receiver.url, ["area.level_changed"])
    receiver.secrets.append(hook["secret"])
    for area in areas[:3]:  # one event, so one send, per drain: sent one after another
        client.put(f"/v1/areas/{area}", headers=health_authority("63"), body=dump({"level": "high"}))
        pump.drain()
    assert len(receiver.unique()) == 3 and receiver.connections == 1

    # the receiver closes the idle connection; the next send notices and opens a new one instead of failing
    receiver.close_idle()
    time.sleep(0.2)     # the closing reaches the sender's end of the connection
    client.put(f"/v1/areas/{areas[3]}", headers=health_authority("63"), body=dump({"level": "high"}))
    pump.drain()
    assert len(receiver.unique()) == 4 and receiver.connections == 2
    assert all(d["attempt"] == 1 for d in receiver.accepted)
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=province("63")).status_code == 204
    receiver.stop()


def test_a_receiver_that_closes_each_connection_gets_a_new_one_each_time(client, health_authority, province, pump):
    receiver = Receiver().start()  # HTTP/1.0: the connection ends with each answer
    hook = subscribe(client, province("15"), receiver.url, ["area.level_changed"])
    receiver.secrets.append(hook["secret"])
    for area in ("150102", "150103"):
        client.put(f"/v1/areas/{area}", headers=health_authority("15"), body=dump({"level": "high"}))
        pump.drain()
    assert len(receiver.unique()) == 2 and receiver.connections == 2
    assert not any(delivery._idle.get(key) for key in delivery._idle if key[1] == "127.0.0.1"
                   and key[3] == receiver.port)
    receiver.stop()


# --- a subscription no request can go to: every attempt recorded, nothing stuck, the sweeper carries on ------------

def stored_with_url(client, headers, url: str) -> str:
    """A subscription whose URL the check would refuse today, as one saved before the check did."""
    from chalicelib.store import webhooks as webhook_store

    hook = subscribe(client, headers, "http://127.0.0.1:9/hooks/healthcode", ["exposure.published"])
    record = webhook_store.get(hook["id"])
    assert record is not None
    webhook_store.save(replace(record, url=url, version=record.version + 1), record.version)
    return hook["id"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/hooks", "http://127.0.0.1:8x/hooks", "http://[::1/hooks",
                                 "http://127.0.0.1/ho oks", "http://127.0.0.1/钩子"])
def test_a_ping_to_a_url_no_request_can_go_to_is_a_failed_attempt(client, province, url):
    xizang = province("54")
    webhook_id = stored_with_url(client, xizang, url)
    pinged = client.post(f"/v1/webhooks/{webhook_id}/ping", headers=xizang)
    assert pinged.status_code == 200, pinged.json_body
    assert pinged.json_body["status"] == "pending" and pinged.json_body["error"], pinged.json_body
    stored = delivery_store.get(webhook_id, pinged.json_body["delivery_id"])
    assert stored.claimed_until == 0 and stored.status == "pending"   # not left claimed
    assert [a.error for a in stored.attempt_log] == [pinged.json_body["error"]]
    listed = client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=xizang).json_body["deliveries"]
    assert listed[0]["attempts"][0]["error"] == pinged.json_body["error"]
    assert client.delete(f"/v1/webhooks/{webhook_id}", headers=xizang).status_code == 204


def test_one_bad_subscription_never_stops_the_sweeper(client, province, monkeypatch):
    ningxia = province("64")
    bad = stored_with_url(client, ningxia, "http://127.0.0.1:99999/hooks")
    receiver = Receiver().start()
    good = subscribe(client, ningxia, receiver.url, ["exposure.published"])
    receiver.secrets.append(good["secret"])
    receiver.stop()  # the first pings fail, so both deliveries wait for the sweeper
    first = {hook: client.post(f"/v1/webhooks/{hook}/ping", headers=ningxia).json_body for hook in (bad, good["id"])}
    assert all(p["status"] == "pending" for p in first.values()), first
    # and one subscription whose read fails outright
    broken = stored_with_url(client, ningxia, "http://127.0.0.1:9/hooks")
    broken_ping = client.post(f"/v1/webhooks/{broken}/ping", headers=ningxia).json_body
    real_get = delivery.webhooks.get

    def failing_get(webhook_id):
        if webhook_id == broken:
            raise RuntimeError("the subscription could not be read")
        return real_get(webhook_id)

    monkeypatch.setattr(delivery.webhooks, "get", failing_get)
    receiver.start()
    clock.shift(max(p["next_attempt_at"] for p in [*first.values(), broken_ping]) - clock.now() + 1)
    handlers.retry_deliveries()   # must not raise

    assert delivery_store.get(good["id"], first[good["id"]]["delivery_id"]).status == "delivered"
    assert [d["body"]["type"] for d in receiver.unique().values()] == ["webhook.ping"]
    for hook, ping in ((bad, first[bad]), (broken, broken_ping)):
        stored = delivery_store.get(hook, ping["delivery_id"])
        assert stored.status == "pending" and stored.claimed_until == 0, stored
        assert len(stored.attempt_log) == 2 and stored.attempt_log[-1].error, stored
    assert "internal" in delivery_store.get(broken, broken_ping["delivery_id"]).attempt_log[-1].error
    monkeypatch.undo()
    ningxia = province("64")
    for hook in (bad, good["id"], broken):
        assert client.delete(f"/v1/webhooks/{hook}", headers=ningxia).status_code == 204
    receiver.stop()


def test_a_delivery_whose_sender_died_mid_attempt_is_retried_once_its_claim_lapses(client, province):
    receiver = Receiver().start()
    gansu = province("62")
    hook = subscribe(client, gansu, receiver.url, ["exposure.published"])
    receiver.secrets.append(hook["secret"])
    receiver.stop()
    pinged = client.post(f"/v1/webhooks/{hook['id']}/ping", headers=gansu).json_body
    clock.shift(pinged["next_attempt_at"] - clock.now())
    # a sender claims the retry and dies before recording it
    hold = int(settings.get_settings().webhook_timeout) + 30
    assert delivery_store.claim(hook["id"], pinged["delivery_id"], clock.now(), hold) is not None
    receiver.start()
    handlers.retry_deliveries()
    assert delivery_store.get(hook["id"], pinged["delivery_id"]).status == "pending"   # still held
    clock.shift(hold + 1)
    handlers.retry_deliveries()
    stored = delivery_store.get(hook["id"], pinged["delivery_id"])
    assert stored.status == "delivered" and stored.claimed_until == 0, stored
    assert list(receiver.unique()) == [pinged["delivery_id"]]
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=province("62")).status_code == 204
    receiver.stop()
