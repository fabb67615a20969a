"""Plain multi-row INSERTs for imports of tens of thousands of rows.

Django's bulk_create prepares every value through its field machinery (about 3 µs a value); an import of 20,000
resources with 100,000 items spends most of its time there. Here only the fields that need conversion (dates,
JSON, decimals) go through `get_db_prep_save`; the rest are passed to the driver's executemany as they are.
Model `save()` logic and signals do not run, exactly as with bulk_create; fields stamped or computed on insert
(`auto_now_add`, the audit log's content MAC) are, as bulk_create's `pre_save` does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

from django.db import connection, models
from django.db.models.constants import OnConflict
from django.utils import timezone

_CONVERTED = (models.DateTimeField, models.DateField, models.JSONField, models.DecimalField, models.UUIDField)


def _computed_on_insert(field: models.Field[Any, Any]) -> bool:
    """A field whose value is derived from the row's other values when it is inserted (`value_on_insert`, e.g. the
    audit log's content MAC): computed here too, never taken from the caller."""
    return bool(getattr(field, "computed_on_insert", False))


def _value_getter(field: models.Field[Any, Any], now: Any) -> Callable[[models.Model], Any]:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        stamp = field.get_db_prep_save(now, connection)
        attname = field.attname

        def stamped(obj: models.Model) -> Any:
            setattr(obj, attname, now)  # as pre_save does: a field computed from the row sees the time
            return stamp

        return stamped
    if _computed_on_insert(field):
        # Getters run in field order, so the fields it is computed from have been stamped already.
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)
    if isinstance(field, _CONVERTED):
        return lambda obj: field.get_db_prep_save(getattr(obj, field.attname), connection)
    return attrgetter(field.attname)


def insert_rows(instances: Sequence[models.Model], *, batch_size: int = 5000) -> None:
    """INSERT unsaved instances of one model; primary keys are not read back (see `pk_by`)."""
    if not instances:
        return
    model = type(instances[0])
    meta = model._meta
    now = timezone.now()
    fields = [f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]
    getters = [_value_getter(field, now) for field in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    # Identifiers come from the model and are quoted; every value is a bound parameter.
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(instances), batch_size):
            chunk = instances[start : start + batch_size]
            cursor.executemany(sql, [[get(obj) for get in getters] for obj in chunk])


def pk_by(model: type[models.Model], field: str, values: Sequence[Any], *, chunk: int = 5000) -> dict[Any, int]:
    """Primary keys of rows just inserted, looked up by a unique field (values passed to the driver as they are)."""
    meta = model._meta
    quote = connection.ops.quote_name
    lookup = meta.get_field(field)
    if not isinstance(lookup, models.Field):
        raise ValueError(f"{meta.label}.{field} is not a column")
    column = quote(str(lookup.column))
    # Identifiers come from the model and are quoted; every value is a bound parameter.
    select = f"SELECT {column}, {quote(str(meta.pk.column))} FROM {quote(meta.db_table)} WHERE {column} IN"  # noqa: S608
    found: dict[Any, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(values), chunk):
            part = list(values[start : start + chunk])
            cursor.execute(f"{select} ({', '.join(['%s'] * len(part))})", part)
            found.update(cursor.fetchall())
    return found


def insert_tuples(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    same: Mapping[str, Any] | None = None,
    ignore_conflicts: bool = False,
    batch_size: int = 5000,
    one_statement: bool = False,
) -> None:
    """INSERT rows given as tuples of the fields `names` (attnames: `resource_id`, not `resource`), without
    building model instances (about 10 µs each). Every other field gets its default, as an unsaved instance
    would: `auto_now`/`auto_now_add` the current time, otherwise `Field.get_default()`. JSON, dates and decimals
    among `names` are converted per value; the rest are passed to the driver as they are. `same` gives fields
    whose value is the same in every row (converted once). A field computed on insert (`computed_on_insert`, the
    audit log's content MAC) is computed per row from the row's values, as `pre_save` would, and may not be given.
    `ignore_conflicts` skips rows that would break a unique constraint, as bulk_create(ignore_conflicts=True)
    does. `one_statement` sends the rows as one multi-row INSERT (within the database's limit of parameters)
    rather than one execution per row: SQLite's driver lets other threads run at every execution, and a thread that
    writes for many others (the gateway's recorder) must not wait for its turn at each row."""
    if not rows:
        return
    meta = model._meta
    now = timezone.now()
    fields = [f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]
    by_attname = {f.attname: f for f in fields}
    same = same or {}
    unknown = [name for name in (*names, *same) if name not in by_attname]
    if unknown:
        raise ValueError(f"{meta.label} has no concrete fields {unknown}")
    given = [name for name in (*names, *same) if _computed_on_insert(by_attname[name])]
    if given:
        raise ValueError(f"{meta.label}: {given} are computed when a row is inserted, never given")
    converters = [
        (index, by_attname[name]) for index, name in enumerate(names) if isinstance(by_attname[name], _CONVERTED)
    ]
    computed: list[Any] = [f for f in fields if _computed_on_insert(f)]
    rest = [f for f in fields if f.attname not in names and f not in computed]
    values = {
        f.attname: same[f.attname]
        if f.attname in same
        else now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in rest
    }
    constants = tuple(f.get_db_prep_save(values[f.attname], connection) for f in rest)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(by_attname[name].column)) for name in names) + "".join(
        f", {quote(str(f.column))}" for f in (*rest, *computed)
    )
    placeholders = ", ".join(["%s"] * (len(names) + len(rest) + len(computed)))
    # Identifiers come from the model and are quoted; every value is a bound parameter.
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    insert = connection.ops.insert_statement(on_conflict=on_conflict)
    suffix = connection.ops.on_conflict_suffix_sql([], on_conflict, None, None)
    sql = f"{insert} {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) {suffix}".rstrip()

    def derived(row: Sequence[Any]) -> tuple[Any, ...]:
        # From the row's own values as Python has them (before conversion), with the defaults of the others.
        if not computed:
            return ()
        whole = {**values, **dict(zip(names, row, strict=True))}
        return tuple(f.get_db_prep_save(f.value_on_insert(whole), connection) for f in computed)

    def params(row: Sequence[Any]) -> Sequence[Any]:
        if converters:
            converted = list(row)
            for index, field in converters:
                converted[index] = field.get_db_prep_save(converted[index], connection)
            return (*converted, *constants, *derived(row))
        return (*row, *constants, *derived(row))

    with connection.cursor() as cursor:
        if one_statement:
            width = len(names) + len(rest) + len(computed)
            per_statement = max(1, min(batch_size, _parameter_limit() // width))
            head, _, tail = sql.partition(f"VALUES ({placeholders})")
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                values_sql = ", ".join([f"({placeholders})"] * len(chunk))
                cursor.execute(f"{head}VALUES {values_sql}{tail}", [value for row in chunk for value in params(row)])
            return
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, [params(row) for row in rows[start : start + batch_size]])


def _parameter_limit() -> int:
    """The parameters one statement may bind: SQLite's compiled limit (999 before 3.32, 32766 since, as built), well
    under PostgreSQL's 65535 elsewhere."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return 30_000


@contextmanager
def sqlite_trigger_suspended(name: str) -> Iterator[bool]:
    """On SQLite, drop the trigger `name` for the block and recreate it afterwards from its stored definition;
    yields whether it was suspended (False on other databases or when there is no such trigger).

    For work a trigger would do row by row and the caller does in one statement (the full-text index of an
    import). SQLite's DDL is transactional and the caller's transaction holds the write lock: no other
    connection ever sees the table without its trigger, and a rollback restores it. Only inside a transaction.
    """
    if connection.vendor != "sqlite":
        yield False
        return
    if not connection.in_atomic_block:
        raise RuntimeError("a trigger may only be suspended inside a transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [name])
        row = cursor.fetchone()
        if row is None:
            yield False
            return
        cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
    try:
        yield True
    finally:
        with connection.cursor() as cursor:
            cursor.execute(row[0])
