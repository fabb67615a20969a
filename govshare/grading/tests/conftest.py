from __future__ import annotations

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft


@pytest.fixture
def security_officer(db):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.SECURITY_OFFICER, username="security_officer")


@pytest.fixture
def published(department) -> Resource:  # type: ignore[no-untyped-def]
    """A published 一般 / L2 resource of the department with three items."""
    return testing.make_published_resource(department)


@pytest.fixture
def open_resource(department) -> Resource:  # type: ignore[no-untyped-def]
    """A published entry opened without condition (L1), one of its items closed and stricter (L2)."""
    items = [
        ItemDraft(name="事项名称", data_type="C", length=200),
        ItemDraft(name="联系电话", data_type="C", length=20, open_type="not_open", data_level="L2"),
    ]
    return testing.make_published_resource(
        department,
        items=items,
        name="政务服务事项目录",
        share_type="unconditional",
        share_condition="",
        open_type="unconditional",
    )
