"""Regenerate tests/contract/twilio_oai_v2010.json from Twilio's OpenAPI description.

    python tests/contract/extract_twilio_oai.py path/to/twilio_api_v2010.json COMMIT

The input is spec/json/twilio_api_v2010.json of github.com/twilio/twilio-oai (MIT licence,
Copyright (C) 2023 Twilio, Inc.). Only what the contract test checks is kept: the Message
and Call resources' fields, the create operations' form fields, the list operations' filters
and the list pages' fields.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
CALLS = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
KEEP = ("type", "format", "nullable", "enum", "minLength", "maxLength", "pattern")


def _field(schemas: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in field:
        field = schemas[field["$ref"].rsplit("/", 1)[1]]
    return {k: field[k] for k in KEEP if k in field}


def _resource(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    props = schemas[name]["properties"]
    return {key: _field(schemas, value) for key, value in props.items()}


def _operation(spec: dict[str, Any], path: str, verb: str) -> dict[str, Any]:
    op = spec["paths"][path][verb]
    out: dict[str, Any] = {"operationId": op["operationId"]}
    body = op.get("requestBody")
    if body:
        form = body["content"]["application/x-www-form-urlencoded"]["schema"]
        out["required"] = form.get("required", [])
        out["form"] = sorted(form["properties"])
    out["query"] = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
    for status, answer in op["responses"].items():
        schema = answer["content"]["application/json"]["schema"]
        if "properties" in schema:  # a list page: its own fields, the items by reference
            out["page"] = {k: v.get("type") for k, v in schema["properties"].items()}
        out["status"] = int(status)
    return out


def extract(spec: dict[str, Any], commit: str) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    return {
        "source": "https://github.com/twilio/twilio-oai/blob/"
        f"{commit}/spec/json/twilio_api_v2010.json",
        "licence": "MIT, Copyright (C) 2023 Twilio, Inc.; an extract, not the whole file",
        "message": _resource(schemas, "api.v2010.account.message"),
        "call": _resource(schemas, "api.v2010.account.call"),
        "CreateMessage": _operation(spec, MESSAGES, "post"),
        "ListMessage": _operation(spec, MESSAGES, "get"),
        "CreateCall": _operation(spec, CALLS, "post"),
        "ListCall": _operation(spec, CALLS, "get"),
    }


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    out = Path(__file__).with_name("twilio_oai_v2010.json")
    out.write_text(json.dumps(extract(spec, sys.argv[2]), indent=1, sort_keys=True) + "\n")
