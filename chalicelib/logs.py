"""Structured JSON logs: one JSON object per line, with the request id on every line.

`request_logging` is Chalice middleware for every event type (app.py registers it): it takes the request
id (API Gateway's `requestContext.requestId`, else the Lambda invocation's id), puts it in a context
variable for the length of the invocation, answers it as `X-Request-Id`, and writes one access line per
HTTP request (method, route pattern, status, duration: never the path's values, the query or a body).
A log record factory copies the id onto every record, whoever logs it (our modules, botocore, Chalice),
and `JsonFormatter` writes the record as JSON.

Why not Powertools for AWS Lambda's Logger: it is usable (about 13 ms more cold start, 7.6 MB more
package) but it formats only the records of its own logger, while our modules and botocore log through
the standard `logging` tree; we would have used it as the root handler's formatter, i.e. a JSON formatter
plus a runtime dependency. This is that formatter, with Powertools' field names (level, location,
message, timestamp, service, cold_start, function_request_id, xray_trace_id), so moving to Powertools
later changes no log query.

Personal data never goes into a log call (tests/test_logs.py runs a whole scenario and looks). As a
second line of defence the formatter masks anything shaped like a resident ID number or a mobile number.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

SERVICE = "healthcode"
REQUEST_ID_HEADER = "X-Request-Id"
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_function_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("function_request_id",
                                                                                  default=None)
_cold = True
log = logging.getLogger("healthcode.requests")

# attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id",
                                                                          "function_request_id"}
_ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}[01][0-9][0-3][0-9]{4}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def request_id() -> str | None:
    return _request_id.get()


def mask(text: str) -> str:
    return _MOBILE.sub("[phone]", _ID_NUMBER.sub("[id_number]", text))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": SERVICE,
            "logger": record.name,
            "location": f"{record.module}:{record.funcName}:{record.lineno}",
            "message": mask(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        function_request_id = getattr(record, "function_request_id", None)
        if function_request_id:
            entry["function_request_id"] = function_request_id
        trace = os.environ.get("_X_AMZN_TRACE_ID")
        if trace:
            entry["xray_trace_id"] = trace
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = mask("".join(traceback.format_exception(*record.exc_info)))
            entry["exception_name"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(entry, ensure_ascii=False, default=str, separators=(",", ":"))


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "healthcode", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get()
        record.function_request_id = _function_request_id.get()
        return record

    factory.healthcode = True  # type: ignore[attr-defined]  # marks our factory, so it is installed once
    logging.setLogRecordFactory(factory)


def configure() -> None:
    """JSON on the Lambda runtime's handler, or on a stderr handler where nobody set one up (chalice local).

    Elsewhere (pytest's capture handlers, an embedding program) the handlers are left as they are; the
    request id is on every record all the same."""
    _install_record_factory()
    logging.getLogger("healthcode").setLevel(os.environ.get("HEALTHCODE_LOG_LEVEL", "INFO").upper())
    root = logging.getLogger()
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        for handler in root.handlers:
            handler.setFormatter(JsonFormatter())
    elif not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)


def _ids(event: Any) -> tuple[str, str | None]:
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    function_id = getattr(context, "aws_request_id", None)
    gateway = getattr(event, "context", None)
    gateway_id = gateway.get("requestId") if isinstance(gateway, dict) else None
    return gateway_id or function_id or uuid.uuid4().hex, function_id


def request_logging(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware (all event types): the request id on every log line of the invocation."""
    global _cold
    rid, function_id = _ids(event)
    tokens = (_request_id.set(rid), _function_request_id.set(function_id))
    cold, _cold = _cold, False
    started = time.perf_counter()
    try:
        response = get_response(event)
        status = getattr(response, "status_code", None)
        if status is not None:  # an HTTP request
            response.headers = {**(response.headers or {}), REQUEST_ID_HEADER: rid}
            route = (event.context or {}).get("resourcePath") if isinstance(event.context, dict) else None
            log.info("request", extra={"method": event.method, "route": route, "status": status,
                                       "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                                       "cold_start": cold})
        return response
    finally:
        _request_id.reset(tokens[0])
        _function_request_id.reset(tokens[1])


configure()
