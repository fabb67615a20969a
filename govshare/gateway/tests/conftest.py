"""Fixtures of the gateway tests: a provider (市公安局) whose 常住人口 resource is loaded and indexed, a consumer
department (市医保局) with an approved scenario, the system that serves it and a token, judged on the fixed day."""

from __future__ import annotations

from pathlib import Path

import pytest

from govshare import testing
from govshare.accounts.models import Department
from govshare.catalog.models import Resource
from govshare.datasets import scopes
from govshare.sharing.models import Grant
from govshare.testing import gateway
from govshare.testing.gateway import Consumer
from govshare.testing.sharing import TODAY, issue

GRANTED = ["公民身份号码", "姓名", "区县", "户籍地址"]


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scopes, "clock", lambda: TODAY)


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    gateway.forget_caches()


@pytest.fixture
def provider(db: None) -> Department:
    return testing.make_department("市公安局")


@pytest.fixture
def consumer_department(db: None) -> Department:
    return testing.make_department("市医保局")


@pytest.fixture
def people(provider: Department, tmp_path: Path) -> Resource:
    return gateway.served_resource(provider, tmp_path)


@pytest.fixture
def consumer(consumer_department: Department) -> Consumer:
    return gateway.consumer_system(consumer_department)


@pytest.fixture
def grant(people: Resource, consumer_department: Department, consumer: Consumer) -> Grant:
    """公民身份号码, 姓名, 区县 and 户籍地址 of the rows of 旌阳区, for the consumer's scenario."""
    return issue(
        people, consumer_department, scenario=consumer.scenario, items=GRANTED, row_filter={"区县": ["旌阳区"]}
    )
