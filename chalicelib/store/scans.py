"""The scans table: every checkpoint scan of a code, kept for the retention period.

A row is `pk = <code id>`, `sk = <scan time, ISO 8601>#<scan id>`: time-ordered, and never overwritten
(an online scan's id is random). The scan itself is also what a verification notes on the code (store/people.py).
A scan the device gave a key (`scan_key`, a UUID it made when it scanned) has an id derived from the checkpoint
client and that key (keyed_id): the offline upload (POST /v1/verifications/batch) always, an online verification
when the device sent one. Its row is written with a marker, `pk = key#<scan id>`, `sk = key`, in one
transaction, each put only if absent: the same scan verified online and then uploaded from the device's offline
queue (the online answer came too late, so the device verified it offline too), or uploaded twice, is one row
whatever the two paths' times say. The marker holds nothing but its key and the row's expiry.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import days
from chalicelib.store import dynamo
from chalicelib.store.held import Held, held
from chalicelib.store.pages import Key, KeyShape

KIND = "scans"


@dataclass(frozen=True, slots=True)
class Scan:
    """One checkpoint's scan of a code."""
    scan_id: str
    at: int
    checkpoint_id: str
    client_id: str                # the checkpoint client
    area: str | None              # the checkpoint's GB/T 2260 area
    temperature: float | None     # measured at the gate, if it was
    fever: bool
    issuer: str                   # national, or province:<code> for a province's own token
    offline: bool = False         # verified on the checkpoint's device, without the API, and uploaded later
    keyed: bool = False           # the id is keyed_id(client, the device's scan key): one row per key, whatever path


@dataclass(frozen=True, slots=True)
class Offline:
    """What an uploaded offline scan adds to its row."""
    uploaded_at: int
    shown_color: str | None       # the color the device showed (the token's signed color), if it says


@dataclass(frozen=True, slots=True)
class Row:
    """A scan as the scans table keeps it: with the code it was of and the color it was read as."""
    code_id: str
    scan: Scan
    color: str
    expires_at: int
    offline: Offline | None = None


def scan_map(scan: Scan) -> dict[str, Any]:
    """The scan as an attribute value (a map), as the people table notes it on the code."""
    value = {"scan_id": scan.scan_id, "at": scan.at, "checkpoint_id": scan.checkpoint_id, "client_id": scan.client_id,
             "area": scan.area, "temperature": scan.temperature, "fever": scan.fever, "issuer": scan.issuer}
    if scan.offline:
        value["offline"] = True
    if scan.keyed:
        value["keyed"] = True
    return value


def scan_of(value: dict[str, Any]) -> Scan:
    temperature = value.get("temperature")
    return Scan(value["scan_id"], int(value["at"]), value["checkpoint_id"], value.get("client_id", ""),
                value.get("area"), None if temperature is None else float(temperature), bool(value.get("fever")),
                value.get("issuer", "national"), bool(value.get("offline")), bool(value.get("keyed")))


def _offline_of(item: dict[str, Any]) -> Offline | None:
    if not item.get("offline"):
        return None
    return Offline(int(item.get("uploaded_at", 0)), item.get("shown_color"))


def keyed_id(client_id: str, scan_key: str) -> str:
    """The id of the scan a checkpoint client's device keyed: the same however often and by whichever path it
    comes (`o`: the prefix offline uploads have always had)."""
    digest = hashlib.sha256(f"offline\n{client_id}\n{scan_key}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")


def record(row: Row) -> None:
    """ConditionFailed if the row is there already (a redelivered stream record), or for a keyed scan, if a row of
    its key is (the other path's)."""
    scan = row.scan
    item = {"pk": row.code_id, "sk": f"{days.iso(scan.at)}#{scan.scan_id}", **scan_map(scan),
            "scanned_at": scan.at, "color": row.color, "expires_at": row.expires_at}
    if row.offline is not None:
        item.update({"uploaded_at": row.offline.uploaded_at, "shown_color": row.offline.shown_color})
    if not scan.keyed:
        dynamo.put(KIND, item, condition="attribute_not_exists(pk)")
        return
    marker = {"pk": f"key#{scan.scan_id}", "sk": "key", "expires_at": row.expires_at}
    dynamo.transact([dynamo.put_op(KIND, marker, condition="attribute_not_exists(pk)"),
                     dynamo.put_op(KIND, item, condition="attribute_not_exists(pk)")])


def since(code_id: str, since: int, now: int, limit: int = 200) -> list[Row]:
    """Scans of one code from the moment `since` on, newest first; rows past their TTL are dropped here."""
    items, _ = dynamo.query(KIND, "pk = :pk AND sk >= :since", {":pk": code_id, ":since": days.iso(since)},
                            forward=False, limit=limit)
    return [_row(i) for i in items if i.get("expires_at", now + 1) > now]


def _row(item: dict[str, Any]) -> Row:
    return Row(item["pk"], scan_of(item), item["color"], int(item["expires_at"]), _offline_of(item))


# a row's sort key: `<scan time, ISO 8601>#<scan id>` (a scan id: token_urlsafe, or another issuer's id)
SORT_KEY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z#[A-Za-z0-9_\-]{1,64}")


def pages(code_id: str) -> KeyShape:
    """The start keys the list of a code's scans gives out."""
    return KeyShape("pk", code_id, {"sk": SORT_KEY})


def page(code_id: str, now: int, limit: int, start: Key | None) -> tuple[list[Row], Key | None]:
    """One page of a code's scans, newest first; rows past their TTL are dropped here."""
    items, last = dynamo.query(KIND, "pk = :pk", {":pk": code_id}, forward=False, limit=limit, start=start)
    return [_row(i) for i in items if i.get("expires_at", now + 1) > now], last


def held_of(code_id: str) -> list[Held]:
    return [held("scans", i, "scanned_at") for i in dynamo.query_all(KIND, "pk = :pk", {":pk": code_id})]


def erase_ops(code_id: str) -> list[dict[str, Any]]:
    """The Deletes of every scan row of a code (an erasure)."""
    return [dynamo.delete_op(KIND, {"pk": i["pk"], "sk": i["sk"]})
            for i in dynamo.query_all(KIND, "pk = :pk", {":pk": code_id})]
