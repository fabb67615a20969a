"""Homes (工作台): everyone lands on a page of what needs them, by role; every figure within the user's scope."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit import services as audit_services
from govshare.catalog import services as catalog_services
from govshare.catalog.choices import AtRest, DataLevel
from govshare.catalog.models import Item, Resource
from govshare.catalog.rules import ItemDraft
from govshare.datasets import services as dataset_services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.models import Dataset, Load
from govshare.grading import services as grading_services
from govshare.sources.models import Source
from govshare.testing import TEST_PASSWORD

pytestmark = pytest.mark.django_db

HOME = "/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def home(user: User) -> str:
    response = signed_in(user).get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, anchor: str) -> str:
    """The text of one section of the home (by its id), or "" when it is not shown."""
    match = re.search(rf'<section class="card home-section[^"]*" id="{anchor}">(.*?)</section>', page, re.S)
    return match.group(1) if match else ""


def number_after(text: str, label: str) -> str:
    """The badge that follows a heading's label: '被驳回的资源 <span class="badge …">3</span>' → '3'."""
    match = re.search(rf'{label}\s*<span class="badge[^"]*">(\d+)</span>', text)
    assert match, f"no count after {label!r}"
    return match.group(1)


def rejected_entry(department: Department, name: str) -> Resource:
    author = testing.make_user(Role.CATALOG_ADMIN, department=department)
    reviewer = testing.make_user(Role.PLATFORM_ADMIN)
    resource = catalog_services.create_resource(testing.resource_draft(department, name=name), actor=author)
    catalog_services.submit_resource(resource, actor=author)
    return catalog_services.reject_resource(resource, reason=f"{name}的摘要不全", actor=reviewer)


def submitted_entry(department: Department, name: str = "待审核的资源") -> Resource:
    author = testing.make_user(Role.CATALOG_ADMIN, department=department)
    resource = catalog_services.create_resource(testing.resource_draft(department, name=name), actor=author)
    return catalog_services.submit_resource(resource, actor=author)


def failed_load(resource: Resource, error: str = "前置库连接超时", **fields: object) -> Load:
    """A load that ended FAILED (its worker's outcome written as the worker writes it: status, error, end)."""
    author = testing.make_user(Role.CATALOG_ADMIN, department=resource.department)
    source = Source.objects.create(
        resource=resource, name="线下报送", kind="file", config={"format": "csv"}, created_by=author
    )
    dataset = dataset_services.ensure_dataset(resource)
    values: dict[str, object] = {"status": LoadStatus.FAILED, "error": error, "finished_at": timezone.now()}
    values.update(fields)
    return Load.objects.create(dataset=dataset, source=source, mode="full", requested_by=author, **values)


@pytest.fixture
def city() -> Department:
    return testing.make_department("市大数据局")


@pytest.fixture
def police() -> Department:
    return testing.make_department("市公安局")


@pytest.fixture
def health() -> Department:
    return testing.make_department("市卫生健康委")


# --- landing -------------------------------------------------------------------------------------------------


def test_signing_in_lands_on_the_home(police: Department) -> None:
    user = testing.make_user(Role.CONSUMER, department=police, username="reader")
    response = Client().post("/login/", {"username": "reader", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert user.is_active


def test_the_root_url_is_the_home_not_the_raw_catalogue(police: Department) -> None:
    page = home(testing.make_user(Role.CONSUMER, department=police))
    assert "<h1>工作台</h1>" in page


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in() -> None:
    response = Client().get(HOME)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_consumer_without_to_dos_is_told_so_and_pointed_to_the_catalogue(police: Department) -> None:
    page = home(testing.make_user(Role.CONSUMER, department=police))
    assert "当前没有需要您处理的事项" in page
    assert 'href="/catalog/"' in page


# --- the reviewer ---------------------------------------------------------------------------------------------


def test_the_reviewer_sees_how_many_entries_wait_with_a_link_to_the_queue(police: Department, city: Department) -> None:
    submitted_entry(police, "甲")
    submitted_entry(police, "乙")
    review = section(home(testing.make_user(Role.PLATFORM_ADMIN, department=city)), "home-review")
    assert '<a href="/catalog/review/"><strong class="home-number">2</strong> 条资源待审核</a>' in review


def test_a_department_administrator_sees_no_review_section(police: Department) -> None:
    submitted_entry(police)
    assert section(home(testing.make_user(Role.CATALOG_ADMIN, department=police)), "home-review") == ""


# --- the department's catalogue administrator -------------------------------------------------------------------


def test_a_department_administrator_sees_the_departments_rejected_entries_with_the_reason(police: Department) -> None:
    rejected_entry(police, "户籍人口信息")
    admin = testing.make_user(Role.CATALOG_ADMIN, department=police)
    department = section(home(admin), "home-department")
    assert number_after(department, "被驳回的资源") == "1"
    assert "户籍人口信息" in department and "户籍人口信息的摘要不全" in department


def test_a_resubmitted_entry_is_no_longer_listed_as_rejected(police: Department) -> None:
    entry = rejected_entry(police, "户籍人口信息")
    admin = testing.make_user(Role.CATALOG_ADMIN, department=police)
    catalog_services.submit_resource(entry, actor=admin)
    assert number_after(section(home(admin), "home-department"), "被驳回的资源") == "0"


def test_attack_a_department_administrator_never_counts_another_departments_rejected_entries(
    police: Department, health: Department
) -> None:
    rejected_entry(health, "卫健委被驳回的资源")
    admin = testing.make_user(Role.CATALOG_ADMIN, department=police)
    page = home(admin)
    assert number_after(section(page, "home-department"), "被驳回的资源") == "0"
    assert "卫健委被驳回的资源" not in page


def test_a_department_administrator_sees_the_departments_failed_loads(police: Department) -> None:
    resource = testing.make_published_resource(police, name="户籍人口信息")
    failed = failed_load(resource, "前置库连接超时")
    failed_section = section(home(testing.make_user(Role.CATALOG_ADMIN, department=police)), "home-failed-loads")
    assert number_after(failed_section, "归集失败") == "1"
    assert f'href="/datasets/loads/{failed.pk}/"' in failed_section and "前置库连接超时" in failed_section


def test_a_failed_load_followed_by_a_later_load_of_the_same_data_is_no_longer_listed(police: Department) -> None:
    resource = testing.make_published_resource(police)
    failed = failed_load(resource)
    Load.objects.create(dataset=failed.dataset, source=failed.source, mode="full", status=LoadStatus.SUCCEEDED)
    failed_section = section(home(testing.make_user(Role.CATALOG_ADMIN, department=police)), "home-failed-loads")
    assert number_after(failed_section, "归集失败") == "0"


def test_attack_a_department_administrator_never_counts_another_departments_failed_loads(
    police: Department, health: Department
) -> None:
    failed_load(testing.make_published_resource(health, name="卫健委的数据"), "卫健委前置库故障")
    page = home(testing.make_user(Role.CATALOG_ADMIN, department=police))
    assert number_after(section(page, "home-failed-loads"), "归集失败") == "0"
    assert "卫健委前置库故障" not in page and "卫健委的数据" not in page


def test_a_department_administrator_is_told_the_quarterly_maintenance_is_overdue(police: Department) -> None:
    Department.objects.filter(pk=police.pk).update(last_full_maintenance_at=timezone.now() - dt.timedelta(days=200))
    department = section(home(testing.make_user(Role.CATALOG_ADMIN, department=police)), "home-department")
    assert '<span class="badge danger">已逾期</span>' in department
    assert 'href="/catalog/maintenance/"' in department


def test_a_department_maintained_this_quarter_is_shown_on_time(police: Department) -> None:
    Department.objects.filter(pk=police.pk).update(last_full_maintenance_at=timezone.now() - dt.timedelta(days=3))
    department = section(home(testing.make_user(Role.CATALOG_ADMIN, department=police)), "home-department")
    assert '<span class="badge ok">按期</span>' in department


# --- the security officer ---------------------------------------------------------------------------------------


def pending_change(department: Department) -> None:
    resource = testing.make_published_resource(department)
    proposer = testing.make_user(Role.CATALOG_ADMIN, department=department)
    grading_services.propose_grading_change(
        resource, item_name="", to_grade="important", to_level="L3", reason="含身份信息", actor=proposer
    )


def test_the_security_officer_sees_the_pending_grading_changes(police: Department, health: Department) -> None:
    pending_change(police)
    pending_change(health)
    grading = section(home(testing.make_user(Role.SECURITY_OFFICER)), "home-grading")
    assert number_after(grading, "分级调整待审核") == "2"
    assert 'href="/grading/"' in grading


def risky_resource(department: Department) -> Resource:
    """A published entry with personal items: the ID number encrypted at L3, the name plain at L3, the phone
    encrypted but graded L2, and an ordinary item."""
    resource = testing.make_published_resource(
        department,
        items=[
            ItemDraft(name="公民身份号码", data_type="C", length=18),
            ItemDraft(name="姓名", data_type="C", length=50),
            ItemDraft(name="手机号码", data_type="C", length=11),
            ItemDraft(name="出生日期", data_type="D"),
        ],
    )
    Item.objects.filter(resource=resource).update(data_level=DataLevel.L3, at_rest=AtRest.ENCRYPTED)
    Item.objects.filter(resource=resource, name="姓名").update(at_rest=AtRest.PLAIN)
    Item.objects.filter(resource=resource, name="手机号码").update(data_level=DataLevel.L2)
    return resource


def test_the_risk_list_names_personal_items_stored_in_plain_text_or_graded_l1_l2(police: Department) -> None:
    risky_resource(police)
    risks = section(home(testing.make_user(Role.SECURITY_OFFICER)), "home-risks")
    assert number_after(risks, "个人信息风险清单") == "2"
    rows = re.findall(r"<tr>\s*<td>.*?</td>\s*<td>(.*?)</td>", risks, re.S)
    assert sorted(re.sub(r"</?span[^>]*>", "", row) for row in rows) == ["姓名", "手机号码"]


def test_the_risk_list_is_the_security_officers_alone(police: Department) -> None:
    risky_resource(police)
    for role in (Role.PLATFORM_ADMIN, Role.CATALOG_ADMIN, Role.AUDITOR, Role.CONSUMER):
        page = home(testing.make_user(role, department=police))
        assert section(page, "home-risks") == "" and section(page, "home-grading") == ""


def test_attack_the_risk_list_leaves_out_another_departments_drafts(police: Department, health: Department) -> None:
    author = testing.make_user(Role.CATALOG_ADMIN, department=health)
    catalog_services.create_resource(testing.resource_draft(health, name="卫健委未发布草稿"), actor=author)
    risks = section(home(testing.make_user(Role.SECURITY_OFFICER, department=police)), "home-risks")
    assert "卫健委未发布草稿" not in risks


# --- the auditor ------------------------------------------------------------------------------------------------


def test_the_auditor_sees_the_latest_chain_check_its_result_when_and_by_whom() -> None:
    auditor = testing.make_user(Role.AUDITOR, username="shenji")
    assert signed_in(auditor).get("/audit/verify/?run=1").status_code == 200
    chain = section(home(auditor), "home-audit")
    assert '<span class="badge ok">完整</span>' in chain
    assert "由 shenji 执行" in chain


def test_the_auditor_is_told_when_the_chain_was_never_checked() -> None:
    chain = section(home(testing.make_user(Role.AUDITOR)), "home-audit")
    assert "从未校验" in chain


def test_a_broken_chain_check_is_shown_as_broken() -> None:
    auditor = testing.make_user(Role.AUDITOR)
    audit_services.record_audit_read(auditor, "audit.chain.verify", ok=False, checked=10)
    assert '<span class="badge danger">已断开</span>' in section(home(auditor), "home-audit")


def test_a_chain_check_stored_under_its_old_code_still_counts_as_the_latest() -> None:
    """Rows written before the code was renamed (audit.verify) are never rewritten: the home reads them as checks."""
    auditor = testing.make_user(Role.AUDITOR)
    audit_services.record_audit_read(auditor, "audit.verify", ok=False, checked=10)
    assert '<span class="badge danger">已断开</span>' in section(home(auditor), "home-audit")


def test_only_the_auditor_sees_the_chain_check(police: Department) -> None:
    for role in (Role.PLATFORM_ADMIN, Role.SECURITY_OFFICER, Role.CATALOG_ADMIN):
        assert section(home(testing.make_user(role, department=police)), "home-audit") == ""


# --- the platform administrator's figures ----------------------------------------------------------------------


def test_the_platform_administrator_sees_entries_by_state_and_by_department(
    police: Department, health: Department, city: Department
) -> None:
    testing.make_published_resource(police, name="甲")
    testing.make_published_resource(police, name="乙")
    submitted_entry(health)
    figures = section(home(testing.make_user(Role.PLATFORM_ADMIN, department=city)), "home-catalogue-figures")
    unmarked = re.sub(r"</?span[^>]*>", "", figures)  # department names are marked as content
    by_status = dict(re.findall(r"<tr><td>(\S+?)</td><td class=\"num\">(\d+)</td></tr>", unmarked))
    assert by_status["已发布"] == "2" and by_status["待审核"] == "1" and by_status["草稿"] == "0"
    assert by_status["市公安局"] == "2" and by_status["市卫生健康委"] == "1"


def test_the_figures_come_as_chart_data_for_the_browser(police: Department, city: Department) -> None:
    testing.make_published_resource(police)
    page = home(testing.make_user(Role.PLATFORM_ADMIN, department=city))
    assert '<script id="chart-catalogue-status" type="application/json">' in page
    assert 'data-chart="chart-catalogue-status"' in page
    assert "/static/vendor/chartjs/chart.umd.min.js" in page and "/static/govshare/home.js" in page


def test_the_platform_administrator_sees_loaded_datasets_and_their_freshness(
    police: Department, city: Department
) -> None:
    now = timezone.now()
    for age_days in (0, 3, 45):
        dataset = dataset_services.ensure_dataset(testing.make_published_resource(police))
        Dataset.objects.filter(pk=dataset.pk).update(
            current_version=1, row_count=10, last_success_at=now - dt.timedelta(days=age_days, hours=1)
        )
    dataset_services.ensure_dataset(testing.make_published_resource(police))  # never loaded
    figures = section(home(testing.make_user(Role.PLATFORM_ADMIN, department=city)), "home-data-figures")
    assert '<strong class="home-number">3</strong> 个数据集已归集' in figures
    assert "1 个尚未归集" in figures and "当前版本共 30 条记录" in figures
    bands = dict(re.findall(r"<tr><td>(.+?)</td><td class=\"num\">(\d+)</td></tr>", figures))
    assert bands == {"1 天内": "1", "7 天内": "1", "30 天内": "0", "90 天内": "1", "90 天以上": "0", "从未归集": "1"}


def test_only_the_platform_administrator_sees_the_citys_figures(police: Department) -> None:
    for role in (Role.CATALOG_ADMIN, Role.SECURITY_OFFICER, Role.AUDITOR, Role.CONSUMER):
        page = home(testing.make_user(role, department=police))
        assert section(page, "home-catalogue-figures") == "" and section(page, "home-data-figures") == ""


# --- several roles ----------------------------------------------------------------------------------------------


def test_a_user_with_several_roles_sees_each_roles_section(police: Department) -> None:
    page = home(testing.make_user(Role.PLATFORM_ADMIN, Role.CATALOG_ADMIN, department=police))
    for anchor in (
        "home-review",
        "home-catalogue-figures",
        "home-data-figures",
        "home-department",
        "home-failed-loads",
    ):
        assert section(page, anchor), anchor


def test_the_home_is_in_english_for_an_english_page(police: Department) -> None:
    client = signed_in(testing.make_user(Role.CATALOG_ADMIN, department=police))
    page = client.get(HOME, headers={"accept-language": "en"}).content.decode()
    assert "Rejected entries" in page
