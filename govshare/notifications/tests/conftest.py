from __future__ import annotations

import pytest

from govshare import testing
from govshare.accounts import services as account_services
from govshare.accounts.choices import Role
from govshare.accounts.models import User


@pytest.fixture
def reader(department) -> User:  # type: ignore[no-untyped-def]
    """A consumer of the department with an e-mail address."""
    return account_services.create_user(
        username="gaj_reader",
        password=testing.TEST_PASSWORD,
        full_name="王读者",
        department=department,
        roles=[Role.CONSUMER],
        actor=None,
        email="reader@gaj.example.gov.cn",
    )


@pytest.fixture
def other_reader(other_department) -> User:  # type: ignore[no-untyped-def]
    """A consumer of another department, also with an e-mail address."""
    return account_services.create_user(
        username="scj_reader",
        password=testing.TEST_PASSWORD,
        full_name="李读者",
        department=other_department,
        roles=[Role.CONSUMER],
        actor=None,
        email="reader@scj.example.gov.cn",
    )


@pytest.fixture
def email_on(settings) -> None:  # type: ignore[no-untyped-def]
    """The platform e-mails notifications (pytest-django sends them to django.core.mail.outbox)."""
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"email_notifications": True})


@pytest.fixture
def small_pages(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"page_size": 2})
