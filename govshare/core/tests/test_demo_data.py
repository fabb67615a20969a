"""The demo city: enough departments and entries, valid codes, every review state, loaded once."""

import datetime as dt
import io
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ

from govshare.accounts import selectors as account_selectors
from govshare.accounts import services as account_services
from govshare.accounts.choices import SEPARATED_ROLES, Role
from govshare.accounts.models import Department, User, UserRole
from govshare.audit.models import AuditLog
from govshare.catalog.choices import AtRest, ReviewStatus
from govshare.catalog.models import Category, DuplicateCandidate, Item, Resource
from govshare.catalog.rules import RESOURCE_CODE_RE, check_resource_draft
from govshare.core.errors import ValidationFailed
from govshare.core.identifiers import uscc_problem
from govshare.dataplane.tables import DatasetTable
from govshare.datasets import serving
from govshare.datasets.choices import LoadStatus
from govshare.datasets.models import Dataset, Load
from govshare.demo import vocabulary
from govshare.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from govshare.demo.gateway import read_sandbox
from govshare.demo.generator import DEFAULT_RESOURCES, capacity, demo_departments, demo_entries
from govshare.testing import department_code
from govshare.testing.gateway import GatewayClient

SMALL = 90  # enough for the first entry of every department, so the deliberate duplicates are in


@pytest.fixture
def fast_passwords(settings):  # type: ignore[no-untyped-def]
    # Twelve demo accounts: a cheap hasher keeps each load at a second or two (production uses PBKDF2).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _load(count: int = SMALL, *extra: str) -> str:
    out = io.StringIO()
    call_command("load_demo_data", "--resources", str(count), *extra, stdout=out)
    return out.getvalue()


def test_default_demo_is_a_city_of_at_least_40_departments_and_3000_entries() -> None:
    assert DEFAULT_RESOURCES >= 3000
    assert capacity() >= DEFAULT_RESOURCES
    assert len(demo_departments()) >= 40


def test_every_demo_department_has_a_valid_unique_credit_code() -> None:
    departments = demo_departments()
    assert all(uscc_problem(d.code) is None for d in departments)
    assert all(d.code.startswith("11" + d.region) for d in departments)
    assert len({d.code for d in departments}) == len(departments)
    assert len({d.name for d in departments}) == len(departments)


def test_demo_notes_give_the_figures_of_the_default_demo() -> None:
    notes = (Path(__file__).resolve().parents[3] / "docs" / "demo-data.md").read_text(encoding="utf-8")
    departments = demo_departments()
    states = Counter(e.state for e in demo_entries(departments, DEFAULT_RESOURCES))
    labels = {"published": "已发布", "submitted": "待审核", "draft": "草稿", "rejected": "驳回", "withdrawn": "已下线"}
    for state, label in labels.items():
        assert f"{label} {states[state]:,}" in notes, label
    for level, count in Counter(d.level for d in departments).items():
        assert f"| {count} |" in notes, level
    assert f"({capacity(departments):,} for the whole city)" in notes


def test_demo_is_deterministic_and_a_smaller_demo_is_a_prefix_of_a_larger_one() -> None:
    departments = demo_departments()
    small = [(e.department.code, e.draft.name, e.state) for e in demo_entries(departments, 200)]
    large = [(e.department.code, e.draft.name, e.state) for e in demo_entries(demo_departments(), 1000)]
    assert small == large[:200]


@pytest.mark.django_db
def test_every_demo_entry_passes_the_catalogue_rules() -> None:
    departments = demo_departments()
    by_code = {d.code: Department(code=d.code, name=d.name, level=d.level) for d in departments}
    categories = {c.code: c for c in Category.objects.all()}
    for parent, segment, name in vocabulary.SUBJECT_CATEGORIES:
        categories[parent + segment] = Category(code=parent + segment, level=3, name=name, parent=categories[parent])
    for entry in demo_entries(departments, capacity(departments)):
        assert check_resource_draft(entry.draft, departments=by_code, categories=categories) == [], entry.draft.name


@pytest.mark.django_db
def test_loader_creates_the_requested_entries_in_every_review_state(fast_passwords) -> None:
    output = _load()
    assert Department.objects.count() >= 40
    assert Resource.objects.count() == SMALL
    assert all(RESOURCE_CODE_RE.match(code) for code in Resource.objects.values_list("code", flat=True))
    for status in ReviewStatus.values:
        assert Resource.objects.filter(status=status).exists(), status
    rejected = Resource.objects.filter(status=ReviewStatus.DRAFT).exclude(rejection_reason="").first()
    assert rejected is not None
    assert rejected.versions.filter(action="reject").exists()
    assert f"{SMALL} 条目录" in output


@pytest.mark.django_db
def test_published_demo_entries_carry_spread_publication_dates_never_in_the_future(fast_passwords) -> None:
    _load()
    dates = {d for d in Resource.objects.values_list("published_on", flat=True) if d is not None}
    assert len(dates) > 5
    assert max(dates) <= timezone.localdate()


@pytest.mark.django_db
def test_demo_loads_run_at_once_and_leave_no_job_behind(fast_passwords, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _load(300)  # enough for published entries of 市公安局 and 市民政局, whose datasets the demo loads
    assert Load.objects.exists()
    assert not Load.objects.exclude(status=LoadStatus.SUCCEEDED).exists()
    assert not OrmQ.objects.exists()  # no django-q task that would later find its load finished


@pytest.mark.django_db
def test_demo_datasets_are_indexed_for_lookups_by_key(fast_passwords, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _load(300)
    keyed = [d for d in Dataset.objects.exclude(current_version=None) if serving.lookup_keys(d)]
    assert keyed
    for dataset in keyed:
        version = serving.served(dataset.pk)
        assert version is not None and version.version == dataset.current_version
        assert version.row_count == dataset.row_count


@pytest.mark.django_db
def test_demo_datasets_store_phone_numbers_and_addresses_encrypted(fast_passwords) -> None:
    _load(300)
    designated = Item.objects.filter(resource__dataset__isnull=False).exclude(at_rest=AtRest.PLAIN)
    assert designated.exists()  # the demo shows encryption at rest on data that was really loaded
    for item in designated.select_related("resource__dataset"):
        stored = DatasetTable(item.resource.dataset.table_uri).schema()
        assert pa.types.is_binary(stored.field(item.name).type), item.name
        assert (f"{item.name}__hmac" in stored.names) == (item.at_rest == AtRest.SEARCHABLE)


@pytest.mark.django_db
def test_loading_twice_adds_nothing(fast_passwords) -> None:
    _load()
    counts = (Department.objects.count(), User.objects.count(), Resource.objects.count(), AuditLog.objects.count())
    output = _load()
    assert "已装入，未做任何改动" in output
    after = (Department.objects.count(), User.objects.count(), Resource.objects.count(), AuditLog.objects.count())
    assert after == counts


@pytest.mark.django_db
def test_demo_accounts_cover_every_role_without_breaking_separation_of_duties(fast_passwords) -> None:
    _load()
    held = set(UserRole.objects.values_list("role", flat=True))
    assert held == set(Role.values)
    for user in User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]):
        assert len(user.role_set() & SEPARATED_ROLES) <= 1
        assert user.check_password(DEMO_PASSWORD)
    assert User.objects.get(username="admin").is_staff


@pytest.mark.django_db
def test_demo_has_near_duplicates_across_departments_and_overdue_maintenance(fast_passwords) -> None:
    _load()
    city = Resource.objects.get(department__name="德阳市民政局", name="婚姻登记信息")
    county = Resource.objects.get(department__name="旌阳区民政局", name="婚姻登记信息")
    assert DuplicateCandidate.objects.filter(resource=city, similar=county).exists()
    overdue = account_selectors.departments_overdue_for_maintenance().count()
    assert 0 < overdue < Department.objects.count()


@pytest.mark.django_db
def test_demo_accounts_command_prints_the_url_and_every_account(fast_passwords) -> None:
    _load()
    out = io.StringIO()
    call_command("demo_accounts", "--url", "http://127.0.0.1:8123/", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8123/" in text
    for account in DEMO_ACCOUNTS:
        assert account.username in text
    assert DEMO_PASSWORD in text and "审计员" in text and "德阳市公安局" in text


@pytest.mark.django_db
def test_asking_for_more_entries_than_the_city_holds_is_refused_with_the_limit() -> None:
    with pytest.raises(CommandError, match=str(capacity())):
        _load(capacity() + 1)
    assert not Department.objects.exists()


@pytest.mark.django_db
def test_a_platform_holding_a_clashing_department_is_refused_and_left_unchanged(fast_passwords) -> None:
    account_services.create_department(
        account_services.DepartmentInput(code=department_code(4242), name="德阳市民政局", level="city"), actor=None
    )
    with pytest.raises(CommandError, match="德阳市民政局"):
        _load()
    assert Department.objects.count() == 1 and not Resource.objects.exists()


@pytest.mark.django_db
def test_maintenance_date_cannot_be_in_the_future(platform_admin, department) -> None:
    tomorrow = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed):
        account_services.confirm_catalog_maintenance(department, actor=platform_admin, maintained_at=tomorrow)


@pytest.mark.django_db
def test_the_gateway_sandbox_answers_with_the_credentials_the_demo_prints(
    fast_passwords, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _load(300)
    sandbox = read_sandbox()
    assert sandbox is not None and sandbox["sample_keys"]
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    assert sandbox["client_id"] in out.getvalue() and sandbox["client_secret"] in out.getvalue()
    answer = Client().post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": sandbox["client_id"],
            "client_secret": sandbox["client_secret"],
        },
    )
    client = GatewayClient(token=answer.json()["access_token"])
    found = client.lookup(sandbox["resource"], {"scenario": sandbox["scenario"], "key": sandbox["sample_keys"][0]})
    assert (found.status, found.json["count"]) == (200, 1)
    verified = client.verify(
        sandbox["resource"],
        {"scenario": sandbox["scenario"], "key": sandbox["sample_keys"][0], "values": sandbox["sample_keys"][0]},
    )
    assert verified.json["result"] == "match"
