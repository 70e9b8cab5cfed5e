"""The clients table: checkpoints, provinces, health authorities, labs and ops, with hashed secrets
(`pk = <client id>`); a checkpoint's item carries its entry rule.

One more item, `pk = #entry-rules`, is the published rule set: every entry rule ever set on a checkpoint, by its
id, and the set's version (docs/tests-and-vaccinations.md).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.lab_results import EntryRule
from chalicelib.store import dynamo

KIND = "clients"
ACTIVE = "active"
RULE_SET = "#entry-rules"


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    role: str
    name: str
    province: str | None         # province and health-authority clients' two-digit scope
    area: str | None             # a checkpoint's GB/T 2260 area
    secret_hash: str             # only the hash of the secret is ever stored
    status: str                  # active | revoked
    created_at: int
    entry_rule: EntryRule | None = None     # a checkpoint's
    rule_updated_at: int | None = None


@dataclass(frozen=True, slots=True)
class RuleVersion:
    """One rule of the published set: its content, and when it was first set on a checkpoint."""
    rule_id: str
    rule: EntryRule
    since: int


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: int                 # 0: no rule set yet
    rules: tuple[RuleVersion, ...]
    updated_at: int


def _client(item: dict[str, Any]) -> Client:
    rule = item.get("entry_rule")
    return Client(item["pk"], item["role"], item.get("name", ""), item.get("province"), item.get("area"),
                  item["secret_hash"], item["status"], int(item.get("created_at", 0)),
                  EntryRule.from_dict(rule) if rule else None, item.get("rule_updated_at"))


def create(client: Client) -> None:
    """ConditionFailed if the id is taken."""
    dynamo.put(KIND, {"pk": client.client_id, "role": client.role, "name": client.name, "province": client.province,
                      "area": client.area, "secret_hash": client.secret_hash, "status": client.status,
                      "created_at": client.created_at}, condition="attribute_not_exists(pk)")


def get(client_id: str) -> Client | None:
    item = dynamo.get(KIND, {"pk": client_id}, consistent=True)
    return _client(item) if item is not None else None


def set_status(client_id: str, status: str, at: int) -> None:
    """ConditionFailed if there is no such client."""
    dynamo.update(KIND, {"pk": client_id}, "SET #s = :s, updated_at = :t", {":s": status, ":t": at},
                  condition="attribute_exists(pk)", names={"#s": "status"})


def list_all() -> list[Client]:
    return [_client(i) for i in dynamo.scan_all(KIND) if i["pk"] != RULE_SET]


def _rule_version(text: str) -> RuleVersion:
    data = json.loads(text)
    return RuleVersion(data["rule_id"], EntryRule.from_dict(data), int(data["since"]))


def rule_set(consistent: bool = False) -> RuleSet:
    item = dynamo.get(KIND, {"pk": RULE_SET}, consistent=consistent)
    if item is None:
        return RuleSet(0, (), 0)
    return RuleSet(int(item["version"]), tuple(_rule_version(r) for r in item["rules"]), int(item["updated_at"]))


def set_rule(client_id: str, rule: EntryRule | None, known: RuleSet, at: int) -> None:
    """Set (None: clear) a checkpoint's rule and, for a rule the set does not hold yet, add it to the set as a new
    version, all or nothing. ConditionFailed if the client is gone or the set changed since `known` was read."""
    if rule is None:
        dynamo.update(KIND, {"pk": client_id}, "REMOVE entry_rule SET rule_updated_at = :t", {":t": at},
                      condition="attribute_exists(pk)")
        return
    client = dynamo.update_op(KIND, {"pk": client_id}, "SET entry_rule = :r, rule_updated_at = :t",
                              {":r": rule.canonical(), ":t": at}, condition="attribute_exists(pk)")
    if any(r.rule_id == rule.rule_id for r in known.rules):
        dynamo.transact([client])
        return
    text = json.dumps({"rule_id": rule.rule_id, **rule.canonical(), "since": at}, sort_keys=True)
    # one UpdateItem whether or not the set exists yet: the set's version guards it
    added = dynamo.update_op(KIND, {"pk": RULE_SET},
                             "SET #v = :next, #r = list_append(if_not_exists(#r, :none), :r), updated_at = :t",
                             {":next": known.version + 1, ":r": [text], ":none": [], ":t": at, ":v": known.version},
                             condition="attribute_not_exists(pk) OR #v = :v", names={"#v": "version", "#r": "rules"})
    dynamo.transact([client, added])
