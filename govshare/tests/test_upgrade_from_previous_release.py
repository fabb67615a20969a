"""Databases of earlier releases upgrade without loss: rows are written with the models as they were then, `migrate`
runs, and every row is still there, changed only as the release notes say.

- The release of 2026-11 (before the hardening release): tokens get an expiry, legacy credentials move into the
  encrypted secret, the audit rows written before are sealed unkeyed and verify.
- The hardening release (2026-12-07): sources move from the datasets app to their own (same table, same rows; a
  source's encrypted credential still decrypts; loads, queued jobs and schedules keep pointing at their source).
- The groundwork release (2026-12-07, later): the job rows, version leases, change requests, synonym groups,
  不是重复 marks, maintenance reminders and new notification kinds arrive; published entries, notifications, loads
  and the audit trail stay as they were.
- The first-wave release (2026-12-07, later): the sharing app (scenarios, grants) and the 共享协调员 role arrive;
  users and their roles, information systems, open change requests and the audit trail stay as they were.
- The sharing release (2026-12-07, last): the gateway app, the key index and systems' calling addresses arrive;
  scenarios with their systems, grants with their terms and the day's usage, systems and the trail stay as they
  were, and a system without an address list may call from anywhere, as before."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_q.models import OrmQ, Schedule

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import ApiToken, Department, User
from govshare.audit import chain
from govshare.audit.models import AuditLog
from govshare.audit.services import record_action
from govshare.catalog import notices
from govshare.catalog.models import Resource, ResourceRevision, SynonymGroup
from govshare.datasets.choices import VersionKind
from govshare.datasets.models import Dataset, DatasetVersion, Load, VersionLease
from govshare.identity.models import InformationSystem
from govshare.jobs.models import Job
from govshare.notifications.models import Notification
from govshare.sharing.models import Grant, GrantUsage, Scenario
from govshare.sources.models import Source

# The last migration of each app a release shipped, where it differs from today's (None: the app did not exist).
HARDENING_RELEASE: dict[str, str | None] = {
    "datasets": "0004_move_credentials_out_of_config",
    "identity": "0003_move_totp_devices_to_encrypted_key",
    "gateway": None,
    "jobs": None,
    "notifications": None,
    "sharing": None,
    "sources": None,
    "accounts": "0004_role_grant_requests",
}
GROUNDWORK_RELEASE: dict[str, str | None] = {
    "catalog": "0006_item_at_rest_encryption",
    "datasets": "0008_schedules_run_tasks_by_name",
    "gateway": None,
    "jobs": None,
    "notifications": "0001_notification_inbox",
    "sharing": None,
    "accounts": "0004_role_grant_requests",
}
FIRST_WAVE_RELEASE: dict[str, str | None] = {
    "accounts": "0004_role_grant_requests",
    "gateway": None,
    "identity": "0004_information_systems",
    "sharing": None,
}
SHARING_RELEASE: dict[str, str | None] = {
    "datasets": "0009_version_leases",
    "gateway": None,
    "identity": "0005_system_protection_hosting_and_rotation",
    "notifications": "0004_scenario_kinds",
}
PREVIOUS_RELEASE: dict[str, str | None] = {
    **HARDENING_RELEASE,
    "accounts": "0001_departments_users_roles_tokens",
    "audit": "0002_hash_chain",
    "datasets": "0003_encrypt_source_secrets",
}


def _release_targets(executor: MigrationExecutor, release: dict[str, str | None]) -> list[tuple[str, str | None]]:
    leaves = executor.loader.graph.leaf_nodes()
    return [(app, release.get(app, name)) for app, name in leaves]


def _state_at(executor: MigrationExecutor, targets: list[tuple[str, str | None]]) -> Any:
    """The models as they were at `targets` (apps that did not exist yet are simply absent)."""
    return executor.loader.project_state([(app, name) for app, name in targets if name is not None]).apps


def _previous_release_targets(executor: MigrationExecutor) -> list[tuple[str, str | None]]:
    return _release_targets(executor, PREVIOUS_RELEASE)


def _migrate_to_current() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


# serialized_rollback: as the other migration tests, so that content types keep their ids for later tests.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_of_the_previous_release_upgrades_without_loss() -> None:
    executor = MigrationExecutor(connection)
    targets = _previous_release_targets(executor)
    try:
        executor.migrate(targets)
        old = _state_at(executor, targets)
        department = old.get_model("accounts", "Department").objects.create(
            code="11510600MB1234567X", name="升级测试局", level="city"
        )
        user = old.get_model("accounts", "User").objects.create(
            username="upgrade_admin", password="!", department_id=department.pk
        )
        old.get_model("accounts", "ApiToken").objects.create(
            user=user, name="旧脚本", prefix="gs_upg0000", digest="a" * 64
        )
        log = old.get_model("audit", "AuditLog").objects
        for number in range(3):
            log.create(
                actor_id=user.pk, actor_name=user.username, action="catalog.resource.publish", object_id=str(number)
            )
        category = old.get_model("catalog", "Category").objects.order_by("pk").first()
        assert category is not None
        resource = old.get_model("catalog", "Resource").objects.create(
            code="101/000001",
            category=category,
            name="升级测试资源",
            department_id=department.pk,
            summary="升级前的资源",
            format="database",
            share_type="unconditional",
            open_type="closed",
            update_cycle="daily",
        )
        old.get_model("datasets", "Source").objects.create(
            resource_id=resource.pk,
            name="旧接口",
            kind="http_api",
            created_by_id=user.pk,
            config={"url": "https://api.example.gov.cn/people?access_token=legacy-token&page=1", "records_path": "$"},
        )
    finally:
        _migrate_to_current()

    assert Department.objects.filter(name="升级测试局").exists()
    user = User.objects.get(username="upgrade_admin")
    token = ApiToken.objects.get(user=user)
    assert token.expires_at is not None and token.expires_at > token.created_at + dt.timedelta(days=1)
    assert token.revoked_at is None
    assert AuditLog.objects.filter(actor_name="upgrade_admin").count() == 3
    report = chain.verify_audit_chain()
    assert report.ok, report.problems
    assert report.legacy_rows == 3
    source = Source.objects.get(name="旧接口")
    assert "legacy-token" not in source.config["url"] and "page=1" in source.config["url"]
    assert source.secret == "legacy-token"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_operator_can_roll_the_audit_app_back_to_the_previous_release() -> None:
    # `migrate audit 0002` sends post_migrate, whose anchoring must not query the keyed chain's dropped columns.
    from django.core.management import call_command

    try:
        call_command("migrate", "audit", "0002_hash_chain", verbosity=0)
        applied = MigrationExecutor(connection).loader.applied_migrations
        assert ("audit", "0003_keyed_chain") not in applied
    finally:
        _migrate_to_current()
    assert ("audit", "0003_keyed_chain") in MigrationExecutor(connection).loader.applied_migrations


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_of_the_hardening_release_upgrades_without_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    # The catalogue is written with today's code, which tells the department of a publication; that release had no
    # notifications (their table does not exist yet), so it told no one.
    monkeypatch.setattr(notices, "review_decided", lambda *args, **kwargs: None)
    executor = MigrationExecutor(connection)
    targets = _release_targets(executor, HARDENING_RELEASE)
    try:
        executor.migrate(targets)  # type: ignore[arg-type]
        old = _state_at(executor, targets)
        # Accounts, the catalogue and the audit trail are as they are today: written with today's code.
        department = testing.make_department("升级测试局")
        admin = testing.make_user(Role.CATALOG_ADMIN, department=department, username="upgrade_admin")
        resource = testing.make_published_resource(department, name="升级测试资源")
        source = old.get_model("datasets", "Source").objects.create(
            resource_id=resource.pk,
            name="旧前置库",
            kind="database",
            created_by_id=admin.pk,
            config={"url": "postgresql://reader@10.0.0.5/front", "table": "rk"},
            secret="front-password",  # encrypted by the field, bound to datasets.Source.secret
        )
        dataset = old.get_model("datasets", "Dataset").objects.create(resource_id=resource.pk, table_uri="")
        load = old.get_model("datasets", "Load").objects.create(
            dataset_id=dataset.pk, source_id=source.pk, mode="full", status="queued", requested_by_id=admin.pk
        )
        loaded = old.get_model("datasets", "Load").objects.create(
            dataset_id=dataset.pk, source_id=source.pk, mode="full", status="succeeded", version=0, rows_loaded=7
        )
        content_type = old.get_model("contenttypes", "ContentType").objects.get(app_label="datasets", model="source")
        OrmQ.objects.create(key="govshare", payload="queued load", lock=None)
        Schedule.objects.create(
            name=f"source-{source.pk}", func="govshare.datasets.jobs.run_scheduled_load", args=repr((source.pk,))
        )
        with transaction.atomic():
            record_action(admin, "datasets.source_registered", object_type="datasets.source", object_id=str(source.pk))
            # Versions made by key rotation were known only from their audit rows.
            record_action(
                None,
                "datasets.encryption_rotated",
                object_type="datasets.dataset",
                object_id=str(dataset.pk),
                from_version=0,
                version=1,
                rows=7,
            )
        chain.seal_audit_log()
    finally:
        _migrate_to_current()

    moved = Source.objects.get(name="旧前置库")
    assert (moved.pk, moved.secret, moved.config["table"]) == (source.pk, "front-password", "rk")
    assert Load.objects.get(pk=load.pk).source == moved
    assert Dataset.objects.get(pk=dataset.pk).resource_id == resource.pk
    assert ContentType.objects.get_for_model(Source).pk == content_type.pk  # permissions follow the model
    assert not ContentType.objects.filter(app_label="datasets", model="source").exists()
    assert OrmQ.objects.filter(payload="queued load").exists()
    schedule = Schedule.objects.get(name=f"source-{source.pk}")  # runs its task by the task's stable name now
    assert (schedule.func, schedule.args) == (
        "govshare.jobs.runner.run",
        repr(("datasets.run_scheduled_load", source.pk)),
    )
    report = chain.verify_audit_chain()
    assert report.ok, report.problems
    versions = DatasetVersion.objects.filter(dataset_id=dataset.pk).order_by("number")
    assert [(v.number, v.kind, v.load_id, v.rows) for v in versions] == [
        (0, VersionKind.LOAD, loaded.pk, 7),
        (1, VersionKind.KEY_ROTATION, None, 7),
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_of_the_groundwork_release_upgrades_without_loss() -> None:
    executor = MigrationExecutor(connection)
    targets = _release_targets(executor, GROUNDWORK_RELEASE)
    try:
        executor.migrate(targets)  # type: ignore[arg-type]
        old = _state_at(executor, targets)
        department = old.get_model("accounts", "Department").objects.create(
            code="11510600MB1234567X", name="升级测试局", level="city"
        )
        user = old.get_model("accounts", "User").objects.create(
            username="upgrade_admin", password="!", department_id=department.pk
        )
        category = old.get_model("catalog", "Category").objects.order_by("pk").first()
        assert category is not None
        resource = old.get_model("catalog", "Resource").objects.create(
            code="101/000001",
            category=category,
            name="升级测试资源",
            department_id=department.pk,
            summary="已发布的资源",
            format="database",
            share_type="unconditional",
            open_type="closed",
            update_cycle="daily",
            status="published",
        )
        notification = old.get_model("notifications", "Notification").objects.create(
            recipient_id=user.pk, kind="system", title="旧通知", body="升级前的通知"
        )
        dataset = old.get_model("datasets", "Dataset").objects.create(resource_id=resource.pk, table_uri="")
        source = old.get_model("sources", "Source").objects.create(
            resource_id=resource.pk, name="旧文件报送", kind="file", created_by_id=user.pk, config={"format": "csv"}
        )
        load = old.get_model("datasets", "Load").objects.create(
            dataset_id=dataset.pk, source_id=source.pk, mode="full", status="succeeded", version=0, rows_loaded=7
        )
        with transaction.atomic():
            record_action(None, "catalog.resource.publish", object_type="catalog.resource", object_id=str(resource.pk))
        chain.seal_audit_log()
    finally:
        _migrate_to_current()

    upgraded = Resource.objects.get(pk=resource.pk)
    assert (upgraded.status, upgraded.summary) == ("published", "已发布的资源")
    assert not ResourceRevision.objects.filter(resource=upgraded).exists()  # published as it was, nothing pending
    assert SynonymGroup.objects.filter(is_active=True).count() >= 30  # the search's groups are seeded
    kept = Notification.objects.get(pk=notification.pk)
    assert (kept.kind, kept.title, kept.read_at) == ("system", "旧通知", None)
    assert Load.objects.get(pk=load.pk).rows_loaded == 7
    assert not Job.objects.exists() and not VersionLease.objects.exists()
    report = chain.verify_audit_chain()
    assert report.ok, report.problems


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_of_the_first_wave_release_upgrades_without_loss() -> None:
    executor = MigrationExecutor(connection)
    targets = _release_targets(executor, FIRST_WAVE_RELEASE)
    try:
        executor.migrate(targets)  # type: ignore[arg-type]
        old = _state_at(executor, targets)
        department = old.get_model("accounts", "Department").objects.create(
            code="11510600MB1234567X", name="升级测试局", level="city"
        )
        user = old.get_model("accounts", "User").objects.create(
            username="upgrade_consumer", password="!", department_id=department.pk
        )
        old.get_model("accounts", "UserRole").objects.create(user_id=user.pk, role="consumer")
        system = old.get_model("identity", "InformationSystem").objects.create(
            code="sj-test", name="升级测试系统", department_id=department.pk, purpose="核验", created_by_id=user.pk
        )
        category = old.get_model("catalog", "Category").objects.order_by("pk").first()
        assert category is not None
        resource = old.get_model("catalog", "Resource").objects.create(
            code="101/000002",
            category=category,
            name="升级前已发布的资源",
            department_id=department.pk,
            summary="发布后提交了变更",
            format="database",
            share_type="conditional",
            open_type="closed",
            update_cycle="daily",
            status="published",
        )
        revision = old.get_model("catalog", "ResourceRevision").objects.create(
            resource_id=resource.pk,
            author_id=user.pk,
            author_name="upgrade_consumer",
            base_version=1,
            content={"summary": "变更后的摘要"},
        )
        with transaction.atomic():
            record_action(None, "catalog.resource.publish", object_type="catalog.resource", object_id=str(resource.pk))
        chain.seal_audit_log()
    finally:
        _migrate_to_current()

    upgraded_user = User.objects.get(pk=user.pk)
    assert upgraded_user.role_set() == {Role.CONSUMER}
    assert Resource.objects.get(pk=resource.pk).status == "published"
    assert ResourceRevision.objects.get(pk=revision.pk).content == {"summary": "变更后的摘要"}
    assert InformationSystem.objects.get(pk=system.pk).name == "升级测试系统"
    assert not Scenario.objects.exists() and not Grant.objects.exists()
    report = chain.verify_audit_chain()
    assert report.ok, report.problems


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_of_the_sharing_release_upgrades_without_loss() -> None:
    executor = MigrationExecutor(connection)
    targets = _release_targets(executor, SHARING_RELEASE)
    try:
        executor.migrate(targets)  # type: ignore[arg-type]
        old = _state_at(executor, targets)
        department = old.get_model("accounts", "Department").objects.create(
            code="11510600MB7654321X", name="升级测试医保局", level="city"
        )
        user = old.get_model("accounts", "User").objects.create(
            username="upgrade_admin", password="!", department_id=department.pk
        )
        system = old.get_model("identity", "InformationSystem").objects.create(
            code="yb-hy",
            name="医保核验系统",
            department_id=department.pk,
            purpose="参保资格核验",
            created_by_id=user.pk,
        )
        category = old.get_model("catalog", "Category").objects.order_by("pk").first()
        assert category is not None
        resource = old.get_model("catalog", "Resource").objects.create(
            code="101/000003",
            category=category,
            name="升级前共享的资源",
            department_id=department.pk,
            summary="已授权",
            format="database",
            share_type="conditional",
            open_type="closed",
            update_cycle="daily",
            status="published",
        )
        scenario = old.get_model("sharing", "Scenario").objects.create(
            department_id=department.pk,
            name="参保资格核验",
            description="核验参保人身份",
            legal_basis="《社会保险法》",
            status="approved",
            created_by_id=user.pk,
        )
        scenario.systems.add(system.pk)
        day = dt.date(2026, 12, 7)
        grant = old.get_model("sharing", "Grant").objects.create(
            department_id=department.pk,
            scenario_id=scenario.pk,
            resource_id=resource.pk,
            items=["公民身份号码", "姓名"],
            row_filter={"区县": ["旌阳区"]},
            masking={"姓名": "name"},
            daily_quota=1000,
            valid_from=day,
            valid_until=day + dt.timedelta(days=365),
            last_confirmed_on=day,
            status="active",
            granted_by_id=user.pk,
        )
        old.get_model("sharing", "GrantUsage").objects.create(grant_id=grant.pk, day=day, accesses=17)
        with transaction.atomic():
            record_action(None, "sharing.grant.issue", object_type="sharing.grant", object_id=str(grant.pk))
        chain.seal_audit_log()
    finally:
        _migrate_to_current()

    upgraded = Grant.objects.get(pk=grant.pk)
    assert (upgraded.items, upgraded.row_filter, upgraded.masking, upgraded.daily_quota) == (
        ["公民身份号码", "姓名"],
        {"区县": ["旌阳区"]},
        {"姓名": "name"},
        1000,
    )
    assert GrantUsage.objects.get(grant=upgraded, day=day).accesses == 17
    upgraded_system = InformationSystem.objects.get(pk=system.pk)
    assert list(Scenario.objects.get(pk=scenario.pk).systems.values_list("pk", flat=True)) == [system.pk]
    assert upgraded_system.allowed_networks == ""  # no address list: callable from anywhere, as before
    report = chain.verify_audit_chain()
    assert report.ok, report.problems
