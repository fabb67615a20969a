from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from govshare.datasets.tests.test_readers_http import ApiServer


@pytest.fixture
def api() -> Iterator[ApiServer]:
    """A real HTTP API on 127.0.0.1 serving paged records and faults (see test_readers_http.Api)."""
    server = ApiServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
