"""Paged query: the granted rows matching equality filters on granted items, a page at a time by a cursor (keyset
pagination on the key index), masked, inside the grant's row filter."""

from __future__ import annotations

from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.sharing.models import Grant
from govshare.testing.gateway import Consumer


def query(consumer: Consumer, people: Resource, **body: object) -> dict[str, object]:
    answer = consumer.client.post(
        f"/gateway/v1/resources/{people.pk}/query", {"scenario": consumer.scenario.pk, **body}
    )
    assert answer.status == 200, answer.body
    return answer.json


def test_pages_follow_each_other_by_cursor_until_the_end(people: Resource, consumer: Consumer, grant: Grant) -> None:
    first = query(consumer, people, page_size=1, items=["姓名", "区县"])
    assert first["count"] == 1 and first["next"]
    second = query(consumer, people, page_size=1, items=["姓名", "区县"], after=first["next"])
    assert second["count"] == 1
    rows = [*first["rows"], *second["rows"]]  # type: ignore[misc]
    assert [row["区县"] for row in rows] == ["旌阳区", "旌阳区"]  # 罗江区 is outside the grant's rows
    assert {row["姓名"] for row in rows} == {"张**", "李*"}  # masked as the grant says
    rest = query(consumer, people, page_size=1, after=second["next"])
    assert (rest["count"], rest["next"]) == (0, None)


def test_filters_narrow_the_rows_and_never_widen_the_grant(people: Resource, consumer: Consumer, grant: Grant) -> None:
    assert query(consumer, people, filters={"姓名": "李四"})["count"] == 1
    assert query(consumer, people, filters={"区县": "罗江区"})["count"] == 0
    everything = query(consumer, people, filters={"区县": ["旌阳区", "罗江区"]})
    assert (everything["count"], everything["next"]) == (2, None)


def test_a_filter_on_an_item_outside_the_grant_is_refused(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = consumer.client.post(
        f"/gateway/v1/resources/{people.pk}/query", {"scenario": consumer.scenario.pk, "filters": {"手机号码": "1"}}
    )
    assert (answer.status, answer.code) == (403, "ITEM_NOT_GRANTED")


def test_a_cursor_of_another_version_asks_to_start_again(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = consumer.client.post(
        f"/gateway/v1/resources/{people.pk}/query", {"scenario": consumer.scenario.pk, "after": "99.1"}
    )
    assert (answer.status, answer.code) == (409, "CURSOR_EXPIRED")


def test_bad_page_sizes_and_cursors_are_refused_with_the_reason(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    path = f"/gateway/v1/resources/{people.pk}/query"
    for body, words in (({"page_size": 0}, "page_size"), ({"page_size": 501}, "page_size"), ({"after": "x"}, "after")):
        answer = consumer.client.post(path, {"scenario": consumer.scenario.pk, **body})
        assert (answer.status, answer.code) == (400, "INVALID_REQUEST")
        assert words in answer.json["error"]["message"]


def test_each_page_is_audited_without_a_key(people: Resource, consumer: Consumer, grant: Grant) -> None:
    query(consumer, people, page_size=5)
    row = AuditLog.objects.get(action="gateway.call.query")
    assert (row.object_type, row.object_id, row.extra["rows"], row.extra["outcome"]) == (
        "catalog.resource",
        str(people.pk),
        2,
        "OK",
    )
