"""Who sees a job, on the pages, in the API and on the command line: its requester, its department's catalogue
administrators and the platform administrator; anyone else gets 404, as for a missing job."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from govshare import testing
from govshare.core.roles import Role
from govshare.jobs.models import Job
from govshare.jobs.services import JobContext, register_job, run_job_here, start_job
from govshare.testing.api import bearer

pytestmark = pytest.mark.django_db


def tally(context: JobContext, n: int) -> dict[str, int]:
    for i in range(1, n + 1):
        context.advance(i, n)
    context.log("已统计完毕")
    return {"rows": n}


register_job("testing.tally", tally)


@pytest.fixture
def started(department):  # type: ignore[no-untyped-def]
    owner = testing.make_user(Role.CATALOG_ADMIN, department=department)
    job = start_job("testing.tally", 8, title="统计本部门数据", actor=owner, department_id=department.pk, enqueue=False)
    return owner, run_job_here(job)


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_requester_sees_the_job_page_with_its_progress_and_log(started) -> None:
    owner, job = started
    page = signed_in(owner).get(f"/jobs/{job.pk}/").content.decode()
    assert "统计本部门数据" in page and 'value="100"' in page and "已统计完毕" in page
    assert f'href="/jobs/{job.pk}/"' in signed_in(owner).get("/jobs/").content.decode()


def test_a_catalogue_administrator_of_the_department_sees_its_jobs(started, department) -> None:
    _, job = started
    colleague = testing.make_user(Role.CATALOG_ADMIN, department=department)
    assert signed_in(colleague).get(f"/jobs/{job.pk}/").status_code == 200


def test_another_departments_administrator_gets_404_on_the_page_and_the_api(started) -> None:
    _, job = started
    outsider = testing.make_user(Role.CATALOG_ADMIN, department=testing.make_department())
    assert signed_in(outsider).get(f"/jobs/{job.pk}/").status_code == 404
    assert Client().get(f"/api/jobs/{job.pk}", headers=bearer(outsider)).status_code == 404
    listed = Client().get("/api/jobs", headers=bearer(outsider)).json()
    assert listed["total"] == 0 and listed["items"] == []
    assert f"/jobs/{job.pk}/" not in signed_in(outsider).get("/jobs/").content.decode()


def test_a_consumer_of_the_same_department_does_not_see_others_jobs(started, department) -> None:
    _, job = started
    consumer = testing.make_user(Role.CONSUMER, department=department)
    assert signed_in(consumer).get(f"/jobs/{job.pk}/").status_code == 404


def test_the_platform_administrator_sees_every_job(started) -> None:
    _, job = started
    admin = testing.make_user(Role.PLATFORM_ADMIN, department=testing.make_department())
    body = Client().get(f"/api/jobs/{job.pk}", headers=bearer(admin)).json()
    assert (body["status"], body["percent"], body["progress_done"], body["result"]) == (
        "succeeded",
        100,
        8,
        {"rows": 8},
    )


def test_the_api_lists_by_cursor_newest_first(started, department) -> None:
    owner, first = started
    second = start_job("testing.tally", 1, title="第二个", actor=owner, department_id=department.pk, enqueue=False)
    page = Client().get("/api/jobs", {"page_size": 1}, headers=bearer(owner)).json()
    assert [item["id"] for item in page["items"]] == [second.pk] and page["next_after"]
    after = Client().get("/api/jobs", {"page_size": 1, "after": page["next_after"]}, headers=bearer(owner)).json()
    assert [item["id"] for item in after["items"]] == [first.pk]


def test_anonymous_callers_get_401_and_the_login_page() -> None:
    assert Client().get("/api/jobs").status_code == 401
    assert Client().get("/jobs/").status_code == 302


def test_the_cli_lists_shows_and_follows_a_job(started) -> None:
    _, job = started
    out = io.StringIO()
    call_command("jobs", "list", stdout=out)
    assert f"#{job.pk}\t成功\t100%" in out.getvalue()
    out = io.StringIO()
    call_command("jobs", "watch", str(job.pk), "--no-progress", stdout=out, stderr=io.StringIO())
    assert "状态：成功，进度：100%（8/8 项）" in out.getvalue() and "已统计完毕" in out.getvalue()


def test_the_cli_says_when_a_job_does_not_exist() -> None:
    with pytest.raises(CommandError, match="不存在"):
        call_command("jobs", "show", "999999")


def test_rotate_keys_in_the_background_only_queues_its_job(django_capture_on_commit_callbacks) -> None:
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("rotate_keys", "--background", stdout=out)
    job = Job.objects.get(task="keys.rotate")
    assert job.status == "queued" and f"后台任务 #{job.pk}" in out.getvalue()


def test_rotate_keys_in_the_foreground_leaves_a_finished_job_row() -> None:
    call_command("rotate_keys", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    job = Job.objects.get(task="keys.rotate")
    assert job.status == "succeeded" and "仍在使用的密钥" in job.log and "active" in job.result
