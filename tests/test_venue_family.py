"""Family members at a venue scan (docs/venues.md#family-members): a guardian scans a poster with two dependants
along; three visits and three stays are recorded, each dependant's access log shows the guardian's act, each card
has its own live color; a dependant without a code is refused on their card; a non-dependant id refuses the scan."""
from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.domain import days, limits, venues as rules
from chalicelib.domain.names import mask_name
from chalicelib.security import pseudonyms
from chalicelib.store import venues as store, visits
from tests.conftest import dump
from tests.dated import _clear_of_midnight, _leave_no_events_behind  # noqa: F401 (autouse fixtures)
from tests.refusals import assert_refused
from tests.test_family import DECLARATION, acting, added, child, elder
from tests.test_risk_scenarios import resident
from tests.test_venues import county_of, register, scan, token_of


def family(client: Any, citizen: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A guardian with a child and a grandmother, each with a code the guardian applied for (`number`: theirs)."""
    guardian = resident(citizen)
    kid_number, kid_born = child()
    elder_number, elder_born = elder()
    kid = {**added(client, guardian, kid_number, kid_born, "child", name="王小宝"), "number": kid_number}
    grandma = {**added(client, guardian, elder_number, elder_born, "grandparent", name="李秀英"),
               "number": elder_number}
    for dependant in (kid, grandma):
        applied = client.post("/v1/codes", headers=acting(guardian, dependant["dependant_id"]),
                              body=dump({**DECLARATION, "current_area": "440106"}))
        assert applied.status_code == 201, applied.json_body
    return guardian, kid, grandma


def visits_in(client: Any, authority: dict[str, str], venue: dict[str, Any], start: int) -> list[dict[str, Any]]:
    found = client.get(f"/v1/venues/{venue['venue_id']}/visits?from={start - 60}&to={start + 3600}",
                       headers=authority)
    assert found.status_code == 200, found.json_body
    return found.json_body["list"]


def test_a_guardian_records_two_family_members_at_one_scan(client, citizen, health_authority):
    authority = health_authority("44")
    county = county_of("44")
    venue = register(client, authority, county)
    guardian, kid, grandma = family(client, citizen)
    clock.shift(rules.bucket(clock.now()) + rules.VISIT_BUCKET_SECONDS + 10 - clock.now())   # early in a bucket
    start = clock.now()

    shown = scan(client, guardian, venue_token=token_of(venue), members=[kid["dependant_id"], grandma["dependant_id"]])
    assert shown.status_code == 201, shown.json_body
    assert shown.json_body["recorded"] is True and shown.json_body["color"] == "green"
    cards = shown.json_body["members"]
    assert [(c["dependant_id"], c["name_masked"], c["id_last4"], c["relationship"], c["recorded"], c["color"],
             c["refused"]) for c in cards] == [
        (kid["dependant_id"], "王*宝", kid["id_last4"], "child", True, "green", None),
        (grandma["dependant_id"], "李*英", grandma["id_last4"], "grandparent", True, "green", None)]
    assert {c["visited_at"] for c in cards} == {shown.json_body["visited_at"]}

    # three visits (the tracer's list), three counted, three stays in the venue's county
    listed = visits_in(client, authority, venue, start)
    assert sorted(v["name_masked"] for v in listed) == sorted(["王*宝", "李*英", mask_name(guardian.name)])
    stats = client.get(f"/v1/venues/{venue['venue_id']}/stats", headers=authority).json_body
    assert stats["total"] == 3
    cities = client.get("/v1/me/cities", headers=guardian.headers).json_body["cities"]
    assert [c["sources"] for c in cities if c["area"] == county] == [["venue"]]
    today = days.today(start)
    for dependant in (kid, grandma):      # /v1/me/cities is the holder's own: read their stays where they are kept
        stays = visits.recent(pseudonyms.person_ref(dependant["number"]), today.isoformat(), clock.now())
        assert [(s.area, s.source) for s in stays if s.day == today] == [(county, "venue")]
    # the dependant's visit record names the guardian who recorded it, and her access log shows the act
    herself = citizen(grandma["number"], "李秀英")
    [held_by] = client.get("/v1/me/guardians", headers=herself.headers).json_body["guardians"]
    ref = pseudonyms.person_ref(grandma["number"])
    mine = [v for v in store.visits_page(venue["venue_id"], store.shard_of(ref), rules.bucket(start),
                                         rules.bucket(start), 100, None)[0] if v.person == ref]
    assert [v.guardian_id for v in mine] == [held_by["guardian_id"]]
    log = client.get("/v1/me/access-log", headers=herself.headers).json_body["accesses"]
    [act] = [e for e in log if e["returned"].get("operation") == "POST /v1/visits"]
    assert (act["action"], act["role"], act["client_id"]) == ("guardian_act", "guardian", held_by["guardian_id"])
    assert act["returned"]["venue_id"] == venue["venue_id"] and act["returned"]["venue_name"] == venue["name"]
    assert act["returned"]["guardian_name_masked"] == mask_name(guardian.name)

    # the repeat within 5 minutes records nothing new, for anyone
    clock.shift(120)
    guardian = citizen(guardian.id_number, guardian.name)
    again = scan(client, guardian, venue_number=venue["number"], members=[grandma["dependant_id"], kid["dependant_id"]])
    assert again.status_code == 200, again.json_body
    assert again.json_body["recorded"] is False
    assert [(c["name_masked"], c["recorded"], c["visited_at"], c["refused"]) for c in again.json_body["members"]] == [
        ("李*英", False, start, None), ("王*宝", False, start, None)]
    assert len(visits_in(client, authority, venue, start)) == 3
    assert client.get(f"/v1/venues/{venue['venue_id']}/stats", headers=authority).json_body["total"] == 3


def test_a_stranger_refuses_the_scan_and_a_member_without_a_code_is_refused_on_their_card(client, citizen,
                                                                                          health_authority):
    authority = health_authority("44")
    venue = register(client, authority, county_of("44"))
    guardian, kid, _ = family(client, citizen)
    stranger = resident(citizen)
    other = added(client, stranger, *child(), "child")          # another guardian's child
    start = clock.now()

    for members, index in (([kid["dependant_id"], other["dependant_id"]], 1), (["nobody"], 0)):
        refused = scan(client, guardian, venue_token=token_of(venue), members=members)
        assert_refused(refused, 404, "unknown_dependant")
        assert refused.json_body["error"]["details"][0]["index"] == index
        assert refused.json_body["error"]["details"][0]["field"] == f"members[{index}]"
    assert visits_in(client, authority, venue, start) == []     # refused before anything was written
    twice = scan(client, guardian, venue_token=token_of(venue), members=[kid["dependant_id"]] * 2)
    assert_refused(twice, 422, "validation_failed")
    six = scan(client, guardian, venue_token=token_of(venue), members=[f"d{i}" for i in range(6)])
    assert_refused(six, 422, "validation_failed")
    for_her = client.post("/v1/visits", headers=acting(guardian, kid["dependant_id"]),
                          body=dump({"venue_token": token_of(venue)}))
    assert_refused(for_her, 400, "not_for_dependants")          # members, not X-Acting-For

    uncoded = added(client, guardian, *child(), "child", name="王小贝")   # added, never applied for
    shown = scan(client, guardian, venue_token=token_of(venue), members=[uncoded["dependant_id"], kid["dependant_id"]])
    assert shown.status_code == 201, shown.json_body
    assert [(c["name_masked"], c["recorded"], c["color"], c["refused"]) for c in shown.json_body["members"]] == [
        ("王*贝", False, None, "no_code"), ("王*宝", True, "green", None)]
    assert len(visits_in(client, authority, venue, start)) == 2


def test_a_scan_with_two_members_costs_the_callers_calls_plus_three_plus_one_per_member(client, citizen,
                                                                                      health_authority):
    from bench.dynamo_calls import recording

    venue = register(client, health_authority("44"), county_of("44"))
    guardian, kid, grandma = family(client, citizen)
    members = [kid["dependant_id"], grandma["dependant_id"]]
    assert scan(client, guardian, venue_token=token_of(venue), members=members).status_code == 201  # stays today
    clock.shift(rules.VISIT_BUCKET_SECONDS)
    guardian = citizen(guardian.id_number, guardian.name)
    with recording() as calls:
        again = scan(client, guardian, venue_token=token_of(venue), members=members)
    assert again.status_code == 201 and all(c["recorded"] for c in again.json_body["members"]), again.json_body
    made = sorted(c for c in calls if "areas" not in c)       # the container's copy of the area levels: not per scan
    assert len(made) == 7 + len(members), made
    assert made.count("TransactWriteItems venues+visits x3") == 1 + len(members), made
    assert {"Query guardians (consistent)", "TransactWriteItems audit x2", "BatchGetItem people (consistent)",
            "GetItem people (consistent)", "GetItem venues"} < set(made), made


def test_each_person_on_the_pass_counts_one_visit_against_the_callers_limit(client, citizen, health_authority):
    venue = register(client, health_authority("44"), county_of("44"))
    guardian = resident(citizen)
    five = [added(client, guardian, *child(), "child", name=f"王小{n}")["dependant_id"] for n in "一二三四五"]
    used, allowed = 0, limits.VISITS_PER_PERSON.count
    while used + 1 + len(five) <= allowed:                  # 20 scans of six people spend the hour's 120
        assert scan(client, guardian, venue_token=token_of(venue), members=five).status_code in (200, 201)
        used += 1 + len(five)
    for _ in range(allowed - used):
        assert scan(client, guardian, venue_token=token_of(venue)).status_code in (200, 201)
    assert_refused(scan(client, guardian, venue_token=token_of(venue)), 429, "too_many_requests")
