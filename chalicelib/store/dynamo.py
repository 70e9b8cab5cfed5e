"""The one DynamoDB client per container, and conversion to and from attribute values.

A low-level client (not a `resource`) keeps cold starts short; it is built on
first use so that importing the app costs nothing until a request needs it.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.lazy import Lazy
from chalicelib.settings import get_settings
from chalicelib.store import wire


class ConditionFailed(Exception):
    """A conditional write lost: the item changed or already existed.

    For a transaction, `failed` maps the index of each operation whose condition failed to the item it
    found, where the operation asked for it (`put_op(..., return_old=True)`), else None."""

    def __init__(self, message: str, failed: dict[int, dict[str, Any] | None] | None = None):
        super().__init__(message)
        self.failed = failed or {}


class TransactionConflict(Exception):
    """DynamoDB cancelled a transaction because another one was changing one of its items at the same
    moment (no condition failed): the same transaction may simply be tried again."""


def _build_client() -> Any:
    import boto3  # deferred: ~200 ms that only the first data call should pay
    from botocore.config import Config

    settings = get_settings()
    kwargs: dict[str, Any] = {
        "region_name": settings.region,
        "config": Config(retries={"total_max_attempts": 3, "mode": "standard"},  # as store/wire.py
                         connect_timeout=2, read_timeout=5,
                         max_pool_connections=32),
    }
    if settings.dynamodb_endpoint:
        kwargs["endpoint_url"] = settings.dynamodb_endpoint
    return boto3.session.Session().client("dynamodb", **kwargs)


_client: Lazy[Any] = Lazy(_build_client)


def client() -> Any:
    """The container's one client, built again only if the stage's endpoint or region changes (tests)."""
    settings = get_settings()
    return _client.get((settings.dynamodb_endpoint, settings.region))


def table(kind: str) -> str:
    return get_settings().table(kind)


def to_attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if isinstance(value, dict):
        return {"M": {k: to_attr(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__}")


def from_attr(attr: dict[str, Any]) -> Any:
    if not attr:
        return {}  # DynamoDB Local's stream images render an empty map as {} rather than {"M": {}}
    (kind, value), = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "SS":
        return set(value)
    raise TypeError(f"unsupported attribute type {kind}")


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: from_attr(v) for k, v in item.items()}


def is_condition_failure(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons", [])  # type: ignore[attr-defined]  # a botocore ClientError
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False


def _is_transaction_conflict(exc: Exception) -> bool:
    response = getattr(exc, "response", {})
    return (response.get("Error", {}).get("Code") == "TransactionCanceledException"
            and any(r.get("Code") == "TransactionConflict" for r in response.get("CancellationReasons", [])))


# botocore's exceptions for a connection that failed or timed out, by name (botocore is not imported here)
_UNREACHABLE = frozenset({"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
                          "ConnectionClosedError"})


def is_overload(exc: Exception) -> bool:
    """DynamoDB throttled us or could not be reached, even after the clients' own retries: a moment to
    tell the caller to come back (or a checkpoint to verify offline), not an internal error."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in wire.RETRYABLE_CODES or code == "ConnectionError" or type(exc).__name__ in _UNREACHABLE


def _guarded(call: Any, **request: Any) -> Any:
    """Run a conditional write; a lost condition becomes ConditionFailed."""
    try:
        return call(**request)
    except Exception as exc:
        if is_condition_failure(exc):
            response = getattr(exc, "response", {})
            reasons = response.get("CancellationReasons", [])
            failed = {i: from_item(r.get("Item")) for i, r in enumerate(reasons)
                      if r.get("Code") == "ConditionalCheckFailed"}
            if not reasons and "Item" in response:   # a single write that asked for the item it found
                failed = {0: from_item(response["Item"])}
            raise ConditionFailed(str(exc), failed) from exc
        if _is_transaction_conflict(exc):
            raise TransactionConflict(str(exc)) from exc
        raise


def put(kind: str, item: dict[str, Any], condition: str | None = None,
        values: dict[str, Any] | None = None, names: dict[str, str] | None = None, return_old: bool = False) -> None:
    """PutItem; `return_old`: should its condition fail, ConditionFailed.failed[0] holds the item that made it
    fail, from the same call."""
    request: dict[str, Any] = {"TableName": table(kind), "Item": to_item(item)}
    if return_old:
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    if condition:
        request["ConditionExpression"] = condition
    if values:
        request["ExpressionAttributeValues"] = to_item(values)
    if names:
        request["ExpressionAttributeNames"] = names
    _guarded(client().put_item, **request)


def get(kind: str, key: dict[str, Any], consistent: bool = False) -> dict[str, Any] | None:
    response = client().get_item(TableName=table(kind), Key=to_item(key), ConsistentRead=consistent)
    return from_item(response.get("Item"))


def delete(kind: str, key: dict[str, Any], condition: str | None = None,
           values: dict[str, Any] | None = None) -> None:
    request: dict[str, Any] = {"TableName": table(kind), "Key": to_item(key)}
    if condition:
        request["ConditionExpression"] = condition
    if values:
        request["ExpressionAttributeValues"] = to_item(values)
    _guarded(client().delete_item, **request)


def update(kind: str, key: dict[str, Any], expression: str, values: dict[str, Any],
           condition: str | None = None, names: dict[str, str] | None = None,
           hot: bool = False) -> dict[str, Any] | None:
    """UpdateItem returning the new item. `hot` sends it without botocore (store/wire.py): for the one
    call of a request path that must cost no more than the database itself."""
    request: dict[str, Any] = {"TableName": table(kind), "Key": to_item(key), "UpdateExpression": expression,
                               "ExpressionAttributeValues": to_item(values), "ReturnValues": "ALL_NEW"}
    if condition:
        request["ConditionExpression"] = condition
    if names:
        request["ExpressionAttributeNames"] = names
    call = (lambda **r: wire.call("UpdateItem", r)) if hot else client().update_item
    return from_item(_guarded(call, **request).get("Attributes"))


def query(kind: str, key_condition: str, values: dict[str, Any], *, index: str | None = None,
          forward: bool = True, limit: int | None = None, start: dict[str, Any] | None = None,
          names: dict[str, str] | None = None, filter_expression: str | None = None,
          consistent: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a query: (items, last evaluated key or None)."""
    request: dict[str, Any] = {"TableName": table(kind), "KeyConditionExpression": key_condition,
                               "ExpressionAttributeValues": to_item(values), "ScanIndexForward": forward}
    if index:
        request["IndexName"] = index
    if limit:
        request["Limit"] = limit
    if start:
        request["ExclusiveStartKey"] = to_item(start)
    if names:
        request["ExpressionAttributeNames"] = names
    if filter_expression:
        request["FilterExpression"] = filter_expression
    if consistent:
        request["ConsistentRead"] = True
    response = client().query(**request)
    items = [from_item(i) for i in response.get("Items", [])]
    return items, from_item(response.get("LastEvaluatedKey"))  # type: ignore[return-value]  # an item is never None


def transact(operations: list[dict[str, Any]]) -> None:
    """TransactWriteItems; a lost condition raises ConditionFailed."""
    _guarded(client().transact_write_items, TransactItems=operations)


def put_op(kind: str, item: dict[str, Any], condition: str | None = None,
           values: dict[str, Any] | None = None, return_old: bool = False) -> dict[str, Any]:
    """The Put of a transaction; `return_old`: should its condition fail, ConditionFailed.failed holds the
    item that made it fail (no second read, which could see a later state)."""
    op: dict[str, Any] = {"TableName": table(kind), "Item": to_item(item)}
    if condition:
        op["ConditionExpression"] = condition
    if values:
        op["ExpressionAttributeValues"] = to_item(values)
    if return_old:
        op["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Put": op}


def delete_op(kind: str, key: dict[str, Any], condition: str | None = None,
              values: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table(kind), "Key": to_item(key)}
    if condition:
        op["ConditionExpression"] = condition
    if values:
        op["ExpressionAttributeValues"] = to_item(values)
    return {"Delete": op}


def batch_get(kind: str, keys: list[dict[str, Any]], consistent: bool = False,
              hot: bool = False) -> list[dict[str, Any]]:
    """BatchGetItem in chunks of 100, retrying unprocessed keys. `hot` as for `update`."""
    found: list[dict[str, Any]] = []
    name = table(kind)
    call = (lambda **r: wire.call("BatchGetItem", r)) if hot else client().batch_get_item
    for i in range(0, len(keys), 100):
        pending: dict[str, Any] = {name: {"Keys": [to_item(k) for k in keys[i:i + 100]]}}
        if consistent:
            pending[name]["ConsistentRead"] = True
        while pending:
            response = call(RequestItems=pending)
            found += [from_item(item)  # type: ignore[misc]  # an item is never None
                      for item in response.get("Responses", {}).get(name, [])]
            pending = response.get("UnprocessedKeys") or {}
    return found


def scan_all(kind: str, filter_expression: str | None = None, values: dict[str, Any] | None = None,
             names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every item of a small table (clients, subscriptions) or an ops report; never on a request path
    over a large table."""
    request: dict[str, Any] = {"TableName": table(kind)}
    if filter_expression:
        request["FilterExpression"] = filter_expression
    if values:
        request["ExpressionAttributeValues"] = to_item(values)
    if names:
        request["ExpressionAttributeNames"] = names
    items: list[dict[str, Any]] = []
    while True:
        page = client().scan(**request)
        items += [from_item(i) for i in page.get("Items", [])]  # type: ignore[misc]  # an item is never None
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def scan_page(kind: str, segment: int, segments: int, limit: int, start: dict[str, Any] | None,
              filter_expression: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of one segment of a parallel Scan (consistent): a bounded unit of an ops pass over a whole table.
    The key to start the segment's next page from, or None after its last."""
    request: dict[str, Any] = {"TableName": table(kind), "Segment": segment, "TotalSegments": segments,
                               "Limit": limit, "ConsistentRead": True}
    if filter_expression:
        request["FilterExpression"] = filter_expression
    if start:
        request["ExclusiveStartKey"] = to_item(start)
    page = _guarded(client().scan, **request)
    last = page.get("LastEvaluatedKey")
    return [from_item(i) for i in page.get("Items", [])], (from_item(last) if last else None)  # type: ignore[misc]


def query_all(kind: str, key_condition: str, values: dict[str, Any], **options: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    start = None
    while True:
        page, start = query(kind, key_condition, values, start=start, **options)
        items += page
        if start is None:
            return items


def update_op(kind: str, key: dict[str, Any], expression: str, values: dict[str, Any],
              condition: str | None = None, names: dict[str, str] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table(kind), "Key": to_item(key), "UpdateExpression": expression,
                          "ExpressionAttributeValues": to_item(values)}
    if condition:
        op["ConditionExpression"] = condition
    if names:
        op["ExpressionAttributeNames"] = names
    return {"Update": op}


def streams_client() -> Any:
    """A DynamoDB Streams client on the same endpoint (the local pump reads the streams with it)."""
    import boto3

    settings = get_settings()
    kwargs: dict[str, Any] = {"region_name": settings.region}
    if settings.dynamodb_endpoint:
        kwargs["endpoint_url"] = settings.dynamodb_endpoint
    return boto3.session.Session().client("dynamodbstreams", **kwargs)
