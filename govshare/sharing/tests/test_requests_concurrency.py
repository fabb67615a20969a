"""Two reviewers decide the same share-request line at the same moment, each in a real process of its own on the
real database: exactly one decision wins, the other is told the line was already decided (409), one grant at most
exists (the winner's, if it approved) and the history holds one decision — never a request lost or decided twice.

Both processes read the line before the start (as their pages did), then wait for one signal sent to both at once.
Marked `worker`: on SQLite the test database is then a file the processes share (conftest.py; transactions there
begin IMMEDIATE, so the second waits for the first); on PostgreSQL they connect to the test database by name and the
line's row lock makes the second wait.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.sharing.choices import LineStatus, RequestAction
from govshare.sharing.models import Grant, ShareRequestEvent, ShareRequestLine
from govshare.testing.databases import database_url
from govshare.testing.share_requests import submitted_one as submitted
from govshare.testing.sharing import PEOPLE_ITEMS, TODAY

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

STARTUP_SECONDS = 60.0
DECISIONS = (RequestAction.APPROVE, RequestAction.APPROVE_PART, RequestAction.REFUSE)


class Rival:
    """A reviewer's process (govshare/sharing/tests/rival_reviewer.py) deciding `line` with `decision`."""

    def __init__(self, reviewer: User, line: ShareRequestLine, decision: str, log: Path) -> None:
        self.reviewer, self.decision, self.log_path = reviewer, decision, log
        env = {**os.environ, "DATABASE_URL": database_url(), "GOVSHARE_DATA_DIR": str(settings.GOVSHARE.data_dir)}
        command = [sys.executable, "-m", "govshare.sharing.tests.rival_reviewer", str(reviewer.pk), str(line.pk)]
        with log.open("wb") as errors:
            self.process = subprocess.Popen(
                [*command, decision, TODAY.isoformat()],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
            )

    def read_line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not readable:
            raise AssertionError(f"no answer within {timeout} s; its log:\n{self.log()}")
        return self.process.stdout.readline().decode().strip()

    def start(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        self.process.stdin.flush()

    def result(self) -> dict[str, str]:
        answer = self.read_line(STARTUP_SECONDS)
        assert answer.startswith("result "), f"{answer!r}; its log:\n{self.log()}"
        self.process.wait(timeout=STARTUP_SECONDS)
        outcome: dict[str, str] = json.loads(answer.removeprefix("result "))
        return outcome

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@contextmanager
def rivals(line: ShareRequestLine, decisions: dict[User, str], logs: Path) -> Iterator[list[Rival]]:
    """The reviewers' processes, each ready (the line read, waiting for the signal); stopped on exit."""
    with ExitStack() as stack:
        started = []
        for n, (reviewer, decision) in enumerate(decisions.items()):
            rival = Rival(reviewer, line, decision, logs / f"rival-{n}.log")
            stack.callback(rival.stop)
            started.append(rival)
        for rival in started:
            assert rival.read_line(STARTUP_SECONDS) == "ready", rival.log()
        yield started


def line_in_review() -> tuple[ShareRequestLine, list[User]]:
    provider = testing.make_department("市公安局")
    consumer = testing.make_user(Role.CONSUMER, department=testing.make_department("市医保局"))
    reviewers = [testing.make_user(Role.DEPT_REVIEWER, department=provider) for _ in range(2)]
    resource = testing.make_published_resource(provider, items=PEOPLE_ITEMS, data_level="L2", name="常住人口基本信息")
    line = submitted(consumer, resource, items=["公民身份号码", "姓名", "区县"]).lines.get()
    assert line.status == LineStatus.IN_REVIEW
    return line, reviewers


@pytest.mark.parametrize(
    ("first", "second"), [("approve", "approve"), ("approve", "refuse")], ids=["both-approve", "approve-and-refuse"]
)
def test_two_reviewers_deciding_one_line_at_the_same_moment_one_wins_the_other_is_told(
    first: str, second: str, tmp_path: Path
) -> None:
    line, (one, other) = line_in_review()
    with rivals(line, {one: first, other: second}, tmp_path) as both:
        began = time.monotonic()
        for rival in both:
            rival.start()
        results = [rival.result() for rival in both]
    assert time.monotonic() - began < 30

    outcomes = sorted(result["outcome"] for result in results)
    assert outcomes == ["conflict", "decided"], results
    loser = next(result for result in results if result["outcome"] == "conflict")
    assert "已由他人处理" in loser["message"]
    winner = next(rival for rival, result in zip(both, results, strict=True) if result["outcome"] == "decided")

    line.refresh_from_db()
    assert line.decided_by == winner.reviewer
    decisions = ShareRequestEvent.objects.filter(line=line, action__in=DECISIONS)
    assert decisions.count() == 1 and decisions.get().actor == winner.reviewer
    audited = AuditLog.objects.filter(action__in=["sharing.request.approve", "sharing.request.refuse"])
    assert audited.count() == 1
    if winner.decision == "approve":
        assert line.status == LineStatus.APPROVED
        assert Grant.objects.count() == 1 and line.grant == Grant.objects.get()
    else:
        assert line.status == LineStatus.REFUSED
        assert not Grant.objects.exists() and line.grant is None
