"""A key rotation's log is stored in the platform's language and read in the reader's: an English reader reads
every line of it in English, with its batches, counts and key ids; the stored log stays Chinese."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import translation

from govshare.core import crypto
from govshare.jobs import logs
from govshare.jobs.models import Job
from govshare.keys.jobs import ROTATE_KEYS
from govshare.testing.encryption import make_source
from govshare.testing.english import chinese_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def rotation() -> tuple[Job, str, str]:
    for n in range(3):
        make_source(f"secret-{n}")
    old = crypto.current_key_ring().active.key_id
    call_command("keys", "add", stdout=io.StringIO())
    call_command("rotate_keys", "--batch-size", "2", stdout=io.StringIO())
    return Job.objects.get(task=ROTATE_KEYS), old, crypto.current_key_ring().active.key_id


def test_a_rotation_log_reads_in_english_with_its_values(rotation) -> None:  # type: ignore[no-untyped-def]
    job, old, new = rotation
    with translation.override("en"):
        shown = logs.readable(job.log).splitlines()
        title = logs.readable_text(job.title)
    assert chinese_in([title, *shown]) == [], shown
    assert any(line.endswith(f"Keys still in use: {new}") for line in shown), shown
    assert any(f"Keys that can be retired: {old}" in line for line in shown), shown
    assert any("batch 2, 3/3 rows checked, 1 rows re-encrypted in this batch" in line for line in shown), shown


def test_a_rotation_log_is_stored_and_shown_in_chinese_by_default(rotation) -> None:  # type: ignore[no-untyped-def]
    job, _, new = rotation
    assert f"仍在使用的密钥：{new}" in job.log
    assert logs.readable(job.log) == job.log
