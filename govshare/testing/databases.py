"""Databases for tests that reach them from outside Django's connection: the test database as another process's
DATABASE_URL, and throw-away PostgreSQL databases on the server CI's second pass runs against (front databases)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from sqlalchemy.engine import make_url


def database_url() -> str:
    """The test database as a DATABASE_URL for another process."""
    params = connection.settings_dict
    if params["ENGINE"] == "django.db.backends.sqlite3":
        name = str(params["NAME"])
        assert "mode=memory" not in name and name != ":memory:", "worker tests need a file database (conftest.py)"
        return f"sqlite:///{name}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{auth}{params.get('HOST') or 'localhost'}{port}/{params['NAME']}"


def postgres_server() -> str:
    """DATABASE_URL when it names a PostgreSQL server; the test is skipped otherwise."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
        pytest.skip("DATABASE_URL is not PostgreSQL: the PostgreSQL front database runs in CI's second pass")
    return url


@contextmanager
def postgres_database(prefix: str, statements: Iterable[str]) -> Iterator[str]:
    """A new database `<prefix>_<random>` on the PostgreSQL server, set up with `statements`, dropped on exit; its
    URL (with the password)."""
    import psycopg

    server = make_url(postgres_server()).set(drivername="postgresql")
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = server.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    front = server.set(database=name)
    try:
        with psycopg.connect(front.render_as_string(hide_password=False), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)
        yield front.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
