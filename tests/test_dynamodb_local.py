"""The DynamoDB Local the project starts carries the index on its stream records that the emulator
lacks (infra/local/dynamodb_local.py says why), and SQLite uses it for the lookup every request to
a stream-enabled table makes."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from infra.local.dynamodb_local import STREAM_RECORDS_INDEX, DynamoDBLocal, index_stream_records, stream_records_plan


def indexes_on_stream_records(db_file: Path) -> list[str]:
    db = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'us'")]
    finally:
        db.close()


def test_the_session_database_looks_up_a_streams_oldest_record_by_index(dynamodb: DynamoDBLocal):
    assert STREAM_RECORDS_INDEX in indexes_on_stream_records(dynamodb.db_file)
    plan = stream_records_plan(dynamodb.db_file)
    assert f"USING COVERING INDEX {STREAM_RECORDS_INDEX}" in plan, plan


def test_the_index_goes_onto_a_running_emulator_whose_streams_keep_working(tmp_path: Path):
    import boto3

    with DynamoDBLocal(db_path=tmp_path / "stock", stream_index=False) as ddb:
        options = {"endpoint_url": ddb.endpoint, "region_name": "cn-north-1",
                   "aws_access_key_id": "local", "aws_secret_access_key": "local"}
        tables = boto3.client("dynamodb", **options)
        tables.create_table(TableName="notes", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        tables.put_item(TableName="notes", Item={"pk": {"S": "before"}})
        # as shipped, the lookup walks the records in sequence order until it meets the stream's first
        assert "INDEX" not in stream_records_plan(ddb.db_file)
        assert indexes_on_stream_records(ddb.db_file) == []

        index_stream_records(ddb.endpoint, ddb.db_file)
        index_stream_records(ddb.endpoint, ddb.db_file)  # again: a restart of `make run` does this
        assert indexes_on_stream_records(ddb.db_file) == [STREAM_RECORDS_INDEX]
        assert f"USING COVERING INDEX {STREAM_RECORDS_INDEX}" in stream_records_plan(ddb.db_file)

        tables.put_item(TableName="notes", Item={"pk": {"S": "after"}})
        streams = boto3.client("dynamodbstreams", **options)
        arn = tables.describe_table(TableName="notes")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["before", "after"]


def test_scratch_databases_of_killed_runs_are_removed_and_live_ones_kept(tmp_path: Path, monkeypatch):
    import os
    import subprocess
    import time

    from infra.local import dynamodb_local

    monkeypatch.setattr(dynamodb_local, "SCRATCH_PARENT", tmp_path)
    gone = subprocess.Popen(["true"])
    gone.wait()
    old = time.time() - 3600

    def scratch(name: str, pid: int | None, mtime: float) -> Path:
        folder = tmp_path / f"{dynamodb_local.SCRATCH_PREFIX}{name}"
        folder.mkdir()
        (folder / dynamodb_local.DB_FILE).write_bytes(b"x" * 1024)
        if pid is not None:
            (folder / dynamodb_local.JAVA_PID).write_text(str(pid))
        os.utime(folder, (mtime, mtime))
        return folder

    killed = scratch("killed", gone.pid, old)
    no_pid = scratch("no-pid", None, old)
    running = scratch("running", os.getpid(), old)
    starting = scratch("starting", None, time.time())
    other = tmp_path / "someone-elses"
    other.mkdir()
    os.utime(other, (old, old))

    with DynamoDBLocal() as ddb:
        assert ddb.files is not None and ddb.files.parent == tmp_path
        assert int((ddb.files / dynamodb_local.JAVA_PID).read_text()) == ddb.process.pid
        assert not killed.exists() and not no_pid.exists()
        assert running.exists() and starting.exists() and other.exists()
        mine = ddb.files
    assert not mine.exists()
