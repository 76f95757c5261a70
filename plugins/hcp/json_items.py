"""JSON items from the API and JSON Lines sources, as the text values a raw table keeps."""
from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec

_to_json = json.JSONEncoder(ensure_ascii=False).encode
_from_json = msgspec.json.Decoder().decode


def parse_json(text: str | bytes) -> object:
    """JSON as ``json.loads`` reads it, at twice its speed: msgspec takes what it can, and ``json.loads`` decides
    the rest (NaN, integers past 64 bits, and what is not JSON, with its usual error)."""
    try:
        return _from_json(text)
    except msgspec.DecodeError:
        return json.loads(text)


def as_json_text(value: object) -> str | None:
    """A JSON value as raw text: strings as they are, arrays and objects as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        # most ratings have no reason tags: an empty array is the common case on the hot path
        return _to_json(value) if value else ("[]" if isinstance(value, list) else "{}")
    return str(value)


def json_values(item: dict, fields: Sequence[str]) -> list[str | None]:
    """The fields of a JSON item as ``as_json_text`` gives them. Most are strings, integers or missing, taken
    without a call to it: this runs for every field of every row."""
    return [v if v is None or v.__class__ is str else str(v) if v.__class__ is int else as_json_text(v)
            for v in map(item.get, fields)]


def field_drift(items: Sequence[dict], contract: Sequence[str], optional: Sequence[str] = ()) -> frozenset[str]:
    """How JSON items differ from their contract: fields no item carries (but may be null, so may be left out:
    ``optional``), and fields it does not name. One odd item is a bad row, judged by the row rules."""
    if not items:
        return frozenset()
    keys = set().union(*items)  # a dict iterates its keys
    expected = set(contract)
    return frozenset({f"missing {k}" for k in expected - keys - set(optional)}
                     | {f"unexpected {k}" for k in keys - expected})
