"""Reading the tables' DynamoDB streams back, as Lambda hands records to a function.

The local pump reads the streams with it, and `python -m ops events recover` reads back the records of a
batch Lambda gave up on (its on-failure message names the shard and the range, not the records).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib.store import dynamo

EMPTY_PAGES = 5   # an open shard may answer empty pages before its next records: read a few before giving up


class RecordsGone(Exception):
    """The stream no longer holds the records (DynamoDB streams keep them 24 hours)."""


def lambda_record(record: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda's event carries it (ApproximateCreationDateTime in epoch seconds)."""
    body = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        body["ApproximateCreationDateTime"] = created.timestamp()
    return {"eventID": record["eventID"], "eventName": record["eventName"], "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": region, "dynamodb": body, "eventSourceARN": arn}


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def read_range(stream_arn: str, shard_id: str, first: str, last: str, client: Any = None) -> list[dict[str, Any]]:
    """The records of one shard from sequence number `first` to `last`, both included, Lambda-shaped."""
    client = client or dynamo.streams_client()
    try:
        iterator = client.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id,
                                             ShardIteratorType="AT_SEQUENCE_NUMBER",
                                             SequenceNumber=first)["ShardIterator"]
    except client.exceptions.TrimmedDataAccessException as exc:
        raise RecordsGone(f"{shard_id} {first}..{last}: trimmed from the stream") from exc
    except client.exceptions.ResourceNotFoundException as exc:
        raise RecordsGone(f"{stream_arn} {shard_id}: no such stream or shard") from exc
    found: list[dict[str, Any]] = []
    empty = 0
    while iterator is not None and empty < EMPTY_PAGES:
        page = client.get_records(ShardIterator=iterator, Limit=1000)
        records = page.get("Records", [])
        empty = 0 if records else empty + 1
        for record in records:
            if int(record["dynamodb"]["SequenceNumber"]) > int(last):
                return found
            found.append(lambda_record(record, stream_arn, region_of(stream_arn)))
        if found and found[-1]["dynamodb"]["SequenceNumber"] == last:
            return found
        iterator = page.get("NextShardIterator")
    return found
