"""A value's stored form, written once for every dataclass the function keeps: the journal's
plan context and the marks (`handler.journal`, `handler.marks`), and the summary's view of the
inputs. `dataclasses.asdict` order, dates as ISO text, and a rename table per value where the
stored key differs from the field's name; read back by the fields' own types, so a field is
written in its class and nowhere else.

Pure: DynamoDB's attribute values are `handler.dynamo_codec`'s; this is the JSON inside them.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def to_stored(value: Any, renames: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The dataclass `value` as JSON-ready data: its fields in order, keys renamed by
    `renames` (field -> stored key)."""
    names = renames or {}
    return {names.get(f.name, f.name): _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)}


def from_stored(cls: type[T], data: Mapping[str, Any],
                renames: Mapping[str, str] | None = None) -> T:
    """`to_stored`'s inverse: each field read from its stored key and made its declared type
    again (a DynamoDB number that came back an int is a float again where the field is)."""
    names = renames or {}
    return cls(**{name: _typed(hint, data[names.get(name, name)])
                  for name, hint in _declared(cls)})


@functools.cache
def _declared(cls: type) -> tuple[tuple[str, Any], ...]:
    """`cls`'s fields and their types, resolved once: the journal reads every morning of the
    account each morning."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _typed(hint: Any, raw: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if raw is None:
            return None
        return _typed(next(a for a in args if a is not type(None)), raw)
    if origin is dict:
        return {k: _typed(args[1], v) for k, v in raw.items()}
    if hint is date:
        return date.fromisoformat(raw)
    if hint in (float, int, str) or (isinstance(hint, type) and issubclass(hint, Enum)):
        return hint(raw)
    raise TypeError(f"no stored form for {hint!r}")
