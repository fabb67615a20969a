"""库表对接: a grant's extract pushed into the consumer's own database (a SQLite file here; real PostgreSQL in CI's
PostgreSQL pass), first in full, then incrementally by key, in one transaction per run, masked and filtered as the
grant says, stopped by revocation, idempotent on retry."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.core.errors import NotFound, ValidationFailed
from govshare.datasets import services as dataset_services
from govshare.datasets.loading import run_load
from govshare.gateway import delivery
from govshare.gateway.choices import DeliveryStatus, RunMode, RunStatus
from govshare.gateway.models import Delivery
from govshare.sharing import grants
from govshare.sharing.models import Grant
from govshare.sources.models import Source
from govshare.testing.clock import T0, minutes
from govshare.testing.databases import postgres_database, postgres_server
from govshare.testing.gateway import Consumer
from govshare.testing.sharing import PEOPLE_ITEMS, PEOPLE_ROWS, TODAY, issue

GRANTED = ["公民身份号码", "姓名", "区县", "户籍地址"]
# What the consumer must never receive: the plain ID numbers and names (masked), the phone numbers and 宗教信仰 (not
# granted), the rows of 罗江区 (outside the row filter).
NEVER = ("510603199001010011", "510603199303030033", "张三丰", "李四", "13812345678", "佛教", "欧阳娜娜", "罗江区")


@pytest.fixture
def table_grant(people: Resource, consumer_department: Department, consumer: Consumer) -> Grant:
    return issue(
        people,
        consumer_department,
        scenario=consumer.scenario,
        items=GRANTED,
        row_filter={"区县": ["旌阳区"]},
        delivery_method="table",
    )


@pytest.fixture
def consumer_admin(consumer_department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=consumer_department, username="ybj_admin")


@pytest.fixture
def target_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("consumer") / "consumer.sqlite"


def reload(resource: Resource, rows: list[list[str]], tmp_path: Path) -> None:
    """A new version of the resource's dataset with these rows (a full load through its source)."""
    source = Source.objects.get(resource=resource)
    owner = testing.make_user(Role.CATALOG_ADMIN, department=resource.department)
    path = tmp_path / f"people-{resource.pk}-{len(rows)}-{rows[0][1]}.csv"
    lines = [",".join(item.name for item in PEOPLE_ITEMS)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_load(dataset_services.request_load(source, actor=owner, file_path=path).pk)


def sqlite_rows(path: Path, table: str = "people") -> list[dict[str, Any]]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        rows = [dict(row) for row in con.execute(f'SELECT * FROM "{table}"')]  # noqa: S608
        return sorted(rows, key=lambda row: str(row["姓名"]))
    finally:
        con.close()


def register(actor: User, grant: Grant, url: str, table: str = "people") -> Delivery:
    data = delivery.DeliveryInput(grant_id=grant.pk, target_url=url, table_name=table)
    return delivery.register_delivery(data, actor=actor, now=T0)


def assert_nothing_secret(rows: list[dict[str, Any]]) -> None:
    text = repr(rows)
    for value in NEVER:
        assert value not in text
    assert all("手机号码" not in row and "宗教信仰" not in row for row in rows)


pytestmark = pytest.mark.usefixtures("allow_local_sources")


def test_first_run_delivers_the_granted_rows_masked_then_changes_incrementally(
    people: Resource, table_grant: Grant, consumer_admin: User, target_file: Path, tmp_path: Path
) -> None:
    subscription = register(consumer_admin, table_grant, f"sqlite:///{target_file}")
    first = delivery.run_delivery(subscription, now=minutes(1))
    assert first is not None and (first.status, first.mode, first.rows_upserted, first.rows_deleted) == (
        RunStatus.SUCCEEDED,
        RunMode.FULL,
        2,
        0,
    )
    rows = sqlite_rows(target_file)
    assert [row["姓名"] for row in rows] == sorted(["张**", "李*"])
    assert {row["区县"] for row in rows} == {"旌阳区"}
    assert list(rows[0]) == ["_key", *GRANTED]  # the masked ID number leaves only as the key's hash
    assert_nothing_secret(rows)

    # A new version: 李四 left, 张三丰 moved, a new person of 旌阳区 came, 罗江区's row changed (outside the grant).
    changed = [
        ["510603199001010011", "张三丰", "13812345678", "旌阳区", "四川省德阳市旌阳区长江西路9号", "无"],
        ["510603199202020022", "欧阳娜娜", "13987654321", "罗江区", "四川省德阳市罗江区万安镇8号", "佛教"],
        ["510603199404040044", "王五", "13600002222", "旌阳区", "四川省德阳市旌阳区岷江西路4号", "无"],
    ]
    reload(people, changed, tmp_path)
    second = delivery.run_delivery(subscription, now=minutes(2))
    # 王五 came, 李四 left; 张三丰's new house number is masked away (the extract did not change for him).
    assert second is not None and (second.mode, second.rows_upserted, second.rows_deleted) == (
        RunMode.INCREMENTAL,
        1,
        1,
    )
    rows = sqlite_rows(target_file)
    assert [row["姓名"] for row in rows] == sorted(["张**", "王*"])
    assert_nothing_secret(rows)
    subscription.refresh_from_db()
    assert subscription.delivered_version == second.version


def test_a_retry_applies_the_same_changes_without_duplicating_rows(
    people: Resource, table_grant: Grant, consumer_admin: User, target_file: Path
) -> None:
    subscription = register(consumer_admin, table_grant, f"sqlite:///{target_file}")
    delivery.run_delivery(subscription, now=minutes(1))
    # As if the process died after the target's commit, before the delivered version was recorded.
    Delivery.objects.filter(pk=subscription.pk).update(delivered_version=None)
    again = delivery.run_delivery(subscription, now=minutes(2))
    assert again is not None and again.status == RunStatus.SUCCEEDED
    assert len(sqlite_rows(target_file)) == 2
    unchanged = delivery.run_delivery(subscription, now=minutes(3))
    assert unchanged is not None and (unchanged.rows_upserted, unchanged.rows_deleted) == (0, 0)
    assert len(sqlite_rows(target_file)) == 2


def test_a_failure_before_the_commit_leaves_the_target_as_it_was(
    people: Resource, table_grant: Grant, consumer_admin: User, target_file: Path, tmp_path: Path
) -> None:
    subscription = register(consumer_admin, table_grant, f"sqlite:///{target_file}")
    delivery.run_delivery(subscription, now=minutes(1))
    before = sqlite_rows(target_file)
    # The consumer's table refuses one of the new rows (the last one the run writes): the whole run is undone.
    con = sqlite3.connect(target_file)
    con.execute(
        "CREATE TRIGGER no_wang BEFORE INSERT ON people WHEN NEW.\"姓名\" = '王*' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    con.commit()
    con.close()
    changed = [
        PEOPLE_ROWS[0],
        ["510603199404040044", "王五", "13600002222", "旌阳区", "四川省德阳市旌阳区岷江西路4号", "无"],
    ]
    reload(people, changed, tmp_path)
    failed = delivery.run_delivery(subscription, now=minutes(2))
    assert failed is not None and failed.status == RunStatus.FAILED
    assert "目标表保持本次执行前的数据" in failed.error
    assert not any(value in failed.error for value in (*NEVER, "王五"))
    assert sqlite_rows(target_file) == before  # 李四 not deleted, 王五 not added
    subscription.refresh_from_db()
    assert subscription.delivered_version == failed.from_version


def test_revocation_stops_the_next_run(
    people: Resource, table_grant: Grant, consumer_admin: User, target_file: Path
) -> None:
    subscription = register(consumer_admin, table_grant, f"sqlite:///{target_file}")
    delivery.run_delivery(subscription, now=minutes(1))
    reviewer = testing.make_user(Role.DEPT_REVIEWER, department=people.department)
    grants.revoke_grant(table_grant, actor=reviewer, reason="场景已结束")
    refused = delivery.run_delivery(subscription, now=minutes(2))
    assert refused is not None and refused.status == RunStatus.REFUSED
    subscription.refresh_from_db()
    assert subscription.status == DeliveryStatus.STOPPED and subscription.next_run_at is None
    assert delivery.run_delivery(subscription, now=minutes(3)) is None


def test_bad_targets_are_refused_with_a_precise_message(table_grant: Grant, consumer_admin: User) -> None:
    cases = {
        "not a url": "连接地址格式不正确",
        "mysql://u:p@8.8.8.8/db": "库表对接的目标库目前支持 PostgreSQL 和 SQLite",
        "postgresql://u:p@169.254.169.254/db": "不在平台允许访问的范围内",
        "postgresql://u:p@10.1.2.3/db": "不在平台允许访问的范围内",
        "sqlite:////etc/passwd": "SQLite 前置库文件须是平台允许的目录中的文件",
        "oracle://u:p@8.8.8.8/db": "不支持的前置库类型",
    }
    for url, words in cases.items():
        with pytest.raises(ValidationFailed) as refused:
            register(consumer_admin, table_grant, url)
        assert words in str(refused.value), url
        assert "p@" not in str(refused.value)
    with pytest.raises(ValidationFailed) as refused:
        register(consumer_admin, table_grant, "sqlite:////tmp/x.sqlite", table="drop table;")
    assert "目标表名" in str(refused.value)


def test_the_password_is_kept_encrypted_and_never_shown(table_grant: Grant, consumer_admin: User) -> None:
    subscription = register(consumer_admin, table_grant, "postgresql://ybj:S3cret-pw@127.0.0.1:5999/ybj")
    assert "S3cret-pw" not in subscription.target_url and "S3cret-pw" not in subscription.target_secret
    assert subscription.target_url == "postgresql+psycopg://ybj@127.0.0.1:5999/ybj"
    audit = AuditLog.objects.get(action="gateway.delivery.register")
    assert "S3cret-pw" not in repr(audit.extra)


def test_another_department_can_neither_see_nor_run_nor_register(
    table_grant: Grant, consumer_admin: User, outsider: User, target_file: Path
) -> None:
    subscription = register(consumer_admin, table_grant, f"sqlite:///{target_file}")
    with pytest.raises(NotFound):
        delivery.get_delivery(outsider, subscription.pk)
    with pytest.raises(NotFound):
        delivery.request_run(subscription, actor=outsider)
    with pytest.raises(NotFound):
        register(outsider, table_grant, f"sqlite:///{target_file}")
    provider_user = testing.make_user(Role.CATALOG_ADMIN, department=table_grant.resource.department)
    assert delivery.get_delivery(provider_user, subscription.pk) == subscription  # the provider sees it
    with pytest.raises(NotFound):
        delivery.request_run(subscription, actor=provider_user)  # but does not run it


def test_a_grant_for_api_calls_does_not_allow_a_table_delivery(
    people: Resource, consumer_department: Department, consumer: Consumer, consumer_admin: User
) -> None:
    api_grant = issue(people, consumer_department, scenario=consumer.scenario, items=GRANTED)
    with pytest.raises(ValidationFailed) as refused:
        register(consumer_admin, api_grant, "sqlite:////tmp/x.sqlite")
    assert "交付方式不是“库表对接”" in str(refused.value)


def test_the_sweep_queues_due_deliveries_once_and_runs_are_audited_with_counts_only(
    people: Resource, table_grant: Grant, consumer_admin: User, target_file: Path
) -> None:
    from django_q.models import OrmQ

    subscription = register(consumer_admin, table_grant, f"sqlite:///{target_file}")
    assert delivery.sweep_deliveries(now=minutes(1)) == [subscription.pk]
    assert delivery.sweep_deliveries(now=minutes(2)) == []  # queued already
    assert OrmQ.objects.count() == 1
    from govshare.jobs import runner

    task = OrmQ.objects.get().task
    runner.run(*task["args"])
    run = subscription.runs.get()
    assert run.status == RunStatus.SUCCEEDED
    subscription.refresh_from_db()
    assert subscription.next_run_at is not None and subscription.next_run_at > minutes(1)
    audit = AuditLog.objects.get(action="gateway.delivery.run")
    assert audit.extra["upserted"] == 2 and audit.extra["outcome"] == "succeeded"
    assert not any(value in repr(audit.extra) for value in NEVER)


# ------------------------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def pg_target() -> Iterator[str]:
    with postgres_database("delivery_target", []) as url:
        yield url


def pg_rows(url: str, table: str = "people") -> list[dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, row_factory=dict_row) as conn:
        rows = list(conn.execute(f'SELECT * FROM "{table}"').fetchall())  # noqa: S608
        return sorted(rows, key=lambda row: str(row["姓名"]))


@pytest.mark.postgresql
def test_postgresql_target_full_then_incremental_then_retry_and_rollback(
    people: Resource, table_grant: Grant, consumer_admin: User, pg_target: str, tmp_path: Path
) -> None:
    subscription = register(consumer_admin, table_grant, pg_target)
    first = delivery.run_delivery(subscription, now=minutes(1))
    assert first is not None
    assert (first.status, first.rows_upserted) == (RunStatus.SUCCEEDED, 2), first.error
    rows = pg_rows(pg_target)
    assert [row["姓名"] for row in rows] == sorted(["张**", "李*"])
    assert_nothing_secret(rows)

    changed = [
        ["510603199001010011", "张三丰", "13812345678", "旌阳区", "四川省德阳市旌阳区长江西路9号", "无"],
        ["510603199404040044", "王五", "13600002222", "旌阳区", "四川省德阳市旌阳区岷江西路4号", "无"],
    ]
    reload(people, changed, tmp_path)
    second = delivery.run_delivery(subscription, now=minutes(2))
    assert second is not None
    assert (second.mode, second.rows_upserted, second.rows_deleted) == (RunMode.INCREMENTAL, 1, 1), second.error
    assert [row["姓名"] for row in pg_rows(pg_target)] == sorted(["张**", "王*"])
    assert_nothing_secret(pg_rows(pg_target))

    # Retried as if the delivered version were lost after the commit: the same rows, no duplicates.
    Delivery.objects.filter(pk=subscription.pk).update(delivered_version=first.version)
    retried = delivery.run_delivery(subscription, now=minutes(3))
    assert retried is not None and retried.status == RunStatus.SUCCEEDED
    assert len(pg_rows(pg_target)) == 2

    # The consumer's table refuses the next version's last row: nothing of the run stays.
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(pg_target).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("ALTER TABLE people ADD CONSTRAINT no_zhao CHECK (\"姓名\" <> '赵*')")
    before = pg_rows(pg_target)
    reload(
        people,
        [*changed, ["510603199505050055", "赵六", "13500003333", "旌阳区", "四川省德阳市旌阳区x路5号", "无"]],
        tmp_path,
    )
    failed = delivery.run_delivery(subscription, now=minutes(4))
    assert failed is not None and failed.status == RunStatus.FAILED
    assert "赵" not in failed.error and "510603199505050055" not in failed.error
    assert pg_rows(pg_target) == before


@pytest.mark.postgresql
def test_the_platform_database_is_refused_as_a_target(table_grant: Grant, consumer_admin: User) -> None:
    postgres_server()
    own = connection.settings_dict
    url = f"postgresql://{own['USER']}@127.0.0.1:{own['PORT'] or 5432}/{own['NAME']}"
    with pytest.raises(ValidationFailed) as refused:
        register(consumer_admin, table_grant, url)
    assert "不在平台允许访问的范围内" in str(refused.value)


_ = TODAY


# ------------------------------------------------------------------------------------------------ API


def api(user: User, method: str, path: str, body: Any = None, **params: Any) -> Any:
    import json

    from django.test import Client

    from govshare.testing.api import bearer

    client, headers = Client(), bearer(user)
    if method == "GET":
        return client.get(f"/api/gateway{path}", params, headers=headers)
    return client.post(f"/api/gateway{path}", json.dumps(body or {}), content_type="application/json", headers=headers)


def test_the_api_registers_lists_and_runs_deliveries_for_the_consumer_only(
    people: Resource, table_grant: Grant, consumer_admin: User, outsider: User, target_file: Path
) -> None:
    body = {"grant_id": table_grant.pk, "target_url": f"sqlite:///{target_file}", "table_name": "people"}
    created = api(consumer_admin, "POST", "/deliveries", body)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["key_items"] == ["_key"] and "password" not in created.content.decode()
    delivery.run_delivery(Delivery.objects.get(pk=pk), now=minutes(1))
    listed = api(consumer_admin, "GET", "/deliveries")
    assert [row["id"] for row in listed.json()["items"]] == [pk]
    runs = api(consumer_admin, "GET", f"/deliveries/{pk}/runs", page_size=10)
    assert [(r["status"], r["rows_upserted"], r["rows_deleted"]) for r in runs.json()["items"]] == [("succeeded", 2, 0)]
    provider_admin = testing.make_user(Role.CATALOG_ADMIN, department=people.department)
    assert api(provider_admin, "GET", f"/deliveries/{pk}").status_code == 200
    assert api(provider_admin, "POST", f"/deliveries/{pk}/run").status_code == 404
    for path in (f"/deliveries/{pk}", f"/deliveries/{pk}/runs"):
        assert api(outsider, "GET", path).status_code == 404
    assert api(outsider, "POST", f"/deliveries/{pk}/run").status_code == 404
    assert api(outsider, "GET", "/deliveries").json()["items"] == []
    assert api(consumer_admin, "POST", f"/deliveries/{pk}/run").status_code == 202
    bad = api(consumer_admin, "POST", "/deliveries", {**body, "target_url": "postgresql://u:pw@10.1.2.3/db"})
    assert bad.status_code == 422 and "不在平台允许访问的范围内" in bad.json()["errors"][0]["message"]
    assert "pw@" not in repr(bad.json())


# ------------------------------------------------------------------------------------------------ pages


def test_the_pages_show_the_consumer_its_deliveries_and_each_runs_rows_and_status(
    people: Resource, table_grant: Grant, consumer_admin: User, outsider: User, target_file: Path
) -> None:
    from django.test import Client

    subscription = register(consumer_admin, table_grant, f"sqlite:///{target_file}")
    delivery.run_delivery(subscription, now=minutes(1))
    client = Client()
    client.force_login(consumer_admin)
    listed = client.get("/gateway/deliveries/").content.decode()
    assert people.name in listed and "写入 2 行，删除 0 行" in listed and 'class="list cards"' in listed
    detail = client.get(f"/gateway/deliveries/{subscription.pk}/").content.decode()
    assert "立即执行" in detail and "全量" in detail and "成功" in detail
    assert "sqlite" in detail and all(value not in detail for value in NEVER)
    ran = client.post(f"/gateway/deliveries/{subscription.pk}/run/")
    assert ran.status_code == 302
    client.force_login(outsider)
    assert client.get(f"/gateway/deliveries/{subscription.pk}/").status_code == 404
    assert people.name not in client.get("/gateway/deliveries/").content.decode()


@pytest.mark.django_db
def test_the_hourly_sweep_of_due_deliveries_is_scheduled_after_migrate() -> None:
    from django_q.models import Schedule

    from govshare.gateway import jobs
    from govshare.jobs import registry

    jobs.ensure_schedule_after_migrate()
    schedule = Schedule.objects.get(name=jobs.SWEEP_DELIVERIES_SCHEDULE_NAME)
    assert schedule.schedule_type == Schedule.HOURLY
    assert registry.scheduled_task(schedule.func, schedule.args) == (jobs.SWEEP_DELIVERIES, ())
