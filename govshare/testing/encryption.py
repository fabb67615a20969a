"""Encryption at rest as the tests see it: a GOVSHARE_ENCRYPTION_KEYS value for given keys, a source with a
credential, and the credential as the database column holds it (ciphertext, read past the model)."""

from __future__ import annotations

import base64

from django.db import connection

from govshare.accounts.choices import Role
from govshare.catalog.rules import ItemDraft
from govshare.core import crypto
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source
from govshare.testing import make_department, make_published_resource, make_user


def setting_value(*entries: crypto.KeyEntry) -> str:
    """The keys as the GOVSHARE_ENCRYPTION_KEYS setting writes them (`id:base64,...`)."""
    return ",".join(f"{e.key_id}:{base64.b64encode(e.material).decode()}" for e in entries)


def make_source(secret: str) -> Source:
    """A 前置库 source with the credential `secret`, of a fresh published resource of a fresh department."""
    department = make_department()
    admin = make_user(Role.CATALOG_ADMIN, department=department)
    resource = make_published_resource(department, items=[ItemDraft(name="姓名", data_type="C", length=50)])
    config = {"url": "postgresql+psycopg://gov@front-db.example.invalid/front", "table": "t"}
    data = source_services.SourceInput(name="前置库", kind=SourceKind.DATABASE, config=config, secret=secret)
    return source_services.register_source(resource, data, actor=admin)


def raw_secret(source: Source) -> str:
    """The source's credential column as stored."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM datasets_source WHERE id = %s", [source.pk])
        row = cursor.fetchone()
        assert row is not None
        return str(row[0])
