"""Python values <-> DynamoDB attribute values, for every item the function writes (the journal,
the marks): floats go in as exact decimals (through JSON) and come back as int or float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_SER = TypeSerializer()
_DESER = TypeDeserializer()


def encode(values: dict[str, Any]) -> dict[str, Any]:
    """Python values -> DynamoDB attribute values (floats as exact decimals via JSON)."""
    plain = json.loads(json.dumps(values), parse_float=Decimal)
    return {k: _SER.serialize(v) for k, v in plain.items()}


def decode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_DESER.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
