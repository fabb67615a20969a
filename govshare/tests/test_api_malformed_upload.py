"""A malformed multipart body is the client's error: a 422 in Chinese, never a logged traceback or a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role

pytestmark = pytest.mark.django_db


def test_a_multipart_body_without_a_boundary_answers_422(department) -> None:
    client = Client()
    client.force_login(testing.make_user(Role.CATALOG_ADMIN, department=department))
    response = client.post("/api/datasets/sources/1/uploads", data=b"--x\r\n", content_type="multipart/form-data")
    assert response.status_code == 422
    assert "multipart/form-data" in response.json()["detail"]
