"""The audit tests seal when they say so. The platform also seals opportunistically after a write once
`audit_seal_interval_seconds` of wall time have passed (`services._Sealer`): on a slow or busy machine that moment
falls between a test's writes and its own seal, which then finds nothing left to seal. Tests that exercise the
opportunistic seal set their own interval and batch size."""

from __future__ import annotations

import pytest

NEVER = 10.0**9  # seconds


@pytest.fixture(autouse=True)
def _seal_only_when_asked(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(
        update={"audit_seal_interval_seconds": NEVER, "audit_seal_batch_size": 10**9}
    )
