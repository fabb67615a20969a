"""A database of the previous release (2026-11, before the hardening release) upgrades without loss: its accounts,
tokens, audit rows and sources are written with the models as they were then, `migrate` runs, and every row is
still there, changed only as the release notes say (tokens get an expiry, legacy credentials move into the
encrypted secret, the audit rows written before are sealed unkeyed and verify)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from govshare.accounts.models import ApiToken, Department, User
from govshare.audit import chain
from govshare.audit.models import AuditLog
from govshare.datasets.models import Source

# The last migration of each app the hardening release changed, as the previous release shipped it.
PREVIOUS_RELEASE = {
    "accounts": "0001_departments_users_roles_tokens",
    "audit": "0002_hash_chain",
    "datasets": "0003_encrypt_source_secrets",
}


def _previous_release_targets(executor: MigrationExecutor) -> list[tuple[str, str]]:
    leaves = executor.loader.graph.leaf_nodes()
    return [(app, PREVIOUS_RELEASE.get(app, name)) for app, name in leaves]


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
        old = executor.loader.project_state(targets).apps
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
        call_command("migrate", "audit", PREVIOUS_RELEASE["audit"], verbosity=0)
        applied = MigrationExecutor(connection).loader.applied_migrations
        assert ("audit", "0003_keyed_chain") not in applied
    finally:
        _migrate_to_current()
    assert ("audit", "0003_keyed_chain") in MigrationExecutor(connection).loader.applied_migrations
