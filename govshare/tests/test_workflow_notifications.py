"""Notifications of what happens to a department's catalogue and data: the reviewer's publications and rejections
reach the department's catalogue administrators, grading decisions the proposer, failed loads the department's
catalogue administrators; each written in the transaction of the action (a refused action tells nobody)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog import services as catalog_services
from govshare.catalog.models import Resource
from govshare.core.errors import DomainError
from govshare.datasets import jobs
from govshare.datasets import services as dataset_services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.datasets.signals import VersionRefused, version_ready
from govshare.grading import services as grading_services
from govshare.grading.models import GradingChange
from govshare.notifications.choices import NotificationKind
from govshare.notifications.models import Notification
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source

pytestmark = pytest.mark.django_db


def inbox(user: User, kind: str | None = None) -> list[Notification]:
    rows = Notification.objects.filter(recipient=user).order_by("pk")
    return list(rows.filter(kind=kind) if kind else rows)


@pytest.fixture
def police() -> Department:
    return testing.make_department("市公安局")


@pytest.fixture
def health() -> Department:
    return testing.make_department("市卫生健康委")


@pytest.fixture
def police_admin(police: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=police)


@pytest.fixture
def reviewer() -> User:
    return testing.make_user(Role.PLATFORM_ADMIN)


def submitted(department: Department, author: User, name: str = "户籍人口信息") -> Resource:
    resource = catalog_services.create_resource(testing.resource_draft(department, name=name), actor=author)
    return catalog_services.submit_resource(resource, actor=author)


# --- the catalogue's review -------------------------------------------------------------------------------------


def test_a_rejection_reaches_the_departments_catalogue_administrators_with_the_reason(
    police: Department, police_admin: User, reviewer: User
) -> None:
    colleague = testing.make_user(Role.CATALOG_ADMIN, department=police)
    entry = submitted(police, police_admin)
    catalog_services.reject_resource(entry, reason="摘要未写明数据范围", actor=reviewer)
    for admin in (police_admin, colleague):
        [notice] = inbox(admin, NotificationKind.CATALOG_REVIEW)
        assert notice.title == "资源“户籍人口信息”被驳回"
        assert "驳回理由：摘要未写明数据范围" in notice.body
        assert notice.link == f"/catalog/resources/{entry.pk}/"


def test_attack_a_rejection_never_reaches_another_departments_administrators(
    police: Department, health: Department, police_admin: User, reviewer: User
) -> None:
    outsider = testing.make_user(Role.CATALOG_ADMIN, department=health)
    catalog_services.reject_resource(submitted(police, police_admin), reason="不全", actor=reviewer)
    assert inbox(outsider) == []


def test_a_rejection_reaches_no_consumer_of_the_department(
    police: Department, police_admin: User, reviewer: User
) -> None:
    consumer = testing.make_user(Role.CONSUMER, department=police)
    catalog_services.reject_resource(submitted(police, police_admin), reason="不全", actor=reviewer)
    assert inbox(consumer) == []


def test_a_publication_reaches_the_departments_catalogue_administrators(
    police: Department, police_admin: User, reviewer: User
) -> None:
    catalog_services.publish_resource(submitted(police, police_admin), actor=reviewer)
    [notice] = inbox(police_admin, NotificationKind.CATALOG_REVIEW)
    assert notice.title == "资源“户籍人口信息”已发布"


def test_a_batch_publication_sends_one_notification_per_department(
    police: Department, health: Department, police_admin: User, reviewer: User
) -> None:
    health_admin = testing.make_user(Role.CATALOG_ADMIN, department=health)
    entries = [submitted(police, police_admin, f"公安资源{n}") for n in range(3)]
    entries.append(submitted(health, health_admin, "卫健资源"))
    catalog_services.publish_resources(entries, actor=reviewer)
    [police_notice] = inbox(police_admin)
    assert police_notice.title == "3 条资源已发布" and police_notice.link == "/"
    assert all(f"公安资源{n}" in police_notice.body for n in range(3)) and "卫健资源" not in police_notice.body
    [health_notice] = inbox(health_admin)
    assert health_notice.title == "资源“卫健资源”已发布"


def test_submitting_an_entry_notifies_nobody(police: Department, police_admin: User) -> None:
    colleague = testing.make_user(Role.CATALOG_ADMIN, department=police)
    submitted(police, police_admin)
    assert Notification.objects.filter(recipient__in=[police_admin, colleague]).count() == 0


def test_a_refused_rejection_notifies_nobody(police: Department, police_admin: User) -> None:
    entry = submitted(police, police_admin)
    with pytest.raises(DomainError):
        catalog_services.reject_resource(entry, reason="不全", actor=testing.make_user(Role.CATALOG_ADMIN))
    assert Notification.objects.count() == 0


# --- grading decisions ------------------------------------------------------------------------------------------


def proposed(department: Department, proposer: User) -> GradingChange:
    resource = testing.make_published_resource(department)
    return grading_services.propose_grading_change(
        resource, item_name="", to_grade="important", to_level="L3", reason="含身份信息", actor=proposer
    )


def test_an_approved_grading_change_is_told_to_its_proposer(police: Department, police_admin: User) -> None:
    change = proposed(police, police_admin)
    grading_services.approve_grading_change(change, note="同意", actor=testing.make_user(Role.SECURITY_OFFICER))
    [notice] = inbox(police_admin, NotificationKind.GRADING_DECISION)
    assert notice.title == f"分级调整申请 #{change.pk} 已通过"
    assert "审核意见：同意" in notice.body and notice.link == f"/grading/changes/{change.pk}/"


def test_a_rejected_grading_change_is_told_to_its_proposer_with_the_reason(
    police: Department, police_admin: User
) -> None:
    colleague = testing.make_user(Role.CATALOG_ADMIN, department=police)
    change = proposed(police, police_admin)
    grading_services.reject_grading_change(
        change, reason="姓名须保持 L3", actor=testing.make_user(Role.SECURITY_OFFICER)
    )
    [notice] = inbox(police_admin, NotificationKind.GRADING_DECISION)
    assert notice.title == f"分级调整申请 #{change.pk} 被驳回" and "驳回理由：姓名须保持 L3" in notice.body
    assert inbox(colleague, NotificationKind.GRADING_DECISION) == []  # the proposer's alone


# --- failed loads -----------------------------------------------------------------------------------------------

ITEMS_MAPPING = [
    source_services.MappingEntry("身份证号", "公民身份号码"),
    source_services.MappingEntry("姓名", "姓名"),
    source_services.MappingEntry("出生日期", "出生日期"),
]


def file_source(department: Department, admin: User) -> Source:
    resource = testing.make_published_resource(department, name="常住人口基本信息")
    data = source_services.SourceInput(name="线下报送", kind=SourceKind.FILE, config={"format": "csv"})
    return source_services.set_mapping(
        source_services.register_source(resource, data, actor=admin), ITEMS_MAPPING, actor=admin
    )


@pytest.mark.usefixtures("allow_local_sources")
def test_a_failed_load_reaches_the_departments_catalogue_administrators(
    police: Department, health: Department, police_admin: User, tmp_path: Path
) -> None:
    colleague = testing.make_user(Role.CATALOG_ADMIN, department=police)
    outsider = testing.make_user(Role.CATALOG_ADMIN, department=health)
    path = tmp_path / "缺列.csv"
    path.write_text("身份证号,姓名\n510603199001010001,张三\n", encoding="utf-8")
    load = dataset_services.request_load(file_source(police, police_admin), actor=police_admin, file_path=path)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.FAILED
    for admin in (police_admin, colleague):
        [notice] = inbox(admin, NotificationKind.LOAD_FAILED)
        assert notice.title == f"“常住人口基本信息”归集失败（归集任务 #{load.pk}）"
        assert "出生日期" in notice.body and notice.link == f"/datasets/loads/{load.pk}/"
    assert inbox(outsider) == []


@pytest.mark.usefixtures("allow_local_sources")
def test_a_successful_load_notifies_nobody(police: Department, police_admin: User, tmp_path: Path) -> None:
    path = tmp_path / "好.csv"
    path.write_text("身份证号,姓名,出生日期\n510603199001010001,张三,1990-01-01\n", encoding="utf-8")
    load = dataset_services.request_load(file_source(police, police_admin), actor=police_admin, file_path=path)
    run_load(load.pk)
    assert Load.objects.get(pk=load.pk).status == LoadStatus.SUCCEEDED
    assert inbox(police_admin, NotificationKind.LOAD_FAILED) == []


def dead_load(source: Source, tmp_path: Path, *, attempts: int) -> Load:
    """A load whose worker died mid-run five minutes ago (its heartbeat stopped), on its `attempts`-th attempt."""
    path = tmp_path / "报送.csv"
    path.write_text("身份证号,姓名,出生日期\n510603199001010001,张三,1990-01-01\n", encoding="utf-8")
    load = dataset_services.request_load(source, actor=None, file_path=path, enqueue=False)
    beat = timezone.now() - timedelta(minutes=5)
    Load.objects.filter(pk=load.pk).update(
        status=LoadStatus.RUNNING, attempts=attempts, claim_token=str(uuid.uuid4()), started_at=beat, heartbeat_at=beat
    )
    return Load.objects.get(pk=load.pk)


def test_a_load_whose_worker_died_on_its_last_attempt_reaches_the_department(
    police: Department, police_admin: User, tmp_path: Path
) -> None:
    load = dead_load(file_source(police, police_admin), tmp_path, attempts=3)
    jobs.recover_stale_loads()
    [notice] = inbox(police_admin, NotificationKind.LOAD_FAILED)
    assert f"归集任务 #{load.pk}" in notice.title and "执行进程失联" in notice.body


def test_a_load_whose_worker_died_with_attempts_left_notifies_nobody(
    police: Department, police_admin: User, tmp_path: Path
) -> None:
    dead_load(file_source(police, police_admin), tmp_path, attempts=1)
    jobs.recover_stale_loads()
    assert inbox(police_admin, NotificationKind.LOAD_FAILED) == []


def refuse_every_version(sender: object, **kwargs: object) -> None:
    raise VersionRefused("数据未通过质量检查")


@pytest.mark.usefixtures("allow_local_sources")
def test_a_load_whose_version_a_check_refused_reaches_the_department(
    police: Department, police_admin: User, tmp_path: Path
) -> None:
    path = tmp_path / "报送.csv"
    path.write_text("身份证号,姓名,出生日期\n510603199001010001,张三,1990-01-01\n", encoding="utf-8")
    load = dataset_services.request_load(file_source(police, police_admin), actor=police_admin, file_path=path)
    version_ready.connect(refuse_every_version, weak=False)
    try:
        run_load(load.pk)
    finally:
        version_ready.disconnect(refuse_every_version)
    assert Load.objects.get(pk=load.pk).status == LoadStatus.FAILED
    [notice] = inbox(police_admin, NotificationKind.LOAD_FAILED)
    assert "数据检查未通过" in notice.body and "数据未通过质量检查" in notice.body
