"""The demo city's sharing lists: demands in every state, duties met and unmet, a negative list from the catalogue;
loading the lists again adds nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.demo.sharing_lists import load_demo_lists
from govshare.sharing import duties, negative
from govshare.sharing.choices import DemandStatus
from govshare.sharing.models import Demand, Duty


@pytest.fixture
def demo_city(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo_data", "--resources", "300", stdout=io.StringIO())


@pytest.mark.django_db
def test_the_demo_has_demands_in_every_state_and_met_and_unmet_duties(demo_city) -> None:
    assert set(Demand.objects.values_list("status", flat=True)) == set(DemandStatus.values)
    assert Demand.objects.filter(provider__isnull=True).exists()
    coordinator = User.objects.get(username="coordinator")
    unmet = duties.duties_for(coordinator, duties.DutyFilters(unmet=True)).count()
    assert 0 < unmet < Duty.objects.count()
    assert negative.negative_list(coordinator).exists()


@pytest.mark.django_db
def test_loading_the_demo_lists_twice_adds_nothing(demo_city) -> None:
    counts = (Demand.objects.count(), Duty.objects.count(), AuditLog.objects.count())
    assert load_demo_lists(lambda _: None) == (0, 0)
    assert (Demand.objects.count(), Duty.objects.count(), AuditLog.objects.count()) == counts
