from __future__ import annotations

import pytest

from govshare import testing
from govshare.accounts.models import Department


@pytest.fixture
def department() -> Department:
    return testing.make_department()
