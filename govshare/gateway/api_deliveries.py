"""The deliveries API (库表对接): the consumer department's catalogue admin registers a delivery and runs it now; the
consumer and the provider see deliveries and each run's rows and status. Thin routes over `delivery`; anyone else
gets 404."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.pagination import Page, paginate_keyset
from govshare.core.schemas import AFTER_DESCRIPTION, ERRORS
from govshare.gateway import delivery
from govshare.gateway.models import Delivery, DeliveryRun
from govshare.gateway.schemas import DeliveryIn, DeliveryOut, DeliveryPage, DeliveryRunPage, RunQueuedOut

router = Router(tags=["数据交付 deliveries"])


class ListIn(Schema):
    page: int = Field(1, description="页码，从 1 开始")
    page_size: int | None = Field(None, description="每页条数")
    after: str | None = Field(None, description=AFTER_DESCRIPTION)


@router.get(
    "/deliveries",
    response={200: DeliveryPage, **ERRORS},
    auth=STAFF_READ,
    summary="数据交付（本部门登记的与本部门资源的）",
)
def list_deliveries(request: HttpRequest, paging: Query[ListIn]) -> Page[Delivery]:
    found = delivery.deliveries_for(acting_user(request))
    return paginate_keyset(
        found, keys=("-created_at", "-id"), after=paging.after, page=paging.page, page_size=paging.page_size
    )


@router.post("/deliveries", response={201: DeliveryOut, **ERRORS}, auth=STAFF_WRITE, summary="登记数据交付（库表对接）")
def register_delivery(request: HttpRequest, payload: DeliveryIn) -> Status[Delivery]:
    user = acting_user(request)
    data = delivery.DeliveryInput(
        grant_id=payload.grant_id,
        kind=str(payload.kind),
        target_url=payload.target_url,
        table_name=payload.table_name,
        schedule=str(payload.schedule),
    )
    created = delivery.register_delivery(data, actor=user)
    return Status(201, delivery.get_delivery(user, created.pk))


@router.get("/deliveries/{delivery_id}", response={200: DeliveryOut, **ERRORS}, auth=STAFF_READ, summary="数据交付详情")
def get_delivery(request: HttpRequest, delivery_id: int) -> Delivery:
    return delivery.get_delivery(acting_user(request), delivery_id)


@router.get(
    "/deliveries/{delivery_id}/runs",
    response={200: DeliveryRunPage, **ERRORS},
    auth=STAFF_READ,
    summary="数据交付的执行记录（最新在前）：版本、写入与删除行数、状态",
)
def list_runs(request: HttpRequest, delivery_id: int, paging: Query[ListIn]) -> Page[DeliveryRun]:
    found = delivery.get_delivery(acting_user(request), delivery_id)
    return paginate_keyset(
        delivery.runs_of(found),
        keys=("-started_at", "-id"),
        after=paging.after,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/deliveries/{delivery_id}/run", response={202: RunQueuedOut, **ERRORS}, auth=STAFF_WRITE, summary="立即执行"
)
def run_now(request: HttpRequest, delivery_id: int) -> Status[dict[str, bool]]:
    user = acting_user(request)
    delivery.request_run(delivery.get_delivery(user, delivery_id), actor=user)
    return Status(202, {"queued": True})
