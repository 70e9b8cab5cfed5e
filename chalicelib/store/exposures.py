"""The exposures table: flights and trains that carried cases (`pk` = the voyage: normalised number and date,
`sk = <mode>#<exposure id>`)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib.domain.exposures import CaseType, Exposure, voyage
from chalicelib.domain.transport import Mode
from chalicelib.store import dynamo

KIND = "exposures"


def _exposure(item: dict[str, Any]) -> Exposure:
    rows = item.get("rows")
    return Exposure(exposure_id=item["exposure_id"], mode=Mode(item["mode"]), number=item["number"],
                    day=dt.date.fromisoformat(item["date"]), case_type=CaseType(item["case_type"]),
                    inbound=bool(item.get("inbound")), published_at=int(item["published_at"]),
                    carriages=tuple(int(c) for c in item.get("carriages") or ()),
                    rows=(int(rows["from"]), int(rows["to"])) if rows else None, province=item.get("province"))


def publish(exposure: Exposure, note: str | None, published_by: str, expires_at: int,
            event_op: dict[str, Any]) -> None:
    """The exposure and its event, in one transaction."""
    item = {"pk": voyage(exposure.number, exposure.day), "sk": f"{exposure.mode.value}#{exposure.exposure_id}",
            "exposure_id": exposure.exposure_id, "mode": exposure.mode.value, "number": exposure.number,
            "date": exposure.day.isoformat(), "case_type": exposure.case_type.value, "inbound": exposure.inbound,
            "carriages": list(exposure.carriages),
            "rows": {"from": exposure.rows[0], "to": exposure.rows[1]} if exposure.rows else None,
            "note": note, "published_by": published_by, "province": exposure.province,
            "published_at": exposure.published_at, "expires_at": expires_at}
    dynamo.transact([dynamo.put_op(KIND, item, condition="attribute_not_exists(pk)"), event_op])


def on(voyage_key: str) -> list[Exposure]:
    """The exposures published for a voyage (services and the rules join trips to them by it)."""
    return [_exposure(i) for i in dynamo.query_all(KIND, "pk = :v", {":v": voyage_key})]
