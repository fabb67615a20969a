"""The datasets API as one user calls it, and the small census table most dataset tests load: three items, a CSV
file of three rows (one of them rejected: 19xx is no date) and its column mapping."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.testing.api import bearer

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D", description="公历"),
]
CSV_TEXT = (
    "身份证号,姓名,出生日期\n"
    "11010519491231002X,张三,1949-12-31\n"
    "440524188001010014,李四,1880-01-01\n"
    "510603199001010011,王五,19xx-01-01\n"
)
MAPPING = [
    {"column": "身份证号", "item": "公民身份号码"},
    {"column": "姓名", "item": "姓名"},
    {"column": "出生日期", "item": "出生日期"},
]


class Api:
    """A client for /api/datasets with one user's token."""

    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.headers = bearer(user) if user is not None else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/datasets{path}", params, headers=self.headers)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(
            f"/api/datasets{path}", json.dumps(body or {}), content_type="application/json", headers=self.headers
        )

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(
            f"/api/datasets{path}", json.dumps(body), content_type="application/json", headers=self.headers
        )

    def upload(self, path: str, name: str, content: bytes, **fields: str) -> Any:
        data: dict[str, Any] = {"file": SimpleUploadedFile(name, content), **fields}
        return self.client.post(f"/api/datasets{path}", data, headers=self.headers)


def register_file_source(api: Api, resource: Resource) -> dict[str, Any]:
    """A file source (CSV) of the resource, registered over the API."""
    response = api.post(
        f"/resources/{resource.pk}/sources", {"name": "线下报送", "kind": "file", "config": {"format": "csv"}}
    )
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def mapped_file_source(api: Api, resource: Resource) -> int:
    """The id of a file source of the resource whose columns are mapped (MAPPING)."""
    source_id = register_file_source(api, resource)["id"]
    response = api.put(f"/sources/{source_id}/mapping", {"mapping": MAPPING})
    assert response.status_code == 200, response.content
    return int(source_id)
