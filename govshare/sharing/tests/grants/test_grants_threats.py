"""What must never happen with grants (issue 13), each tried as an attack on real data (a Delta table loaded
from CSV) through every read path: preview, download in every format, the API.

- access without an active grant; a revoked, expired or lapsed grant working once more;
- an item outside the grant returned; a row outside the row filter returned; a masked item unmasked;
- a consumer learning whether a key exists in a resource it has no grant for."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.core.errors import NotFound
from govshare.datasets import reading, scopes, services
from govshare.datasets.models import Dataset
from govshare.datasets.scopes import AccessRefused
from govshare.sharing import grants
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Grant
from govshare.testing.api import bearer
from govshare.testing.datasets import Api
from govshare.testing.sharing import PEOPLE_ITEMS, SECRET_VALUES, TODAY, body, issue, loaded_resource

pytestmark = pytest.mark.django_db

FORMATS = ("csv", "xlsx", "json", "parquet")
LATER = TODAY + dt.timedelta(days=1)


@pytest.fixture
def resource(provider: Department, tmp_path: Path) -> Resource:
    return loaded_resource(provider, tmp_path)


@pytest.fixture
def grant(resource: Resource, consumer_department: Department, provider_reviewer: User) -> Grant:
    """市医保局 may read 旌阳区's rows of three items (id number and name masked by their grade)."""
    return issue(
        resource,
        consumer_department,
        actor=provider_reviewer,
        items=["公民身份号码", "姓名", "区县"],
        row_filter={"区县": ["旌阳区"]},
    )


def rows_of(file_format: str, content: bytes) -> list[dict[str, Any]]:
    """A downloaded file's rows as dicts, whatever its format."""
    if file_format == "csv":
        return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    if file_format == "json":
        return list(json.loads(content))
    if file_format == "parquet":
        return list(pq.read_table(io.BytesIO(content)).to_pylist())
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def download(user: User, resource: Resource, file_format: str, **kwargs: Any) -> bytes:
    return body(reading.download_response(user, resource, file_format=file_format, **kwargs))


# --- access without an active grant -------------------------------------------------------------------------------


def test_a_consumer_department_without_a_grant_reads_nothing(resource: Resource, consumer: User) -> None:
    with pytest.raises(NotFound):
        reading.preview_version(consumer, resource)
    for file_format in FORMATS:
        with pytest.raises(NotFound):
            reading.download_response(consumer, resource, file_format=file_format)


def test_a_grant_serves_only_users_with_the_consumer_role(grant: Grant, resource: Resource) -> None:
    colleague = testing.make_user(Role.CATALOG_ADMIN, Role.DEPT_REVIEWER, department=grant.department)
    with pytest.raises(NotFound):
        reading.preview_version(colleague, resource)


def test_a_grant_serves_only_its_own_department(grant: Grant, resource: Resource) -> None:
    stranger = testing.make_user(Role.CONSUMER, department=testing.make_department("市民政局"))
    with pytest.raises(NotFound):
        reading.preview_version(stranger, resource)


def test_a_grant_reads_only_its_own_resource(grant: Grant, provider: Department, consumer: User, tmp_path) -> None:
    other = loaded_resource(provider, tmp_path, name="流动人口信息")
    with pytest.raises(NotFound):
        reading.preview_version(consumer, other)


def test_a_grant_whose_scenario_is_no_longer_approved_reads_nothing(
    grant: Grant, resource: Resource, consumer: User
) -> None:
    grant.scenario.status = ScenarioStatus.RETIRED
    grant.scenario.save()
    with pytest.raises(NotFound):
        reading.preview_version(consumer, resource)


def test_a_grant_is_not_usable_before_it_takes_effect(
    resource: Resource, consumer: User, consumer_department: Department
) -> None:
    issue(resource, consumer_department, valid_from=LATER, valid_until=LATER + dt.timedelta(days=30))
    with pytest.raises(NotFound):
        reading.preview_version(consumer, resource, today=TODAY)
    assert reading.preview_version(consumer, resource, today=LATER).rows


def test_a_withdrawn_resource_is_read_through_no_grant(grant: Grant, resource: Resource, consumer: User) -> None:
    Resource.objects.filter(pk=resource.pk).update(status="withdrawn")
    resource.refresh_from_db()
    with pytest.raises(NotFound):
        reading.preview_version(consumer, resource)


# --- a revoked, expired or lapsed grant working once more ---------------------------------------------------------


def _assert_refused_everywhere(user: User, resource: Resource, today: dt.date) -> None:
    with pytest.raises(NotFound):
        reading.preview_version(user, resource, today=today)
    for file_format in FORMATS:
        with pytest.raises(NotFound):
            reading.download_response(user, resource, file_format=file_format, today=today)


def test_a_revoked_grant_refuses_the_very_next_access_by_every_path(
    grant: Grant, resource: Resource, consumer: User, provider_reviewer: User
) -> None:
    assert reading.preview_version(consumer, resource).rows
    grants.revoke_grant(grant, actor=provider_reviewer, reason="场景已停止")
    _assert_refused_everywhere(consumer, resource, TODAY)
    api = Api(consumer)
    assert api.get(f"/resources/{resource.pk}/dataset/preview").status_code == 404
    for file_format in FORMATS:
        assert api.get(f"/resources/{resource.pk}/dataset/download", format=file_format).status_code == 404
    assert api.get(f"/resources/{resource.pk}/dataset").status_code == 404


def test_a_grant_revoked_after_its_scope_was_decided_refuses_the_access_before_any_byte(
    grant: Grant, resource: Resource, consumer: User, provider_reviewer: User
) -> None:
    """The window between deciding the scope and recording the access: the access's own transaction reads the
    grant again, so a download that started reading before the revocation committed sends nothing."""
    scope = scopes.reader_scope(consumer, resource, today=TODAY)
    grants.revoke_grant(grant, actor=provider_reviewer, reason="发现超范围使用")
    dataset = Dataset.objects.get(resource=resource)
    with pytest.raises(NotFound):
        services.record_data_access(consumer, dataset, action=reading.ACTION_DOWNLOAD, version=1, scope=scope)
    assert not AuditLog.objects.filter(action=reading.ACTION_DOWNLOAD, actor=consumer).exists()


def test_a_grant_whose_department_was_disabled_after_its_scope_was_decided_refuses_the_access(
    grant: Grant, resource: Resource, consumer: User, consumer_department: Department
) -> None:
    scope = scopes.reader_scope(consumer, resource, today=TODAY)
    Department.objects.filter(pk=consumer_department.pk).update(is_active=False)
    dataset = Dataset.objects.get(resource=resource)
    with pytest.raises(NotFound):
        services.record_data_access(consumer, dataset, action=reading.ACTION_DOWNLOAD, version=1, scope=scope)


def test_an_expired_grant_refuses_the_day_after_its_last_day(grant: Grant, resource: Resource, consumer: User) -> None:
    assert reading.preview_version(consumer, resource, today=grant.valid_until).rows
    _assert_refused_everywhere(consumer, resource, grant.valid_until + dt.timedelta(days=1))


def test_a_grant_lapses_the_day_after_its_access_review_falls_due(
    grant: Grant, resource: Resource, consumer: User
) -> None:
    Grant.objects.filter(pk=grant.pk).update(review_interval_days=30, valid_until=TODAY + dt.timedelta(days=365))
    due = TODAY + dt.timedelta(days=30)
    assert reading.preview_version(consumer, resource, today=due).rows
    _assert_refused_everywhere(consumer, resource, due + dt.timedelta(days=1))


def test_a_lapsed_grant_cannot_be_confirmed_back_to_life(
    grant: Grant, resource: Resource, consumer: User, provider_reviewer: User
) -> None:
    Grant.objects.filter(pk=grant.pk).update(review_interval_days=30)
    lapsed = TODAY + dt.timedelta(days=31)
    from govshare.core.errors import Conflict

    with pytest.raises(Conflict, match="失效"):
        grants.confirm_grant(grant, actor=provider_reviewer, today=lapsed)
    _assert_refused_everywhere(consumer, resource, lapsed)


def test_a_revoked_grant_cannot_be_confirmed_or_revoked_again(grant: Grant, provider_reviewer: User) -> None:
    from govshare.core.errors import Conflict

    grants.revoke_grant(grant, actor=provider_reviewer, reason="不再需要")
    with pytest.raises(Conflict):
        grants.confirm_grant(grant, actor=provider_reviewer, today=TODAY)
    with pytest.raises(Conflict):
        grants.revoke_grant(grant, actor=provider_reviewer, reason="再撤一次")


def test_revocation_over_the_api_refuses_the_next_page_access(
    grant: Grant, resource: Resource, consumer: User, provider_reviewer: User
) -> None:
    from django.test import Client

    page = Client()
    page.force_login(consumer)
    assert page.get(f"/datasets/resources/{resource.pk}/preview/").status_code == 200
    reviewer_api = Client()
    response = reviewer_api.post(
        f"/api/sharing/grants/{grant.pk}/revoke",
        json.dumps({"reason": "停止使用"}),
        content_type="application/json",
        headers=bearer(provider_reviewer),
    )
    assert response.status_code == 200, response.content
    assert page.get(f"/datasets/resources/{resource.pk}/preview/").status_code == 404
    for file_format in FORMATS:
        assert page.get(f"/datasets/resources/{resource.pk}/download/", {"format": file_format}).status_code == 404


# --- items, rows and masking in every format -----------------------------------------------------------------------


@pytest.mark.parametrize("file_format", FORMATS)
def test_no_item_outside_the_grant_and_no_row_outside_its_filter_in_any_format(
    grant: Grant, resource: Resource, consumer: User, file_format: str
) -> None:
    content = download(consumer, resource, file_format)
    rows = rows_of(file_format, content)
    assert [sorted(row) for row in rows] == [["公民身份号码", "区县", "姓名"]] * 2
    assert {row["区县"] for row in rows} == {"旌阳区"}
    text = content.decode("utf-8", "replace") if file_format in ("csv", "json") else str(rows)
    for secret in ("罗江区", "13812345678", "户籍地址", "宗教信仰", "佛教"):
        assert secret not in text


@pytest.mark.parametrize("file_format", FORMATS)
def test_masked_items_stay_masked_in_every_format(
    grant: Grant, resource: Resource, consumer: User, file_format: str
) -> None:
    rows = rows_of(file_format, download(consumer, resource, file_format))
    assert [(row["公民身份号码"], row["姓名"]) for row in rows] == [
        ("510603********0011", "张**"),
        ("510603********0033", "李*"),
    ]
    assert not set(SECRET_VALUES) & {str(value) for row in rows for value in row.values()}


def test_the_preview_holds_the_grant_s_items_rows_and_masking_and_no_total(
    grant: Grant, resource: Resource, consumer: User
) -> None:
    preview = reading.preview_version(consumer, resource)
    assert [field.name for field in preview.fields] == ["公民身份号码", "姓名", "区县"]
    assert preview.rows == [["510603********0011", "张**", "旌阳区"], ["510603********0033", "李*", "旌阳区"]]
    # The version's 3 rows would tell that one row lies outside the filter.
    assert preview.total_rows is None


def test_the_dataset_api_lists_only_the_granted_columns_and_no_row_count(
    grant: Grant, resource: Resource, consumer: User
) -> None:
    answer = Api(consumer).get(f"/resources/{resource.pk}/dataset")
    assert answer.status_code == 200, answer.content
    assert [field["name"] for field in answer.json()["fields"]] == ["公民身份号码", "姓名", "区县"]
    assert answer.json()["row_count"] is None


def test_a_grant_may_withhold_an_item_its_grade_would_only_mask(
    resource: Resource, consumer: User, consumer_department: Department
) -> None:
    issue(resource, consumer_department, items=["公民身份号码", "姓名"], masking={"公民身份号码": "withhold"})
    for file_format in FORMATS:
        rows = rows_of(file_format, download(consumer, resource, file_format))
        assert all("公民身份号码" not in row for row in rows)
        assert {row["姓名"] for row in rows} == {"张**", "欧阳**", "李*"}


def test_a_stored_masking_looser_than_the_grade_still_reads_masked(
    grant: Grant, resource: Resource, consumer: User
) -> None:
    """Masking written past the service (or left from before the item's grade was raised) never unmasks."""
    Grant.objects.filter(pk=grant.pk).update(masking={"公民身份号码": "text", "姓名": "bogus"})
    preview = reading.preview_version(consumer, resource)
    # Neither rule is comparable with the item's default (keep 6 and 4 digits; keep the surname): withheld.
    assert [field.name for field in preview.fields] == ["区县"]
    assert not set(SECRET_VALUES) & {str(value) for row in preview.rows for value in row}


def test_a_granted_item_that_became_not_shared_is_no_longer_read(
    grant: Grant, resource: Resource, consumer: User
) -> None:
    resource.items.filter(name="姓名").update(share_type="not_shared")
    preview = reading.preview_version(consumer, resource)
    assert [field.name for field in preview.fields] == ["公民身份号码", "区县"]


def test_a_lookup_by_a_masked_item_is_refused(grant: Grant, resource: Resource, consumer: User) -> None:
    answer = Api(consumer).get(
        f"/resources/{resource.pk}/dataset/preview", column="公民身份号码", value="510603199001010011"
    )
    assert answer.status_code == 422 or answer.status_code == 400
    assert "510603199001010011" not in answer.content.decode()


# --- learning whether a key exists -------------------------------------------------------------------------------


def test_a_lookup_without_a_grant_answers_as_for_a_missing_resource(resource: Resource, consumer: User) -> None:
    api = Api(consumer)
    path = f"/resources/{resource.pk}/dataset/preview"
    present = api.get(path, column="区县", value="旌阳区")
    absent = api.get(path, column="区县", value="不存在区")
    missing = api.get(f"/resources/{2**31 - 1}/dataset/preview", column="区县", value="旌阳区")
    assert present.status_code == absent.status_code == missing.status_code == 404
    assert present.content == absent.content == missing.content


def test_a_lookup_of_a_row_outside_the_filter_answers_as_for_a_missing_key(
    grant: Grant, resource: Resource, consumer: User
) -> None:
    api = Api(consumer)
    path = f"/resources/{resource.pk}/dataset/preview"
    outside = api.get(path, column="区县", value="罗江区")
    nowhere = api.get(path, column="区县", value="不存在区")
    assert outside.status_code == nowhere.status_code == 200
    assert outside.json()["rows"] == nowhere.json()["rows"] == []
    assert outside.json()["total_rows"] is nowhere.json()["total_rows"] is None


# --- audit and quota ------------------------------------------------------------------------------------------------


def test_each_access_is_audited_with_the_person_the_grant_and_its_scenario(
    grant: Grant, resource: Resource, consumer: User
) -> None:
    reading.preview_version(consumer, resource)
    download(consumer, resource, "csv")
    logged = AuditLog.objects.filter(actor=consumer).order_by("pk")
    assert [row.action for row in logged] == [reading.ACTION_PREVIEW, reading.ACTION_DOWNLOAD]
    assert {row.extra["grant"] for row in logged} == {grant.pk}
    assert all(grant.scenario.name in row.extra["purpose"] for row in logged)


def test_the_daily_quota_refuses_the_access_past_it_with_a_chinese_message(
    resource: Resource, consumer: User, consumer_department: Department
) -> None:
    issue(resource, consumer_department, daily_quota=2)
    reading.preview_version(consumer, resource)
    download(consumer, resource, "json")
    with pytest.raises(AccessRefused, match="调用次数已达上限 2 次") as refused:
        reading.preview_version(consumer, resource)
    assert refused.value.status == 429
    assert AuditLog.objects.filter(actor=consumer).count() == 2
    # The next day counts afresh.
    assert reading.preview_version(consumer, resource, today=LATER).rows


def test_the_quota_refusal_is_a_page_with_its_message_not_an_error(
    resource: Resource, consumer: User, consumer_department: Department
) -> None:
    from django.test import Client

    issue(resource, consumer_department, daily_quota=1)
    page = Client()
    page.force_login(consumer)
    assert page.get(f"/datasets/resources/{resource.pk}/preview/").status_code == 200
    refused = page.get(f"/datasets/resources/{resource.pk}/download/", {"format": "csv"})
    assert refused.status_code == 429
    assert "调用次数已达上限" in refused.content.decode()


def test_the_reader_chooses_among_several_grants_and_never_another_department_s(
    resource: Resource, consumer: User, consumer_department: Department
) -> None:
    narrow = issue(resource, consumer_department, items=["区县"])
    wide = issue(resource, consumer_department, items=["姓名", "区县"])
    assert [f.name for f in reading.preview_version(consumer, resource).fields] == ["区县"]  # the oldest
    chosen = reading.preview_version(consumer, resource, choice=str(wide.pk))
    assert [f.name for f in chosen.fields] == ["姓名", "区县"]
    elsewhere = issue(resource, testing.make_department("市民政局"), items=PEOPLE_ITEMS[0:1] and ["公民身份号码"])
    with pytest.raises(NotFound):
        reading.preview_version(consumer, resource, choice=str(elsewhere.pk))
    assert narrow.pk != wide.pk
