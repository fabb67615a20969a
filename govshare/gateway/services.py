"""The gateway's services over the platform's datasets: lookup by key and verification (核验).

Every call runs the same steps: the scenario it names, the grant chosen by system + scenario + resource
(`sharing.system_grants`), the dataset version being served (`datasets.serving`: a key index, never a scan), the
rows of the key inside the grant's row filter, the granted items masked as the grant says; then, in one transaction
committed before the answer leaves, the call's admission (the grant and everything behind it checked again, the
day's quota counted) and its audit row. The audit row names who, which system, scenario, grant, resource, items,
how many rows, the latency, the outcome and the request id, and the key only as a keyed hash (HMAC-SM3): the auditor
who is given a key finds every call that asked for it, and distinct keys can be counted, but the trail holds no key
and no value. A refused call is audited too.

A caller without a grant learns nothing about the data: the refusal comes before the key is looked at, with the
same answer whether the resource exists, whether the key does.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations
from typing import Any

from govshare.core import crypto
from govshare.core.masking import mask_value
from govshare.datasets import serving
from govshare.datasets.selectors import dataset_id_of
from govshare.gateway import recording
from govshare.gateway.callers import Caller, forget_caller
from govshare.gateway.choices import Service, Verdict
from govshare.gateway.errors import GatewayError
from govshare.gateway.recording import Call, Pending
from govshare.sharing.system_grants import CallRefusal, SystemGrant, system_grant

ROW_LIMIT = 100  # rows one lookup answers; more are cut and flagged `truncated`
KEY_HASH_PURPOSE = "gateway.key"
GRANT_CACHE_SECONDS = 30.0  # a grant's terms; its admission is checked again at every call
NO_GRANT_CACHE_SECONDS = 5.0  # a missing grant: a new one works within seconds
_ID_WITH_LOWER_X = re.compile(r"\d{17}x")


# ------------------------------------------------------------------------------------------------ caches

_grants: dict[tuple[int, int, int, int | None], tuple[SystemGrant | None, float]] = {}
_datasets: dict[int, tuple[int | None, float]] = {}
_lock = threading.Lock()


def _cached_grant(
    caller: Caller, scenario_id: int, resource_id: int, grant_id: int | None, today: dt.date
) -> SystemGrant | None:
    key = (caller.system_id, scenario_id, resource_id, grant_id)
    hit = _grants.get(key)
    if hit is not None and time.monotonic() < hit[1]:
        return hit[0]
    grant = system_grant(caller.system_id, scenario_id, resource_id, today, grant_id=grant_id)
    with _lock:
        if len(_grants) > 10_000:
            _grants.clear()
        _grants[key] = (grant, time.monotonic() + (GRANT_CACHE_SECONDS if grant else NO_GRANT_CACHE_SECONDS))
    return grant


def _forget_grants(caller: Caller) -> None:
    with _lock:
        for key in [key for key in _grants if key[0] == caller.system_id]:
            _grants.pop(key, None)


def _dataset_id(resource_id: int) -> int | None:
    hit = _datasets.get(resource_id)
    if hit is not None and time.monotonic() < hit[1]:
        return hit[0]
    dataset_id = dataset_id_of(resource_id)
    with _lock:
        _datasets[resource_id] = (dataset_id, time.monotonic() + GRANT_CACHE_SECONDS)
    return dataset_id


def forget_cached() -> None:
    """Drop every cached grant and dataset (tests; a process that wants to start afresh)."""
    with _lock:
        _grants.clear()
        _datasets.clear()
        _generation[0] += 1


# ------------------------------------------------------------------------------------------------ input


MAX_ID = 2**63 - 1  # the databases' bigint


def _identifier(value: object, message: str) -> int:
    """A positive id given as a number or as ASCII digits, within the databases' bigint."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    else:
        raise GatewayError("INVALID_REQUEST", detail=message)
    if not 1 <= number <= MAX_ID:
        raise GatewayError("INVALID_REQUEST", detail=message)
    return number


def _scenario(body: Mapping[str, Any]) -> int:
    value = body.get("scenario")
    if value is None or value == "":
        raise GatewayError("SCENARIO_REQUIRED")
    return _identifier(value, "scenario 应为场景编号（正整数）")


def _grant_choice(body: Mapping[str, Any]) -> int | None:
    value = body.get("grant")
    if value is None:
        return None
    return _identifier(value, "grant 应为共享授权编号（正整数）")


def _text_map(body: Mapping[str, Any], name: str) -> dict[str, str]:
    value = body.get(name)
    if not isinstance(value, dict) or not value:
        raise GatewayError("INVALID_REQUEST", detail=f"{name} 应为“信息项名称: 值”的对象，且不能为空")
    result: dict[str, str] = {}
    for item, text in value.items():
        if isinstance(text, bool) or not isinstance(text, str | int):
            raise GatewayError("INVALID_REQUEST", detail=f"{name} 中“{item}”的值应为文本")
        cleaned = str(text).strip()
        if not cleaned or len(cleaned) > 200 or "\x00" in cleaned:
            raise GatewayError("INVALID_REQUEST", detail=f"{name} 中“{item}”的值应为 1–200 个字符的文本")
        result[str(item)] = cleaned.upper() if _ID_WITH_LOWER_X.fullmatch(cleaned) else cleaned
    return result


def _asked_items(body: Mapping[str, Any], grant: SystemGrant) -> list[str]:
    value = body.get("items")
    if value is None:
        return sorted(grant.items)
    if not isinstance(value, list) or not value or not all(isinstance(name, str) for name in value):
        raise GatewayError("INVALID_REQUEST", detail="items 应为信息项名称的列表")
    _require_granted(value, grant)
    return list(dict.fromkeys(value))


def _require_granted(names: list[str], grant: SystemGrant) -> None:
    outside = [name for name in names if name not in grant.items]
    if outside:
        raise GatewayError("ITEM_NOT_GRANTED", detail="、".join(outside))


_hashers = threading.local()
_generation = [0]  # bumped by forget_cached: every thread's hasher is then built afresh
HASHER_SECONDS = 1.0  # the key ring is looked at again after this long (a new active key is used within it)


def key_hash(values: tuple[str, ...]) -> str:
    """The audit trail's keyed hash of a key (its values, whatever the items are named): the same person's ID number
    asked of two resources hashes the same, so the auditor finds both. Each thread keeps its keyed HMAC state for
    a second (building it reads the key ring)."""
    clock = time.monotonic()
    cached: tuple[float, int, Callable[[bytes], str]] | None = getattr(_hashers, "current", None)
    if cached is None or clock >= cached[0] or cached[1] != _generation[0]:
        cached = (clock + HASHER_SECONDS, _generation[0], crypto.equality_hasher(KEY_HASH_PURPOSE))
        _hashers.current = cached
    return cached[2]("\x1f".join(values).encode("utf-8"))


KEY_VALUES_MAX = 4  # values of one key the auditor may give (their orders are all tried: 24 at most)


def key_hash_candidates(values: str | Sequence[str]) -> list[str]:
    """The hashes the trail may hold for a key, under every key of the ring (the auditor's search). A key of several
    items is given as its values in any order: the hash follows the key items' order in the resource, which the
    auditor need not know, so every order is tried."""
    given = [values] if isinstance(values, str) else list(values)
    cleaned = [value.strip() for value in given]
    cleaned = [value.upper() if _ID_WITH_LOWER_X.fullmatch(value) else value for value in cleaned]
    found: list[str] = []
    for order in dict.fromkeys(permutations(cleaned)):
        found += crypto.equality_hash_candidates("\x1f".join(order), KEY_HASH_PURPOSE)
    return found


# ------------------------------------------------------------------------------------------------ the steps


@dataclass(frozen=True)
class _Found:
    grant: SystemGrant
    version: int
    rows: list[dict[str, Any]]


def _served(resource_id: int) -> serving.ServedVersion:
    dataset_id = _dataset_id(resource_id)
    version = serving.served(dataset_id) if dataset_id is not None else None
    if version is None:
        raise GatewayError("NOT_SERVABLE")
    return version


def _find(call: Call, grant: SystemGrant, body: Mapping[str, Any], extra_columns: list[str]) -> _Found:
    """The rows of the key the body names, inside the grant's row filter, with the asked columns (plain)."""
    key = _text_map(body, "key")
    _require_granted(list(key), grant)
    version = _served(call.resource_id)
    key_items = next((items for items in version.key_items if set(items) == set(key)), None)
    if key_items is None:
        usable = ["+".join(items) for items in version.key_items if set(items) <= grant.items]
        raise GatewayError("KEY_NOT_SUPPORTED", detail="、".join(key), keys="、".join(usable) or "无")
    values = tuple(key[name] for name in key_items)
    call.key_hash = key_hash(values)
    columns = set(extra_columns) | set(grant.row_filter)
    rows = version.rows_for(key_items, values, columns=columns, limit=ROW_LIMIT + 1)
    inside = [row for row in rows if _in_filter(row, grant.row_filter)]
    return _Found(grant=grant, version=version.version, rows=inside)


def _in_filter(row: Mapping[str, Any], row_filter: Mapping[str, frozenset[str]]) -> bool:
    return all(row.get(name) is not None and str(row[name]) in allowed for name, allowed in row_filter.items())


def _masked(row: Mapping[str, Any], items: list[str], masking: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in items:
        value = row.get(name)
        rule = masking.get(name)
        out[name] = value if rule is None or value is None else mask_value(str(value), rule)
    return out


def lookup(call: Call, body: Mapping[str, Any], *, today: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The granted items of the rows the key names, masked as the grant says."""
    items_holder: list[str] = []

    def produce(found: _Found) -> dict[str, Any]:
        rows = found.rows[:ROW_LIMIT]
        return {
            "count": len(rows),
            "truncated": len(found.rows) > ROW_LIMIT,
            "rows": [_masked(row, items_holder, found.grant.masking) for row in rows],
        }

    def columns(grant: SystemGrant) -> list[str]:
        items_holder[:] = _asked_items(body, grant)
        return items_holder

    return _answer(call, body, today=today, now=now, columns=columns, produce=produce)


def verify(call: Call, body: Mapping[str, Any], *, today: dt.date, now: dt.datetime) -> dict[str, Any]:
    """Per claimed item: match, mismatch or no record; never a value."""
    claims: dict[str, str] = {}

    def columns(grant: SystemGrant) -> list[str]:
        claims.update(_text_map(body, "values"))
        _require_granted(list(claims), grant)
        return list(claims)

    def produce(found: _Found) -> dict[str, Any]:
        verdicts: dict[str, str] = {}
        for name, claimed in claims.items():
            if not found.rows:
                verdicts[name] = Verdict.NO_RECORD
            elif any(_same(row.get(name), claimed) for row in found.rows):
                verdicts[name] = Verdict.MATCH
            else:
                verdicts[name] = Verdict.MISMATCH
        if not found.rows:
            result = Verdict.NO_RECORD
        else:
            result = Verdict.MATCH if all(v == Verdict.MATCH for v in verdicts.values()) else Verdict.MISMATCH
        return {"result": str(result), "items": {name: str(v) for name, v in verdicts.items()}}

    return _answer(call, body, today=today, now=now, columns=columns, produce=produce)


def _same(stored: Any, claimed: str) -> bool:
    if stored is None:
        return False
    text = str(stored).strip()
    return text == claimed or (_ID_WITH_LOWER_X.fullmatch(text) is not None and text.upper() == claimed)


def _answer(
    call: Call,
    body: Mapping[str, Any],
    *,
    today: dt.date,
    now: dt.datetime,
    columns: Callable[[SystemGrant], list[str]],
    produce: Callable[[_Found], dict[str, Any]],
) -> dict[str, Any]:
    grant = _granted(call, body, today)
    wanted = columns(grant)
    found = _find(call, grant, body, wanted)
    payload = produce(found)
    call.items = sorted(wanted)
    call.rows = len(found.rows[:ROW_LIMIT])
    _admit(call, found.grant, today=today, now=now)
    return {
        "resource": call.resource_id,
        "scenario": call.scenario_id,
        "grant": found.grant.grant_id,
        "version": found.version,
        **payload,
    }


def _granted(call: Call, body: Mapping[str, Any], today: dt.date) -> SystemGrant:
    call.scenario_id = _scenario(body)
    grant = _cached_grant(call.caller, call.scenario_id, call.resource_id, _grant_choice(body), today)
    if grant is None:
        raise GatewayError("NO_GRANT")
    call.grant_id = grant.grant_id
    return grant


def _admit(call: Call, grant: SystemGrant, *, today: dt.date, now: dt.datetime) -> None:
    """Record the call with its admission; raise the refusal the admission answers."""
    refusal = record_call(call, "OK", admit=True, today=today, now=now)
    if refusal == CallRefusal.QUOTA:
        reset = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 0))
        raise GatewayError("QUOTA_EXCEEDED", detail=str(grant.daily_quota), reset=reset.isoformat(timespec="minutes"))
    if refusal == CallRefusal.GONE:
        # Whatever ended (the grant, the system, the credential), ask afresh on the next call.
        _forget_grants(call.caller)
        forget_caller(call.caller)
        call.ended = True
        raise GatewayError("NO_GRANT")


# ------------------------------------------------------------------------------------------------ paged query

PAGE_SIZE = 100
PAGE_SIZE_MAX = 500
SCAN_ROWS = 10_000  # rows one call reads at most: a selective filter returns a short page and the cursor to go on
_CURSOR = re.compile(r"(\d{1,18})\.(\d{1,18})")


def _page_size(body: Mapping[str, Any]) -> int:
    value = body.get("page_size", PAGE_SIZE)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PAGE_SIZE_MAX:
        raise GatewayError("INVALID_REQUEST", detail=f"page_size 应为 1–{PAGE_SIZE_MAX} 的整数")
    return value


def _filters(body: Mapping[str, Any], grant: SystemGrant) -> dict[str, frozenset[str]]:
    value = body.get("filters") or {}
    if not isinstance(value, dict):
        raise GatewayError("INVALID_REQUEST", detail="filters 应为“信息项名称: 值或值的列表”的对象")
    _require_granted(list(value), grant)
    filters: dict[str, frozenset[str]] = {}
    for item, wanted in value.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if (
            not values
            or len(values) > 100
            or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values)
        ):
            raise GatewayError("INVALID_REQUEST", detail=f"filters 中“{item}”应为文本或 1–100 个文本的列表")
        filters[str(item)] = frozenset(str(v).strip() for v in values)
    return filters


def _after(body: Mapping[str, Any], version: int) -> int:
    value = body.get("after")
    if value is None or value == "":
        return 0
    match = _CURSOR.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise GatewayError("INVALID_REQUEST", detail="after 应为上一页返回的 next")
    if int(match[1]) != version:
        raise GatewayError("CURSOR_EXPIRED")
    return int(match[2])


def query(call: Call, body: Mapping[str, Any], *, today: dt.date, now: dt.datetime) -> dict[str, Any]:
    """A page of the granted rows that match equality filters on granted items, in the version's row order, with
    the cursor of the next page (keyset pagination on the key index's row ids: no OFFSET, the same cost on any
    page). One call reads at most SCAN_ROWS rows; a page may hold fewer than `page_size` rows while `next` is set."""
    grant = _granted(call, body, today)
    items = _asked_items(body, grant)
    filters = _filters(body, grant)
    page_size = _page_size(body)
    version = _served(call.resource_id)
    last = _after(body, version.version)
    columns = set(items) | set(filters) | set(grant.row_filter)
    matched: list[dict[str, Any]] = []
    scanned, exhausted = 0, False
    while len(matched) < page_size and scanned < SCAN_ROWS:
        chunk = version.rows_after(last, min(1_000, SCAN_ROWS - scanned), columns=columns)
        if not chunk:
            exhausted = True
            break
        for row_id, row in chunk:
            last, scanned = row_id, scanned + 1
            if _in_filter(row, grant.row_filter) and _in_filter(row, filters):
                matched.append(row)
                if len(matched) == page_size:
                    break
    call.items = sorted(items)
    call.rows = len(matched)
    _admit(call, grant, today=today, now=now)
    return {
        "resource": call.resource_id,
        "scenario": call.scenario_id,
        "grant": grant.grant_id,
        "version": version.version,
        "count": len(matched),
        "rows": [_masked(row, items, grant.masking) for row in matched],
        "next": None if exhausted else f"{version.version}.{last}",
    }


# ------------------------------------------------------------------------------------------------ the record


def record_call(call: Call, outcome: str, *, admit: bool, today: dt.date, now: dt.datetime) -> str | None:
    """Admit (when asked) and audit the call; committed on return (`recording`). Answers the admission's refusal,
    if any (the call is then audited with the refusal as its outcome)."""
    return recording.record(Pending(call, outcome, admit=admit, today=today, now=now))


SERVICES: dict[str, Callable[..., dict[str, Any]]] = {
    Service.LOOKUP: lookup,
    Service.VERIFY: verify,
    Service.QUERY: query,
}
