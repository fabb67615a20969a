"""The lists over HTTP: the API and the pages answer 404 for another department's demand or duty, refuse a
consumer's negative-list import that would unshare an entry, export .xlsx, import the page's upload, and speak
English to an English reader."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from openpyxl import load_workbook

from govshare import testing
from govshare.catalog.models import ResourceRevision
from govshare.sharing import demands, duties, lists_io
from govshare.sharing.list_files import XLSX_CONTENT_TYPE, write_xlsx
from govshare.sharing.models import Demand
from govshare.testing.api import bearer, upload
from govshare.testing.english import chinese_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def demand(consumer) -> Demand:  # type: ignore[no-untyped-def]
    return demands.create_demand(
        demands.DemandInput(title="企业登记信息核验", description="企业开办核验", needed_items=["企业名称"]),
        actor=consumer,
    )


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_editing_another_departments_demand_over_the_api_answers_404_and_changes_nothing(demand, stranger):
    body = {"title": "被改掉", "description": "x"}
    response = Client().put(
        f"/api/sharing/demands/{demand.pk}", body, content_type="application/json", headers=bearer(stranger)
    )
    assert response.status_code == 404
    assert Demand.objects.get(pk=demand.pk).title == "企业登记信息核验"


def test_another_departments_demand_page_and_edit_page_answer_404(demand, stranger):
    client = _client(stranger)
    assert client.get(f"/sharing/demands/{demand.pk}/").status_code == 404
    assert client.post(f"/sharing/demands/{demand.pk}/edit/", {"title": "x", "description": "y"}).status_code == 404
    assert client.post(f"/sharing/demands/{demand.pk}/close/").status_code == 404
    assert Demand.objects.get(pk=demand.pk).status == "open"


def test_a_consumer_registers_and_edits_a_demand_through_the_pages(consumer, other_department):
    client = _client(consumer)
    response = client.post(
        "/sharing/demands/new/",
        {
            "title": "社保缴费核验",
            "description": "核验参保状态",
            "needed_items": "姓名、参保状态",
            "provider_code": other_department.code,
        },
    )
    demand = Demand.objects.get(title="社保缴费核验")
    assert response.status_code == 302 and response["Location"] == f"/sharing/demands/{demand.pk}/"
    assert demand.needed_items == ["姓名", "参保状态"]
    client.post(f"/sharing/demands/{demand.pk}/edit/", {"title": "社保缴费核验", "description": "核验参保与缴费"})
    assert Demand.objects.get(pk=demand.pk).description == "核验参保与缴费"


def test_the_answered_demand_shows_its_resource_to_the_consumer(demand, consumer, coordinator, other_department):
    resource = testing.make_published_resource(other_department, name="企业登记信息")
    response = _client(coordinator).post(
        f"/sharing/demands/{demand.pk}/answer/", {"resource_code": resource.code, "note": "可申请"}
    )
    assert response.status_code == 302
    page = _client(consumer).get(f"/sharing/demands/{demand.pk}/").content.decode()
    assert f'href="/catalog/resources/{resource.pk}/" id="demand-resource-link"' in page


def test_the_demand_list_filters_and_pages(consumer):
    for n in range(3):
        demands.create_demand(demands.DemandInput(title=f"需求{n}", description="d"), actor=consumer)
    demands.close_demand(Demand.objects.get(title="需求0"), actor=consumer)
    client = _client(consumer)
    page = client.get("/sharing/demands/", {"status": "open"}).content.decode()
    assert "需求1" in page and "需求0" not in page
    assert client.get("/sharing/demands/", {"page": "2"}).status_code == 200


def test_the_demand_list_exports_what_it_shows_as_xlsx(demand, consumer):
    response = _client(consumer).get("/sharing/demands/export/", {"side": "own"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX_CONTENT_TYPE
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["需求清单"]  # type: ignore[attr-defined]
    assert [c.value for c in sheet[2]][:3] == ["企业登记信息核验", demand.department.name, "企业开办核验"]


def test_the_coordinator_imports_duties_on_the_page_and_unmet_duties_are_listed(coordinator, department):
    data = io.BytesIO()
    write_xlsx(lists_io.DUTY_LAYOUT, [(department.code, "", "户籍登记信息", "", "《户口登记条例》", "", "")], data)
    client = _client(coordinator)
    response = client.post("/sharing/duties/import/", {"file": upload(data.getvalue(), "责任清单.xlsx")})
    assert response.status_code == 200, response.content.decode()[:500]
    page = client.get("/sharing/duties/", {"unmet": "1"}).content.decode()
    assert "户籍登记信息" in page and 'id="unmet-summary"' in page


def test_a_refused_import_shows_the_report_with_row_and_column(coordinator, department):
    data = io.BytesIO()
    write_xlsx(lists_io.DUTY_LAYOUT, [(department.code, "", "户籍登记信息", "", "", "", "")], data)
    response = _client(coordinator).post("/sharing/duties/import/", {"file": upload(data.getvalue())})
    assert response.status_code == 422
    assert re.search(r"<td>责任清单</td><td>2</td><td>依据（E列）</td>", response.content.decode())


def test_a_consumers_negative_list_import_over_the_api_leaves_the_entry_unchanged(consumer, other_department):
    entry = testing.make_published_resource(other_department, name="企业信用信息")
    data = io.BytesIO()
    write_xlsx(lists_io.NEGATIVE_LAYOUT, [(entry.code, "", "", "不予共享", "某条例", "")], data)
    response = Client().post(
        "/api/sharing/negative-list/import", {"file": upload(data.getvalue())}, headers=bearer(consumer)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["row"] == 2
    entry.refresh_from_db()
    assert entry.share_type == "conditional" and not ResourceRevision.objects.exists()


def test_the_duty_api_is_404_for_another_departments_duty(coordinator, department, outsider):
    duty = duties.create_duty(
        duties.DutyInput(department_code=department.code, name="户籍", legal_basis="条例"), actor=coordinator
    )
    response = Client().post(
        f"/api/sharing/duties/{duty.pk}/fulfil",
        {"resource_code": ""},
        content_type="application/json",
        headers=bearer(outsider),
    )
    assert response.status_code == 404


def test_the_list_pages_speak_english_to_an_english_reader(demand, consumer):
    client = _client(consumer)
    client.cookies["django_language"] = "en"
    for path in ("/sharing/demands/", f"/sharing/demands/{demand.pk}/", "/sharing/duties/", "/sharing/negative/"):
        html = client.get(path).content.decode()
        main = html.split("<main>")[1].split("</main>")[0]
        text = re.sub(r"<[^>]+>", " ", main)
        user_data = [demand.title, demand.description, demand.department.name, *demand.needed_items, "、"]
        assert chinese_in([text], user_data=user_data) == [], (path, text)


def test_the_demand_list_filters_by_one_of_the_departments_scenarios(consumer):
    from govshare.sharing.models import Scenario

    scenario = Scenario.objects.create(
        department=consumer.department, name="企业开办", description="d", legal_basis="b"
    )
    demands.create_demand(demands.DemandInput(title="带场景", description="d", scenario_id=scenario.pk), actor=consumer)
    demands.create_demand(demands.DemandInput(title="无场景", description="d"), actor=consumer)
    page = _client(consumer).get("/sharing/demands/", {"scenario": str(scenario.pk)}).content.decode()
    assert "带场景" in page and "无场景" not in page


def test_the_coordinator_sees_every_list_city_wide(demand, coordinator, department):
    duties.create_duty(
        duties.DutyInput(department_code=department.code, name="户籍", legal_basis="条例"), actor=coordinator
    )
    client = _client(coordinator)
    for path in ("/sharing/demands/", "/sharing/duties/", "/sharing/negative/", "/sharing/duties/new/"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert demand.title in client.get("/sharing/demands/").content.decode()
    assert 'id="unmet-summary"' in client.get("/sharing/duties/").content.decode()
    assert client.get("/sharing/demands/new/").status_code == 403  # demands are a department's own
