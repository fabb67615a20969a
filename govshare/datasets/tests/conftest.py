from __future__ import annotations

from collections.abc import Iterator

import pytest

from govshare.testing.http_api import ApiServer, serve


@pytest.fixture
def api() -> Iterator[ApiServer]:
    """A real HTTP API on 127.0.0.1 serving paged records and faults (see govshare.testing.http_api)."""
    yield from serve(ApiServer())
