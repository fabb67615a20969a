"""The demo city's information systems and scenarios: every scenario state, systems with 等保 level, hosting and
credentials in every state, and nothing added by a second load."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from govshare.identity.choices import CredentialState
from govshare.identity.models import InformationSystem, SystemCredential
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Scenario

pytestmark = pytest.mark.django_db


def _load() -> str:
    out = io.StringIO()
    call_command("load_demo_data", "--resources", "90", stdout=out)
    return out.getvalue()


def test_the_demo_has_scenarios_in_every_state_and_systems_for_the_inventory(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _load()
    assert set(Scenario.objects.values_list("status", flat=True)) == set(ScenarioStatus.values)
    approved = Scenario.objects.get(name="医保参保人员身份核验")
    assert approved.status == ScenarioStatus.APPROVED and approved.department.name.endswith("医疗保障局")
    rejected = Scenario.objects.get(status=ScenarioStatus.REJECTED)
    assert rejected.review_note and rejected.events.filter(action="reject", note=rejected.review_note).exists()
    assert {s.protection_level for s in InformationSystem.objects.all()} >= {"2", "3", "unrated"}
    assert InformationSystem.objects.filter(is_active=False).exists()
    states = {c.state_at(c.created_at) for c in SystemCredential.objects.all()}
    assert {CredentialState.ACTIVE, CredentialState.ROTATING, CredentialState.REVOKED} <= states
    counts = (Scenario.objects.count(), InformationSystem.objects.count(), SystemCredential.objects.count())
    assert "已装入" in _load()
    assert (Scenario.objects.count(), InformationSystem.objects.count(), SystemCredential.objects.count()) == counts
