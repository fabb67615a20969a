"""Threat: a response carrying data is kept by a cache — a proxy between the bureau and the platform, or the disk
cache of a shared workstation's browser — and read later by someone else. Every such response, on every route and
in every format, says `Cache-Control: no-store`; the pages that carry no data stay cacheable as before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.services import record_action
from govshare.catalog.rules import ItemDraft
from govshare.dataplane.exporting import ExportFormat
from govshare.datasets import services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50, at_rest="searchable"),
    ItemDraft(name="出生日期", data_type="D"),
]
CSV = "公民身份号码,姓名,出生日期\n11010519491231002X,张三,1949-12-31\n440524188001010014,李四,18xx-01-01\n"


@pytest.fixture
def world(department: Department) -> dict[str, Any]:
    owner = testing.make_user(Role.CATALOG_ADMIN, department=department, username="gaj_data")
    auditor = testing.make_user(Role.AUDITOR, username="auditor1")
    platform = testing.make_user(Role.PLATFORM_ADMIN, username="platform1")
    resource = testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")
    source = source_services.register_source(
        resource, source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}), actor=owner
    )
    source_services.set_mapping(source, [source_services.MappingEntry(i.name, i.name) for i in ITEMS], actor=owner)
    load = services.request_load(source, actor=owner, upload=SimpleUploadedFile("人口.csv", CSV.encode()))
    run_load(load.pk)
    load = Load.objects.get(pk=load.pk)
    assert load.status == LoadStatus.SUCCEEDED and load.rows_rejected == 1
    return {
        "owner": owner,
        "auditor": auditor,
        "platform": platform,
        "resource": resource,
        "source": source,
        "load": load,
    }


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _fetch(client: Client, method: str, url: str, data: dict[str, Any] | None = None) -> HttpResponseBase:
    response = client.get(url, data or {}) if method == "GET" else client.post(url, data or {})
    assert response.status_code == 200, (url, response.status_code)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response


def _data_requests(world: dict[str, Any]) -> Iterator[tuple[str, User, str, str, dict[str, Any]]]:
    """(route name, who, method, URL, parameters) of every response that carries data."""
    rid, sid, lid = world["resource"].pk, world["source"].pk, world["load"].pk
    owner, auditor = world["owner"], world["auditor"]
    yield "datasets:preview", owner, "GET", f"/datasets/resources/{rid}/preview/", {}
    yield "datasets:preview", owner, "GET", f"/datasets/resources/{rid}/preview/", {"column": "姓名", "value": "张三"}
    for file_format in ExportFormat.values:
        yield "datasets:download", owner, "GET", f"/datasets/resources/{rid}/download/", {"format": file_format}
        api = f"/api/datasets/resources/{rid}/dataset/download"
        yield "api:download_dataset", owner, "GET", api, {"format": file_format}
    yield "datasets:load_rejects", owner, "GET", f"/datasets/loads/{lid}/rejects/", {}
    yield "api:download_rejects", owner, "GET", f"/api/datasets/loads/{lid}/rejects", {}
    yield "datasets:source_mapping", owner, "GET", f"/datasets/sources/{sid}/mapping/", {}
    yield "api:preview_source", owner, "POST", f"/api/datasets/sources/{sid}/preview", {}
    preview = f"/api/datasets/resources/{rid}/dataset/preview"
    yield "api:preview_dataset", owner, "GET", preview, {}
    yield "api:preview_dataset", owner, "GET", preview, {"column": "姓名", "value": "张三"}
    yield "audit:log_list", auditor, "GET", "/audit/", {}
    yield "audit:export", auditor, "GET", "/audit/export.csv", {}
    yield "api:list_logs", auditor, "GET", "/api/audit/logs", {}
    yield "api:export_logs", auditor, "GET", "/api/audit/logs/export", {}
    with_row = record_action(owner, "test.cached")  # the test's transaction: rolled back with it
    yield "api:get_log", auditor, "GET", f"/api/audit/logs/{with_row.pk}", {}
    for file_format in ("xlsx", "csv"):
        yield "catalog:export", owner, "GET", "/catalog/export/", {"format": file_format}
        yield "api:export_list", owner, "GET", "/api/catalog/export", {"format": file_format}
    yield "catalog:import_template", owner, "GET", "/catalog/import/template/", {}
    yield "catalog:maintenance_export", owner, "GET", "/catalog/maintenance/entries/export/", {}
    yield "api:import_template", owner, "GET", "/api/catalog/import-template", {}
    # The sharing lists name departments' needs, duties and unshared resources.
    for key, api in (("demand", "demands"), ("duty", "duties"), ("negative", "negative-list")):
        page = {"demand": "demands", "duty": "duties", "negative": "negative"}[key]
        yield f"sharing:{key}_export", owner, "GET", f"/sharing/{page}/export/", {}
        yield f"api:export_{api.split('-')[0]}", owner, "GET", f"/api/sharing/{api}/export", {}
    # The auditor's trace of a key answers gateway calls from the trail (the key travels in the POST body).
    yield "gateway:key_search", auditor, "POST", "/gateway/key-search/", {"key": "11010519491231002X"}
    platform = world["platform"]
    yield "accounts:calendar_export", platform, "GET", "/account/calendar/2026/export/", {}


def test_every_response_carrying_data_is_no_store(world: dict[str, Any]) -> None:
    clients: dict[int, Client] = {}
    for name, user, method, url, data in _data_requests(world):
        client = clients.setdefault(user.pk, _client(user))
        response = _fetch(client, method, url, data)
        assert response.headers.get("Cache-Control") == "no-store", (name, url, data, response.headers)


def test_an_error_answer_of_a_data_operation_is_no_store_too(world: dict[str, Any]) -> None:
    # A refused lookup names the value it was asked for.
    response = _client(world["owner"]).get(
        f"/api/datasets/resources/{world['resource'].pk}/dataset/preview", {"column": "没有这一项", "value": "张三"}
    )
    assert response.status_code == 422 and response.headers["Cache-Control"] == "no-store"


def test_pages_without_data_are_not_marked(world: dict[str, Any]) -> None:
    response = _client(world["owner"]).get("/catalog/")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")


def _route_names(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _route_names(
                pattern.url_patterns, namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            )
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name


def test_every_route_that_reads_out_data_is_checked_above(world: dict[str, Any]) -> None:
    """A new preview, download, export, rejects or log route must join the list (and so get `no_store`)."""
    checked = {name for name, *_ in _data_requests(world)}
    words = ("preview", "download", "rejects", "export", "source_mapping", "lookup", "log_list", "logs", "template")
    data_routes = {
        name
        for name in _route_names(get_resolver().url_patterns)
        if not name.startswith("admin:") and any(word in name for word in words) and "import_batch" not in name
    }
    assert data_routes <= checked, sorted(data_routes - checked)


def test_a_source_sample_is_not_kept_by_a_cache(world: dict[str, Any]) -> None:
    source = Source.objects.get(pk=world["source"].pk)
    response = _client(world["owner"]).get(f"/datasets/sources/{source.pk}/mapping/")
    assert "张三" in response.content.decode() and response.headers["Cache-Control"] == "no-store"
