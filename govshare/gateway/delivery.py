"""Delivery of a grant's extract on a schedule (库表对接: into the consumer's own database).

The extract of a version is what the grant gives, computed on Arrow batches and in DuckDB, never row by row in
Python: the version's rows decrypted on the server, restricted to the grant's row filter and items, masked as the
grant says (`datasets.reading.open_version`, the one read every preview, download and export goes through), keyed by
the resource's key items. When every key item is granted and shown unmasked, the key columns are the target's
primary key; otherwise a `_key` column (the key's HMAC-SM3 under the platform's key ring, a purpose of its own per
resource) stands in for them, so a masked or withheld key never leaves in plain text.

A run delivers the dataset's current version: the first run (or one whose previous version was cleaned up) in full,
later runs as the difference between the last delivered version's extract and the current one by key (DuckDB: a
full outer join giving upserts and the keys that left). The target applies it in one transaction
(`delivery_targets`), and only after its commit is the delivered version recorded: a run interrupted after the
commit is retried from the same version and re-applies the same upserts and deletions (no duplicate rows, by key).

Before each run the grant is checked active (revoked, expired, lapsed → the run is refused and the delivery is
stopped). Each run is a `DeliveryRun` (rows upserted and deleted, status, error without any value) and an audit row
`gateway.delivery.run` (counts only).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog.choices import UpdateCycle
from govshare.core import crypto
from govshare.core.crypto_arrow import hmac_arrow_column
from govshare.core.errors import FieldProblem, NotFound, ValidationFailed
from govshare.dataplane.encryption import decrypted, hmac_column, stored_columns
from govshare.dataplane.engines import connect_duckdb
from govshare.dataplane.raw import SourceError
from govshare.dataplane.tables import DatasetTable, VersionVacuumed
from govshare.dataplane.transform import quote_identifier
from govshare.datasets import leases, reading, scopes, serving
from govshare.datasets.models import Dataset
from govshare.datasets.scopes import ReadScope
from govshare.gateway import delivery_targets
from govshare.gateway.choices import DeliveryKind, DeliverySchedule, DeliveryStatus, RunMode, RunStatus
from govshare.gateway.jobs import RUN_DELIVERY, SWEEP_DELIVERIES
from govshare.gateway.models import Delivery, DeliveryRun
from govshare.jobs import registry
from govshare.sharing.choices import DeliveryMethod
from govshare.sharing.grants import grant_is_active, resource_shareable, scope_terms
from govshare.sharing.models import Grant

__all__ = [
    "ACTION_REGISTER",
    "ACTION_RUN",
    "ACTION_STOP",
    "HASHED_KEY",
    "RUN_DELIVERY",
    "SWEEP_DELIVERIES",
    "DeliveryInput",
    "Extract",
    "changes",
    "deliveries_for",
    "extract",
    "get_delivery",
    "register_delivery",
    "request_run",
    "run_delivery",
    "run_delivery_job",
    "runs_of",
    "stop_delivery",
    "sweep_deliveries",
]

logger = logging.getLogger(__name__)

ACTION_REGISTER = "gateway.delivery.register"
ACTION_RUN = "gateway.delivery.run"
ACTION_STOP = "gateway.delivery.stop"
HASHED_KEY = "_key"
SECRET_CONTEXT = "gateway.delivery.target"  # noqa: S105 (associated data of the password's encryption)
# A run still `running` after this long was interrupted (its process died): the next run may start.
STALE_RUN = dt.timedelta(hours=2)
UPSERT_BATCH_ROWS = 65_536

GRANT_ENDED = gettext_noop("共享授权已撤销、过期或未按期复核，交付已停止")
NOT_TABLE_GRANT = gettext_noop("该共享授权的交付方式不是“%(method)s”，不能登记这种交付")
NO_KEY = gettext_noop("该资源没有可作为主键的信息项（来源的主键或身份证号等标识项），不能按主键交付")
NO_VERSION = gettext_noop("该资源还没有可交付的数据版本")
STILL_RUNNING = gettext_noop("上一次执行尚未结束")
RUN_INTERRUPTED = gettext_noop("执行中断（进程在执行过程中退出），目标表保持中断前的数据")
SENTENCES = (GRANT_ENDED, NOT_TABLE_GRANT, NO_KEY, NO_VERSION, STILL_RUNNING, RUN_INTERRUPTED)

_CYCLES: dict[str, dt.timedelta] = {
    UpdateCycle.REALTIME: dt.timedelta(hours=1),
    UpdateCycle.DAILY: dt.timedelta(days=1),
    UpdateCycle.WEEKLY: dt.timedelta(days=7),
    UpdateCycle.MONTHLY: dt.timedelta(days=30),
    UpdateCycle.QUARTERLY: dt.timedelta(days=91),
    UpdateCycle.HALF_YEARLY: dt.timedelta(days=182),
    UpdateCycle.YEARLY: dt.timedelta(days=365),
    UpdateCycle.IRREGULAR: dt.timedelta(days=1),  # looked at daily: a run without a new version writes nothing
}
_INTERVALS: dict[str, dt.timedelta] = {
    DeliverySchedule.HOURLY: dt.timedelta(hours=1),
    DeliverySchedule.DAILY: dt.timedelta(days=1),
    DeliverySchedule.WEEKLY: dt.timedelta(days=7),
    DeliverySchedule.MONTHLY: dt.timedelta(days=30),
}


# ------------------------------------------------------------------------------------------------ the extract


@dataclass(frozen=True)
class Terms:
    """What a grant gives a delivery today, and how the extract is keyed."""

    items: list[str]  # granted items, in the resource's order
    masking: dict[str, str]
    row_filter: dict[str, frozenset[str]]
    key_items: tuple[str, ...]  # the resource's key items (plain, to key the extract)
    hashed: bool  # the key leaves as `_key` (a key item is masked, withheld or not granted)

    @property
    def primary_key(self) -> list[str]:
        return [HASHED_KEY] if self.hashed else list(self.key_items)


def _key_items(dataset: Dataset) -> tuple[str, ...]:
    keys = serving.lookup_keys(dataset)
    if not keys:
        raise ValidationFailed([FieldProblem("grant", gettext(NO_KEY))])
    return keys[0]


def terms_of(grant: Grant, dataset: Dataset) -> Terms:
    granted, masking = scope_terms(grant)
    order = [item.name for item in grant.resource.items.order_by("position")]
    items = [name for name in order if name in granted]
    key_items = _key_items(dataset)
    shown = [name for name in items if masking.get(name) is None]
    hashed = not all(name in shown for name in key_items)
    row_filter = {name: frozenset(str(v) for v in values) for name, values in grant.row_filter.items()}
    return Terms(items, masking, row_filter, key_items, hashed)


@dataclass
class Extract:
    """A version's extract, keyed: `batches` (the delivered columns, primary key first), its `schema`."""

    version: int
    schema: pa.Schema
    batches: pa.RecordBatchReader
    lease: object | None = field(default=None, repr=False)


def _hash_purpose(resource_id: int) -> str:
    return f"gateway.delivery.key.{resource_id}"


def _keyed(reader: pa.RecordBatchReader, terms: Terms, resource_id: int) -> pa.RecordBatchReader:
    """The plain extract (items ∪ key items, key items unmasked) as delivered: `_key` computed from the plain key
    when hashed, then the key items masked as the grant says and those not granted dropped."""
    if not terms.hashed:
        names = [*terms.key_items, *[n for n in terms.items if n not in terms.key_items]]
        names = [n for n in names if n in reader.schema.names]
        schema = pa.schema([reader.schema.field(n) for n in names])
        return pa.RecordBatchReader.from_batches(schema, (batch.select(names) for batch in reader))
    ring = crypto.current_key_ring()
    place = _hash_purpose(resource_id)
    key_rules = {name: rule for name, rule in terms.masking.items() if name in terms.key_items}
    delivered = [n for n in terms.items if n in reader.schema.names]

    def keyed(batch: pa.RecordBatch) -> pa.RecordBatch:
        parts = [pc.cast(batch.column(name), pa.string()) for name in terms.key_items]
        joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
        key = hmac_arrow_column(joined, ring, place)
        return pa.RecordBatch.from_arrays([key, *[batch.column(n) for n in delivered]], [HASHED_KEY, *delivered])

    plain_schema = pa.schema([pa.field(HASHED_KEY, pa.string()), *[reader.schema.field(n) for n in delivered]])
    with_key = pa.RecordBatchReader.from_batches(plain_schema, (keyed(batch) for batch in reader))
    return reading.masked(with_key, key_rules)


def extract(dataset: Dataset, terms: Terms, version: int, reader: User, *, holder: str) -> Extract:
    """The version's extract under the terms (NotFound when the version is gone). The caller closes `batches` and
    releases `lease`."""
    opened = reading.open_version(dataset, _scope(terms, reader), version=version, holder=holder)
    batches = _keyed(opened.batches, terms, dataset.resource_id)
    return Extract(opened.number, batches.schema, batches, opened.lease)


def _release(found: Extract | None) -> None:
    if found is None:
        return
    found.batches.close()
    if found.lease is not None:
        leases.release(found.lease)  # type: ignore[arg-type]


@dataclass
class Changes:
    full: bool
    schema: pa.Schema
    upserts: pa.RecordBatchReader
    deletes: pa.Table | None  # the key columns of the rows that left (None: full)
    close: list[Extract] = field(default_factory=list)


def _unique(relation: str, keys: Sequence[str]) -> str:
    """One row per key (the first the version holds), none with an empty key part."""
    listed = ", ".join(quote_identifier(k) for k in keys)
    present = " AND ".join(f"{quote_identifier(k)} IS NOT NULL" for k in keys)
    return f"SELECT DISTINCT ON ({listed}) * FROM {relation} WHERE {present}"  # noqa: S608 (quoted names)


def _plain_key(
    plain: pa.RecordBatch | pa.Table, terms: Terms, resource_id: int, ring: crypto.KeyRing
) -> list[pa.Array]:
    """The delivered key of plain rows: the key items themselves, or `_key` (their HMAC)."""
    if not terms.hashed:
        return [plain.column(name) for name in terms.key_items]
    parts = [pc.cast(plain.column(name), pa.string()) for name in terms.key_items]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    return [hmac_arrow_column(joined, ring, _hash_purpose(resource_id))]


def _compared(stored_p: pa.Schema, stored_n: pa.Schema, names: Sequence[str]) -> dict[str, str] | None:
    """Each needed column → the stored column two versions are compared on (an encrypted column by its HMAC
    column: fresh ciphertexts always differ), or None when a column cannot be compared stored (missing from the
    previous version, or encrypted without a hash): the extracts are then compared instead."""
    encrypted = {column.name: column for column in stored_columns(stored_n)}
    compared: dict[str, str] = {}
    for name in names:
        if name not in stored_p.names:
            return None
        column = encrypted.get(name)
        if column is None:
            compared[name] = name
            continue
        hashed = hmac_column(name)
        if not column.searchable or hashed not in stored_n.names or hashed not in stored_p.names:
            return None
        compared[name] = hashed
    return compared


def _relation(
    duck: duckdb.DuckDBPyConnection, table: DatasetTable, version: int, columns: list[str], name: str
) -> None:
    """A version's stored rows as the view `name` of the connection: its Parquet files read by DuckDB itself (each
    scan reads only the columns and row groups it needs), or the table's own reader on an object store."""
    if table.storage_options is None:
        listed = ", ".join("'" + path.replace("'", "''") + "'" for path in table.files(version))
        selected = ", ".join(quote_identifier(c) for c in columns)
        duck.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {selected} "  # noqa: S608 (quoted names and paths)
            f"FROM read_parquet([{listed}], union_by_name = true)"
        )
    else:
        reader = table.read(version, columns=columns)
        duck.register(f"{name}_reader", reader)
        duck.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_reader")  # noqa: S608
        duck.unregister(f"{name}_reader")


def _stored_changes(
    dataset: Dataset, terms: Terms, scope: ReadScope, duck: duckdb.DuckDBPyConnection, *, since: int, version: int
) -> Changes | None:
    """The changes from the versions' stored rows: each version's keys with a hash of the stored columns the grant
    needs (an encrypted column by its HMAC), compared by key in DuckDB; then only the changed rows read again,
    decrypted, filtered, masked and keyed. None when the stored versions cannot be compared (the caller compares
    the extracts)."""
    table = DatasetTable(dataset.table_uri)
    stored_p, stored_n = table.schema(since), table.schema(version)
    needed = [n for n in stored_n.names if n in set(terms.items) | set(terms.key_items) | set(terms.row_filter)]
    if any(name not in needed for name in terms.key_items):
        return None
    compared = _compared(stored_p, stored_n, needed)
    if compared is None:
        return None
    keys = [compared[name] for name in terms.key_items]
    others = sorted({c for c in compared.values() if c not in keys})
    read_n = [n for n in stored_n.names if n in needed or n in compared.values()]
    read_p = [n for n in stored_p.names if n in compared.values() or n in terms.key_items]
    _relation(duck, table, version, read_n, "delivery_vn")
    _relation(duck, table, since, read_p, "delivery_vp")
    key_list = ", ".join(quote_identifier(k) for k in keys)
    present = " AND ".join(f"{quote_identifier(k)} IS NOT NULL" for k in keys)
    digest = f"hash({', '.join(quote_identifier(c) for c in others)})" if others else "0"
    join = " AND ".join(f"n.{quote_identifier(k)} = p.{quote_identifier(k)}" for k in keys)
    first = quote_identifier(keys[0])
    listed_n = ", ".join(quote_identifier(c) for c in read_n)
    previous_keys = ", ".join(f"p.{quote_identifier(k)} AS delivery_pk_{i}" for i, k in enumerate(keys))
    # One hash join of the two versions by key, on a hash of each row's compared columns, keeping the current
    # version's whole row for the changed keys (no second scan). A key held by several rows of a version counts as
    # changed (its rows are delivered again; the target does not rewrite an unchanged row).
    duck.execute(
        f"CREATE TEMP TABLE delivery_changed AS SELECT {', '.join(f'n.{quote_identifier(c)}' for c in read_n)}, "  # noqa: S608
        f"{previous_keys}, n.{first} IS NOT NULL AS in_n, p.{first} IS NOT NULL AS in_p "
        f"FROM (SELECT {listed_n}, {digest} AS delivery_h FROM delivery_vn WHERE {present}) AS n "
        f"FULL JOIN (SELECT {key_list}, {digest} AS delivery_h FROM delivery_vp WHERE {present}) AS p ON {join} "
        f"WHERE n.{first} IS NULL OR p.{first} IS NULL OR n.delivery_h <> p.delivery_h"
    )
    new_rows = duck.sql(
        f"SELECT DISTINCT ON ({key_list}) {listed_n} FROM delivery_changed WHERE in_n"  # noqa: S608
    ).to_arrow_reader(UPSERT_BATCH_ROWS)
    upserts = _keyed(reading.scoped_rows(new_rows, stored_n, dataset.resource_id, scope), terms, dataset.resource_id)
    up = upserts.read_all()
    gone = ", ".join(f"delivery_pk_{i} AS {quote_identifier(k)}" for i, k in enumerate(keys))
    if keys == list(terms.key_items):  # the key is stored plain: the previous rows' keys are at hand
        old_keys = duck.sql(f"SELECT DISTINCT {gone} FROM delivery_changed WHERE in_p").to_arrow_table()  # noqa: S608
    else:
        on_p = " AND ".join(f"v.{quote_identifier(k)} = c.delivery_pk_{i}" for i, k in enumerate(keys))
        listed_p = ", ".join(f"v.{quote_identifier(c)}" for c in terms.key_items)
        old_keys = duck.sql(
            f"SELECT DISTINCT ON ({', '.join(f'v.{quote_identifier(k)}' for k in keys)}) {listed_p} "  # noqa: S608
            f"FROM delivery_vp AS v JOIN delivery_changed AS c ON {on_p} WHERE c.in_p"
        ).to_arrow_table()
    plain_old = decrypted(pa.RecordBatchReader.from_batches(old_keys.schema, old_keys.to_batches()), stored_p,
                          dataset.resource_id).read_all()  # fmt: skip
    ring = crypto.current_key_ring()
    pk = terms.primary_key
    left = pa.table(_plain_key(plain_old, terms, dataset.resource_id, ring), names=pk)
    duck.register("delivery_left", left)
    duck.register("delivery_up", up.select(pk))
    on = " AND ".join(f"l.{quote_identifier(k)} = u.{quote_identifier(k)}" for k in pk)
    deletes = duck.sql(f"SELECT l.* FROM delivery_left AS l ANTI JOIN delivery_up AS u ON {on}").to_arrow_table()  # noqa: S608
    duck.unregister("delivery_left")
    duck.unregister("delivery_up")
    return Changes(False, up.schema, pa.RecordBatchReader.from_batches(up.schema, up.to_batches()), deletes)


def _scope(terms: Terms, reader: User) -> ReadScope:
    """The read scope of an extract: the grant's items and the key items, its rows, its masking (the key items
    left plain when the key leaves hashed: `_keyed` masks them after hashing)."""
    masking = dict(terms.masking)
    if terms.hashed:
        masking = {name: rule for name, rule in terms.masking.items() if name not in terms.key_items}
    return ReadScope(
        reader=reader,
        masking=masking,
        items=frozenset(terms.items) | frozenset(terms.key_items),
        rows_where=terms.row_filter,
        purpose="数据交付",
    )


_RELATIONS = (
    "delivery_n",
    "delivery_p",
    "delivery_hn",
    "delivery_hp",
    "delivery_changed",
    "delivery_vn",
    "delivery_vp",
)


def _drop_relations(duck: duckdb.DuckDBPyConnection) -> None:
    """The connection's temporary views and tables of a run (the process's DuckDB database outlives it)."""
    for name in _RELATIONS:
        for kind in ("VIEW", "TABLE"):
            try:
                duck.execute(f"DROP {kind} IF EXISTS {name}")
            except duckdb.CatalogException:
                continue


@contextmanager
def changes(
    dataset: Dataset, terms: Terms, reader: User, *, since: int | None, version: int, holder: str
) -> Iterator[Changes]:
    """The rows to upsert and the keys to delete to bring a target holding the extract of `since` (None: nothing)
    to the extract of `version`. Falls back on a full run when `since`'s version was cleaned up."""
    keys = terms.primary_key
    duck = connect_duckdb()
    current = previous = None
    try:
        if since is not None and since != version:
            try:
                with (
                    leases.hold_version(dataset, since, holder=holder),
                    leases.hold_version(dataset, version, holder=holder),
                ):
                    stored = _stored_changes(dataset, terms, _scope(terms, reader), duck, since=since, version=version)
            except (NotFound, VersionVacuumed, OSError, ValueError):
                stored, since = None, None
            if stored is not None:
                yield stored
                return
        current = extract(dataset, terms, version, reader, holder=holder)
        if since is not None and since != version:
            try:
                previous = extract(dataset, terms, since, reader, holder=holder)
            except (NotFound, VersionVacuumed):
                previous = None
        duck.register("delivery_current", current.batches)
        if previous is None:
            query = _unique("delivery_current", keys)
            upserts = duck.sql(query).to_arrow_reader(UPSERT_BATCH_ROWS)
            yield Changes(True, current.schema, upserts, None)
            return
        duck.register("delivery_previous", previous.batches)
        duck.execute(f"CREATE TEMP TABLE delivery_n AS {_unique('delivery_current', keys)}")
        duck.execute(f"CREATE TEMP TABLE delivery_p AS {_unique('delivery_previous', keys)}")
        names = current.schema.names
        previous_names = set(previous.schema.names)
        join = " AND ".join(f"n.{quote_identifier(k)} = p.{quote_identifier(k)}" for k in keys)
        differ = [
            f"n.{quote_identifier(c)} IS DISTINCT FROM p.{quote_identifier(c)}"
            for c in names
            if c not in keys and c in previous_names
        ]
        if any(c not in previous_names for c in names):
            differ = ["true"]  # a column the previous extract lacked: every row changes
        changed = " OR ".join(differ) or "false"
        listed = ", ".join(f"n.{quote_identifier(c)}" for c in names)
        absent = f"p.{quote_identifier(keys[0])} IS NULL"
        upsert_query = (
            f"SELECT {listed} FROM delivery_n AS n LEFT JOIN delivery_p AS p ON {join} WHERE {absent} OR {changed}"  # noqa: S608
        )
        key_list = ", ".join(f"p.{quote_identifier(k)}" for k in keys)
        delete_query = f"SELECT {key_list} FROM delivery_p AS p ANTI JOIN delivery_n AS n ON {join}"  # noqa: S608
        deletes = duck.sql(delete_query).to_arrow_table()
        upserts = duck.sql(upsert_query).to_arrow_reader(UPSERT_BATCH_ROWS)
        yield Changes(False, current.schema, upserts, deletes)
    finally:
        _drop_relations(duck)
        duck.close()
        _release(current)
        _release(previous)


# ------------------------------------------------------------------------------------------------ reads


def deliveries_for(user: User) -> QuerySet[Delivery]:
    """The deliveries a user sees: those of its department (the consumer) and those of its department's resources
    (the provider); every one for the platform administrator."""
    deliveries = Delivery.objects.select_related("grant__resource", "grant__scenario", "department")
    if user.is_platform_admin:
        return deliveries
    if user.department_id is None:
        return deliveries.none()
    return deliveries.filter(Q(department_id=user.department_id) | Q(grant__resource__department_id=user.department_id))


def get_delivery(user: User, pk: int) -> Delivery:
    found = deliveries_for(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def runs_of(delivery: Delivery) -> QuerySet[DeliveryRun]:
    return delivery.runs.order_by("-started_at", "-id")


def _require_consumer_admin(user: User, delivery: Delivery) -> None:
    """Only the consumer department's catalogue admin acts on a delivery; anyone else gets 404 (the provider may
    see it, not run it)."""
    if not (user.is_active and user.department_id == delivery.department_id and user.has_role(Role.CATALOG_ADMIN)):
        raise NotFound()


# ------------------------------------------------------------------------------------------------ writes


@dataclass(frozen=True)
class DeliveryInput:
    grant_id: int
    kind: str = DeliveryKind.TABLE
    target_url: str = ""
    table_name: str = ""
    file_format: str = ""
    schedule: str = DeliverySchedule.UPDATE_CYCLE


def _interval(delivery: Delivery) -> dt.timedelta | None:
    if delivery.schedule == DeliverySchedule.MANUAL:
        return None
    if delivery.schedule == DeliverySchedule.UPDATE_CYCLE:
        return _CYCLES.get(delivery.grant.resource.update_cycle, dt.timedelta(days=1))
    return _INTERVALS[delivery.schedule]


def register_delivery(data: DeliveryInput, *, actor: User, now: dt.datetime | None = None) -> Delivery:
    """The consumer department's catalogue admin registers a delivery of one of its department's grants: the target
    URL checked as sources' are (its password kept encrypted, never shown back), the table name checked. The first
    run is due at once (the sweep starts it; "立即执行" does too)."""
    now = now or timezone.now()
    if actor.department_id is None:
        raise NotFound()
    grant = (
        Grant.objects.select_related("resource", "scenario")
        .filter(pk=data.grant_id, department_id=actor.department_id)
        .first()
    )
    if grant is None or not actor.has_role(Role.CATALOG_ADMIN) or not actor.is_active:
        raise NotFound()
    problems: list[FieldProblem] = []
    if data.kind not in DeliveryKind.values:
        problems.append(FieldProblem("kind", gettext("交付方式应为 table 或 file")))
    elif grant.delivery_method != data.kind:
        label = DeliveryMethod(data.kind).label
        problems.append(FieldProblem("kind", gettext(NOT_TABLE_GRANT) % {"method": label}))
    if data.schedule not in DeliverySchedule.values:
        problems.append(FieldProblem("schedule", gettext("执行周期不正确")))
    shown_url, password = "", ""
    if data.kind == DeliveryKind.TABLE:
        try:
            shown_url, password = delivery_targets.split_password(data.target_url.strip())
            delivery_targets.check_target(shown_url, password)
        except SourceError as exc:
            problems.append(FieldProblem("target_url", str(exc)))
        try:
            delivery_targets.check_table_name(data.table_name.strip())
        except SourceError as exc:
            problems.append(FieldProblem("table_name", str(exc)))
    if problems:
        raise ValidationFailed(problems)
    dataset = Dataset.objects.filter(resource=grant.resource).first()
    if dataset is None:
        raise ValidationFailed([FieldProblem("grant", gettext(NO_VERSION))])
    terms = terms_of(grant, dataset)
    with transaction.atomic():
        delivery = Delivery.objects.create(
            grant=grant,
            department_id=grant.department_id,
            kind=data.kind,
            target_url=shown_url,
            target_secret=crypto.encrypt_text(password, SECRET_CONTEXT) if password else "",
            table_name=data.table_name.strip(),
            file_format=data.file_format,
            schedule=data.schedule,
            key_items=terms.primary_key,
            next_run_at=now,
            created_by=actor,
        )
        record_action(
            actor,
            ACTION_REGISTER,
            delivery,
            grant=grant.pk,
            resource=grant.resource.code,
            kind=delivery.kind,
            schedule=delivery.schedule,
        )
    return delivery


def stop_delivery(delivery: Delivery, *, actor: User | None, reason: str) -> Delivery:
    """Stop a delivery (its consumer, or a run that found the grant ended)."""
    if actor is not None:
        _require_consumer_admin(actor, delivery)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.STOPPED, stopped_reason=reason[:300], next_run_at=None
        )
        record_action(actor, ACTION_STOP, delivery, grant=delivery.grant_id, reason=reason[:300])
    delivery.refresh_from_db()
    return delivery


def request_run(delivery: Delivery, *, actor: User) -> None:
    """立即执行: queue a run of the delivery now (its consumer's catalogue admin only)."""
    _require_consumer_admin(actor, delivery)
    registry.enqueue(
        RUN_DELIVERY, delivery.pk, True, task_name=f"delivery-{delivery.pk}-manual", group=f"delivery-{delivery.pk}"
    )


def _grant_ended(delivery: Delivery, today: dt.date) -> bool:
    grant = Grant.objects.select_related("resource", "scenario").get(pk=delivery.grant_id)
    return not grant_is_active(grant, today) or not resource_shareable(grant.resource)


def _start(delivery: Delivery, *, manual: bool, now: dt.datetime) -> DeliveryRun | None:
    """The run's row, unless another run of the delivery is still going (a stale one is marked interrupted)."""
    with transaction.atomic():
        Delivery.objects.select_for_update().filter(pk=delivery.pk).first()
        running = DeliveryRun.objects.filter(delivery=delivery, status=RunStatus.RUNNING)
        running.filter(started_at__lt=now - STALE_RUN).update(
            status=RunStatus.FAILED, error=RUN_INTERRUPTED, finished_at=now
        )
        if running.exists():
            return None
        return DeliveryRun.objects.create(delivery=delivery, manual=manual, started_at=now)


def _finish(
    run: DeliveryRun, *, status: str, now: dt.datetime, error: str = "", delivered: int | None = None
) -> DeliveryRun:
    """Record the run's end (and, on success, the delivered version) with its audit row: counts only."""
    delivery = run.delivery
    with transaction.atomic():
        run.status = status
        run.error = error[:2000]
        run.finished_at = now
        run.save(update_fields=["status", "error", "finished_at", "version", "from_version", "mode",
                                "rows_upserted", "rows_deleted"])  # fmt: skip
        fields: dict[str, object] = {}
        if delivered is not None:
            fields["delivered_version"] = delivered
        interval = _interval(delivery)
        if interval is not None and delivery.status == DeliveryStatus.ACTIVE:
            fields["next_run_at"] = now + interval
        if fields:
            Delivery.objects.filter(pk=delivery.pk).update(**fields)
        record_action(
            None,
            ACTION_RUN,
            delivery,
            grant=delivery.grant_id,
            outcome=status,
            mode=run.mode,
            version=run.version,
            upserted=run.rows_upserted,
            deleted=run.rows_deleted,
        )
    return run


def _spec(delivery: Delivery) -> delivery_targets.TargetSpec:
    password = crypto.decrypt_text(delivery.target_secret, SECRET_CONTEXT) if delivery.target_secret else ""
    url, target = delivery_targets.check_target(delivery.target_url, password)
    return delivery_targets.TargetSpec(url, target, delivery.table_name)


def run_delivery(
    delivery: Delivery, *, manual: bool = False, now: dt.datetime | None = None, today: dt.date | None = None
) -> DeliveryRun | None:
    """Run the delivery once: check the grant, compute the changes since the delivered version, apply them to the
    target in one transaction, record the version delivered. None when another run of it is still going."""
    now = now or timezone.now()
    today = today or scopes.clock()
    delivery = Delivery.objects.select_related("grant__resource", "created_by").get(pk=delivery.pk)
    if delivery.status != DeliveryStatus.ACTIVE:
        return None
    run = _start(delivery, manual=manual, now=now)
    if run is None:
        return None
    run.delivery = delivery
    if _grant_ended(delivery, today):
        stop_delivery(delivery, actor=None, reason=gettext(GRANT_ENDED))
        delivery.status = DeliveryStatus.STOPPED
        return _finish(run, status=RunStatus.REFUSED, now=now, error=GRANT_ENDED)
    try:
        dataset = Dataset.objects.get(resource_id=delivery.grant.resource_id)
        if dataset.current_version is None:
            return _finish(run, status=RunStatus.FAILED, now=now, error=NO_VERSION)
        version = dataset.current_version
        since = delivery.delivered_version
        run.version, run.from_version = version, since
        if since == version:
            run.mode = RunMode.INCREMENTAL
            return _finish(run, status=RunStatus.SUCCEEDED, now=now, delivered=version)
        terms = terms_of(delivery.grant, dataset)
        if terms.primary_key != list(delivery.key_items):
            since = None  # the key changed: deliver afresh
        reader = delivery.created_by or User(username="delivery")
        with changes(dataset, terms, reader, since=since, version=version, holder=f"delivery:{run.pk}") as found:
            run.mode = RunMode.FULL if found.full else RunMode.INCREMENTAL
            applied = delivery_targets.apply_changes(
                _spec(delivery), found.schema, terms.primary_key, found.upserts, found.deletes, full=found.full
            )
        run.rows_upserted, run.rows_deleted = applied.upserted, applied.deleted
        if terms.primary_key != list(delivery.key_items):
            Delivery.objects.filter(pk=delivery.pk).update(key_items=terms.primary_key)
    except (delivery_targets.TargetError, SourceError, ValidationFailed, NotFound) as exc:
        return _finish(run, status=RunStatus.FAILED, now=now, error=str(exc))
    except Exception as exc:
        # Only the kind of the failure, in the run and in the log: an engine's message may quote a value.
        kind = type(exc).__name__
        logger.error("delivery %s run %s failed: %s", delivery.pk, run.pk, kind)
        return _finish(run, status=RunStatus.FAILED, now=now, error=gettext("执行失败（%(kind)s）") % {"kind": kind})
    return _finish(run, status=RunStatus.SUCCEEDED, now=now, delivered=version)


# ------------------------------------------------------------------------------------------------ jobs


def run_delivery_job(delivery_id: int, manual: bool = False) -> int | None:
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return None
    run = run_delivery(delivery, manual=manual)
    return run.pk if run is not None else None


def sweep_deliveries(now: dt.datetime | None = None) -> list[int]:
    """The periodic sweep: queue a run of every active delivery that is due (its next run moved on at once, so the
    next sweep does not queue it again). The deliveries queued."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.ACTIVE, next_run_at__lte=now)
        .order_by("next_run_at", "pk")
        .values_list("pk", flat=True)
    )
    for pk in due:
        Delivery.objects.filter(pk=pk).update(next_run_at=now + STALE_RUN)
        registry.enqueue(RUN_DELIVERY, pk, False, task_name=f"delivery-{pk}-{now:%Y%m%d%H%M}", group=f"delivery-{pk}")
    return due
