"""The demo city's grants: 市医保局's consumer previews 市公安局's data masked and filtered at once; a revoked and a
lapsed grant are there to see, and refuse."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from govshare.accounts.models import User
from govshare.core.errors import NotFound
from govshare.datasets import reading, scopes
from govshare.sharing import grants
from govshare.sharing.choices import GrantStatus
from govshare.sharing.models import Grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo dates its grants from the day it is loaded.
    monkeypatch.setattr(scopes, "clock", timezone.localdate)


def test_the_demo_grants_let_the_medical_insurance_consumer_preview_masked_data() -> None:
    call_command("load_demo_data", "--resources", "300", stdout=io.StringIO())
    today = timezone.localdate()
    states = sorted(grants.grant_state(grant, today) for grant in Grant.objects.select_related("scenario"))
    assert states.count(grants.GrantState.ACTIVE) >= 1
    assert grants.GrantState.REVOKED in states and grants.GrantState.LAPSED in states
    ybj_user = User.objects.get(username="ybj_user")
    active = next(g for g in Grant.objects.filter(department=ybj_user.department) if grants.grant_is_active(g, today))
    preview = reading.preview_version(ybj_user, active.resource, choice=str(active.pk))
    assert preview.rows and {field.name for field in preview.fields} <= set(active.items)
    assert any("*" in str(value) for row in preview.rows for value in row)
    revoked = Grant.objects.get(status=GrantStatus.REVOKED)
    jy_user = User.objects.get(username="jy_gaj_user")
    with pytest.raises(NotFound):
        reading.preview_version(jy_user, revoked.resource)
    again = io.StringIO()
    call_command("load_demo_data", "--resources", "300", stdout=again)
    assert Grant.objects.count() == len(states)
