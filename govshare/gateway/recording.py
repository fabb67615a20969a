"""Recording gateway calls: each call's admission (`sharing.system_grants.admit_system_call`: the grant and
everything behind it checked again, the day's quota counted) and its audit row, committed before the answer leaves.

At machine rates a transaction per call would make every call wait for its own commit, and on SQLite for the one
database write lock (whose busy handler sleeps). So each process has one writer thread that takes every call waiting
at that moment and records them in one transaction (group commit): one admission statement per grant (per call when
the quota is nearly used up), one multi-row INSERT of their audit rows, one commit; then each waiting call learns its
outcome. Under light load a batch is one call. A call made inside an open transaction (tests, a management command)
is recorded in it, inline. The chain is sealed in batches after the commit, as for every audit row.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction

from govshare.audit.services import AuditEntry, record_entries
from govshare.gateway.callers import Caller
from govshare.gateway.choices import Service
from govshare.gateway.models import CallHour
from govshare.sharing.system_grants import CallRefusal, admit_system_call

logger = logging.getLogger(__name__)

BATCH_LIMIT = 500  # calls in one transaction at most
WAIT_SECONDS = 30.0  # a call waits this long for its record before answering that it could not be recorded


@dataclass
class Call:
    """One call as it is audited."""

    request_id: str
    caller: Caller
    service: str
    resource_id: int
    started: float = field(default_factory=time.perf_counter)
    scenario_id: int | None = None
    grant_id: int | None = None
    items: list[str] = field(default_factory=list)
    rows: int = 0
    key_hash: str = ""
    # How much of the day's quota the call uses (a batch's run counts its keys; a batch's status and download
    # are checked against the grant without counting), and the batch it concerns, with its number of keys.
    units: int = 1
    batch_id: int | None = None
    keys: int | None = None
    recorded: bool = False
    # The admission found the grant or what is behind it ended (the credential may be what ended).
    ended: bool = False


class NotRecorded(Exception):
    """The call could not be recorded (the database failed or did not answer in time): it must not be answered."""


def _held_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class Pending:
    call: Call
    outcome: str
    admit: bool
    today: dt.date
    now: dt.datetime
    refusal: str | None = None
    failed: bool = False
    # Released by the writer once the call is recorded (or failed). A held lock rather than an Event: at machine
    # rates the Event's condition variable (a lock per wait, notify under another) cost a quarter of the writer's time.
    done: threading.Lock = field(default_factory=_held_lock)


ACTIONS: dict[str, str] = {
    Service.LOOKUP: "gateway.call.lookup",
    Service.VERIFY: "gateway.call.verify",
    Service.QUERY: "gateway.call.query",
    Service.BATCH_SUBMIT: "gateway.batch.submit",
    Service.BATCH_RUN: "gateway.batch.run",
    Service.BATCH_STATUS: "gateway.batch.status",
    Service.BATCH_DOWNLOAD: "gateway.batch.download",
    Service.CALL: "gateway.call.proxy",
}


def _entry(pending: Pending) -> AuditEntry:
    call = pending.call
    batch = {"batch": call.batch_id, "keys": call.keys} if call.batch_id is not None else {}
    if call.key_hash:
        object_type, object_id = "gateway.key", call.key_hash
    elif call.batch_id is not None:
        object_type, object_id = "gateway.comparisonbatch", str(call.batch_id)
    else:
        object_type, object_id = "catalog.resource", str(call.resource_id)
    return AuditEntry(
        actor_name=call.caller.audit_name,
        action=ACTIONS.get(call.service, "gateway.call.query"),
        object_type=object_type,
        object_id=object_id,
        object_repr=f"信息资源 {call.resource_id}",
        extra={
            **batch,
            "request_id": call.request_id,
            "system": call.caller.system_code,
            "scenario": call.scenario_id,
            "grant": call.grant_id,
            "resource": call.resource_id,
            "items": call.items,
            "rows": call.rows,
            "latency_ms": round((time.perf_counter() - call.started) * 1000, 2),
            "outcome": pending.outcome,
            "ok": pending.outcome == "OK",
        },
    )


def _write(batch: list[Pending]) -> None:
    """Admit and audit the batch in the current transaction."""
    _admit(batch)
    record_entries([_entry(pending) for pending in batch])
    _count_hours(batch)


def _admit(batch: list[Pending]) -> None:
    """The batch's calls admitted: the calls of one system on one grant (with one credential, on one day) in one
    statement when the quota has room for all of them; one by one otherwise, so that exactly the calls beyond the
    quota are refused."""
    groups: dict[tuple[int, int, int, dt.date], list[Pending]] = {}
    for pending in batch:
        call = pending.call
        if pending.admit and call.grant_id is not None:
            key = (call.grant_id, call.caller.system_id, call.caller.application_id, pending.today)
            groups.setdefault(key, []).append(pending)
    for (grant_id, system_id, application_id, today), calls in groups.items():
        counted = [pending for pending in calls if pending.call.units > 0]
        one_by_one = calls
        if len(counted) > 1:
            refusal = admit_system_call(
                grant_id,
                system_id=system_id,
                application_id=application_id,
                today=today,
                now=max(pending.now for pending in counted),  # the credential judged at the latest call's time
                units=sum(pending.call.units for pending in counted),
            )
            if refusal == CallRefusal.GONE:
                for pending in calls:
                    _refuse(pending, refusal)
                continue
            if refusal is None:  # all counted; the calls that count nothing are still checked
                one_by_one = [pending for pending in calls if pending.call.units == 0]
        for pending in one_by_one:
            refusal = admit_system_call(
                grant_id,
                system_id=system_id,
                application_id=application_id,
                today=today,
                now=pending.now,
                units=pending.call.units,
            )
            if refusal is not None:
                _refuse(pending, refusal)


def _refuse(pending: Pending, refusal: str) -> None:
    pending.refusal = refusal
    pending.outcome = "QUOTA_EXCEEDED" if refusal == CallRefusal.QUOTA else "NO_GRANT"
    pending.call.rows = 0


_COUNT_HOUR = (
    "INSERT INTO {table} (system_id, hour, calls, refused) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (system_id, hour) DO UPDATE SET calls = {table}.calls + excluded.calls,"
    " refused = {table}.refused + excluded.refused"
)


def _count_hours(batch: list[Pending]) -> None:
    """Each system's calls and refusals of the batch added to its hour's counts (the usual use alerts compare with)."""
    counts: dict[tuple[int, dt.datetime], list[int]] = {}
    for pending in batch:
        hour = pending.now.replace(minute=0, second=0, microsecond=0)
        count = counts.setdefault((pending.call.caller.system_id, hour), [0, 0])
        count[0] += 1
        count[1] += pending.outcome != "OK"
    field = CallHour._meta.get_field("hour")
    sql = _COUNT_HOUR.format(table=connection.ops.quote_name(CallHour._meta.db_table))
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (system, field.get_db_prep_value(hour, connection), calls, refused)
                for (system, hour), (calls, refused) in counts.items()
            ],
        )


class _Turns:
    """On a SQLite file, the writers of the server's processes take turns through an advisory file lock beside the
    database: a writer waiting for another process's commit then wakes the moment it ends, where SQLite's own busy
    handler would sleep for growing intervals (1, 2, 5, 10 ms…) and hold up every call waiting on that writer."""

    def __init__(self, database: str = "") -> None:
        self._database = database  # the SQLite file (default: the connection's)
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        fd = self._file()
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _file(self) -> int | None:
        if self._pid == os.getpid():
            return self._fd
        self._fd, self._pid = None, os.getpid()
        name = self._database or (
            str(connection.settings_dict.get("NAME") or "") if connection.vendor == "sqlite" else ""
        )
        if name and name != ":memory:" and "mode=memory" not in name:
            self._fd = os.open(f"{name}.writers", os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd


_turn = _Turns()


class _Writer:
    """The process's writer thread (started on first use, again after a fork)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = 0
        self._thread: threading.Thread | None = None

    def submit(self, pending: Pending) -> None:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._queue = queue.SimpleQueue()
                    self._thread = threading.Thread(target=self._run, name="gateway-recorder", daemon=True)
                    self._thread.start()
                    self._pid = os.getpid()
        self._queue.put(pending)

    def stop(self) -> None:
        """End the writer thread once the calls queued before are recorded, closing its database connection (a test
        database must be dropped; a process winding down); the next call starts a new one."""
        with self._lock:
            if self._pid != os.getpid() or self._thread is None:
                return
            self._queue.put(None)
            self._pid = 0
            thread, self._thread = self._thread, None
        thread.join(timeout=WAIT_SECONDS)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                connection.close()
                return
            batch = [first]
            while len(batch) < BATCH_LIMIT:
                try:
                    queued = self._queue.get_nowait()
                except queue.Empty:
                    break
                if queued is None:
                    self._queue.put(None)  # after this batch
                    break
                batch.append(queued)
            try:
                with _turn(), transaction.atomic():
                    _write(batch)
            except Exception:
                logger.exception("recording %s gateway calls failed; they are refused", len(batch))
                for pending in batch:
                    pending.failed = True
                try:
                    connection.close()
                except DatabaseError:
                    logger.exception("closing the recorder's database connection failed")
            finally:
                for pending in batch:
                    pending.done.release()


_writer = _Writer()


def stop_writer() -> None:
    _writer.stop()


def record(pending: Pending) -> str | None:
    """Record the call (its admission and audit row) and answer the admission's refusal, if any. Raises
    NotRecorded when it could not be recorded: the call must then not be answered with data."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            _write([pending])
    else:
        _writer.submit(pending)
        if not pending.done.acquire(timeout=WAIT_SECONDS) or pending.failed:
            raise NotRecorded(pending.call.request_id)
    pending.call.recorded = True
    return pending.refusal
