"""The bytes the audit log's keyed MACs cover, and the MACs (HMAC-SM3 under an audit key, govshare.audit.keys).

Three MACs, each under a version label of its own so that one can never stand for another:
- the content MAC of a row, `<key id>:<hex>`, fixed when the row is inserted (in the inserting transaction): its
  time, actor, action, object and details. An edit made before the row is sealed no longer matches it.
- the link MAC of a sealed row (its `row_hash`): its seq, id, the previous row's `row_hash` and its content MAC.
- the MAC of an anchor line (govshare.audit.anchors).

Rows sealed before the chain was keyed keep their unkeyed SM3 hash (`legacy_digest`, "govshare-audit-v1").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from hmac import compare_digest
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac

from govshare.audit.keys import AuditKey, AuditKeyRing

LEGACY_VERSION = "govshare-audit-v1"
CONTENT_VERSION = "govshare-audit-content-v2"
LINK_VERSION = "govshare-audit-v2"
# The columns a row's content MAC covers (its id is covered by the link, given at sealing).
CONTENT_FIELDS = ("at", "actor_id", "actor_name", "action", "object_type", "object_id", "object_repr", "extra")


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


@lru_cache(maxsize=64)
def _keyed(secret: bytes, label: str) -> hmac.HMAC:
    """The HMAC state after the key and the label, built once per key and label and copied per message."""
    mac = hmac.HMAC(secret, hashes.SM3())
    mac.update(label.encode("ascii") + b"\x00")
    return mac


def mac_hex(key: AuditKey, label: str, data: bytes) -> str:
    mac = _keyed(key.secret, label).copy()
    mac.update(data)
    return mac.finalize().hex()


def _json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


_last_at: tuple[dt.datetime, str] | None = None  # a bulk insert gives every row the same time


def at_text(value: dt.datetime) -> str:
    """The time in UTC, ISO 8601 with microseconds (a naive time is taken as UTC)."""
    global _last_at
    last = _last_at
    if last is not None and last[0] is value:
        return last[1]
    if value.tzinfo is None:
        utc = value.replace(tzinfo=dt.UTC)
    elif value.utcoffset():
        utc = value.astimezone(dt.UTC)
    else:
        utc = value
    text = utc.isoformat(timespec="microseconds")
    _last_at = (value, text)
    return text


def _number(value: float) -> float | int:
    # PostgreSQL's jsonb keeps the decimal JSON wrote (1e+300, 2.0) and gives it back as 10**300 or 2.0; SQLite gives
    # back the float. The integral value of the decimal stands for both.
    exact = Decimal(repr(value))
    return int(exact) if exact == exact.to_integral_value() else value


class _NotPlain(Exception):
    pass


def _plain(value: Any) -> Any:
    """`value` if JSON gives it back as it is (strings, integers, booleans, None; lists and string-keyed dicts of
    them), floats settled as above; _NotPlain otherwise."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _plain(item) for key, item in value.items()}
    raise _NotPlain


_SIMPLE = frozenset({str, int, bool, type(None)})


def _settled(value: Any) -> Any:
    """`extra` as the database gives it back: JSON-encoded and decoded (tuples are lists, keys are strings), numbers
    as above. Details are almost always a flat dict of strings and integers, given back as they are."""
    if type(value) is dict and all(type(key) is str and type(item) in _SIMPLE for key, item in value.items()):
        return value
    try:
        return _plain(value)
    except _NotPlain:
        return _plain(json.loads(json.dumps(value)))


def content_bytes(row: Mapping[str, Any]) -> bytes:
    """The exact bytes of a row's content MAC: a JSON array in a fixed order, the details as stored."""
    extra = _settled(row["extra"])
    actor_id = row["actor_id"]
    return _json(
        [
            CONTENT_VERSION,
            at_text(row["at"]),
            None if actor_id is None else int(actor_id),
            row["actor_name"],
            row["action"],
            row["object_type"],
            row["object_id"],
            row["object_repr"],
            extra,
        ]
    )


def content_mac(row: Mapping[str, Any], key: AuditKey) -> str:
    """`<key id>:<hex>`: the row's content MAC under `key`, written with the row."""
    return f"{key.key_id}:{mac_hex(key, CONTENT_VERSION, content_bytes(row))}"


def content_matches(row: Mapping[str, Any], stored: str, ring: AuditKeyRing) -> bool | None:
    """Whether `stored` (a row's content MAC) is the MAC of its content: None when it names no key of the ring."""
    key_id, sep, _ = stored.partition(":")
    key = ring.find(key_id) if sep else None
    if key is None:
        return None
    return hmac_equal(content_mac(row, key), stored)


def link_mac(key: AuditKey, *, seq: int, row_id: int, prev_hash: str, row_content_mac: str) -> str:
    """A sealed row's `row_hash`: its place in the chain and its content MAC, under the sealing key."""
    return mac_hex(key, LINK_VERSION, _json([LINK_VERSION, key.key_id, seq, row_id, prev_hash, row_content_mac]))


def hmac_equal(a: str, b: str) -> bool:
    return compare_digest(a.encode(), b.encode())


def legacy_bytes(row: Mapping[str, Any], seq: int, prev_hash: str) -> bytes:
    """The bytes hashed for one row sealed before the chain was keyed (govshare-audit-v1)."""
    return _json(
        [
            LEGACY_VERSION,
            seq,
            row["id"],
            at_text(row["at"]),
            row["actor_id"],
            row["actor_name"],
            row["action"],
            row["object_type"],
            row["object_id"],
            row["object_repr"],
            row["extra"],
            prev_hash,
        ]
    )


def legacy_digest(row: Mapping[str, Any], seq: int, prev_hash: str) -> str:
    return sm3_hex(legacy_bytes(row, seq, prev_hash))
