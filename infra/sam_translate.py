"""Expand out/sam.json with the SAM transform, offline, as CloudFormation would: out/cloudformation.json.

    .venv/sam/bin/python infra/sam_translate.py out/sam.json out/cloudformation.json

Run by `make lint` (infra/package.py) in its own virtualenv (infra/requirements-sam.txt), so that cfn-lint
also checks the plain resources the AWS::Serverless ones become: the REST API with the gateway responses
in its definition, the stream's event source mapping, the schedules' rules and permissions.
"""
from __future__ import annotations

import json
import os
import sys


class NoManagedPolicies:
    """Our functions name their roles: there are no SAM policy templates or managed policies to look up."""

    def load(self) -> dict[str, str]:
        return {}


def main(source: str, target: str) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "cn-north-1")
    from samtranslator.translator.transform import transform

    with open(source, encoding="utf-8") as fh:
        template = json.load(fh)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":  # as `aws cloudformation package` rewrites it
            resource["Properties"]["CodeUri"] = "s3://deployment-bucket/deployment.zip"
    values = {"IdpIssuer": "https://idp.example", "IdpAudience": "healthcode", "IdpJwks": '{"keys": []}'}
    translated = transform(template, values, NoManagedPolicies())
    with open(target, "w", encoding="utf-8") as fh:
        json.dump(translated, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
