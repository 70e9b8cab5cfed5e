"""The local stack's tables follow infra/template.json. When stored tables have other indexes than the
template (which DynamoDB Local cannot change on disk), `make run` notices and starts afresh."""
from __future__ import annotations

import copy
import json
import secrets

from infra import bootstrap


def test_index_drift_names_the_indexes_a_stored_table_lacks_and_those_it_should_no_longer_have(dynamodb, tmp_path):
    from chalicelib.store import dynamo

    template = json.loads(bootstrap.TEMPLATE.read_text())
    older = copy.deepcopy(template)
    visits = older["Resources"]["VisitsTable"]["Properties"]
    visits["GlobalSecondaryIndexes"][0]["IndexName"] = "by_city"  # as the table was before the shards
    older["Resources"] = {"VisitsTable": older["Resources"]["VisitsTable"]}
    path = tmp_path / "older.json"
    path.write_text(json.dumps(older))
    prefix = f"drift{secrets.token_hex(3)}"
    client = dynamo.client()
    bootstrap.bootstrap(client, prefix, path)

    assert bootstrap.index_drift(client, prefix) == {f"{prefix}-visits": (["by_city_shard"], ["by_city"])}
    assert bootstrap.index_drift(client, prefix, path) == {}
