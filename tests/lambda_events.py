"""API Gateway (REST, proxy) events and a Lambda context, as Lambda hands them to a handler.

For running the app's split functions the way Lambda does (`app.verify_api(event, context)`), in a
fresh process, without chalice.test (which itself imports botocore and would hide what the app loads).
"""
from __future__ import annotations

import json
import uuid
from typing import Any


class Context:
    function_name = "healthcode-prod-verify"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws-cn:lambda:cn-north-1:123456789012:function:healthcode-prod-verify"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30000


def rest_event(method: str, path: str, headers: dict[str, str], body: str | None) -> dict[str, Any]:
    return {
        "resource": path, "path": path, "httpMethod": method,
        "headers": {k: v for k, v in headers.items()},
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "path": f"/api{path}", "stage": "api",
                           "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "192.0.2.10"}},
        "body": body, "isBase64Encoded": False,
    }


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
