"""Whatever an audit row holds, the database round trip of sealing and verification agrees with itself."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govshare.audit import chain
from govshare.audit.services import record_action

# Text the metadata database can store (PostgreSQL refuses NUL in text and jsonb).
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=30)
JSON: Any = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**62), 2**62) | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.dictionaries(TEXT, JSON, max_size=5), names=st.lists(TEXT, min_size=3, max_size=3))
def test_any_row_content_seals_and_verifies(extra: dict[str, Any], names: list[str]) -> None:
    with transaction.atomic():
        record_action(None, names[0][:64], object_id=names[1][:64], object_repr=names[2], **extra)
    chain.seal_audit_log()
    report = chain.verify_audit_chain()
    assert report.ok, report.problems
