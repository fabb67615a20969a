"""Batch review on the API: POST /api/catalog/review-batch publishes or rejects many queued entries at once."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.catalog import batch_review
from govshare.catalog.choices import ReviewStatus
from govshare.core.apiauth import STAFF_WRITE
from govshare.core.schemas import ERRORS

router = Router(tags=["目录 catalog"])


class BatchReviewIn(Schema):
    action: Literal["publish", "reject"] = Field(..., description="publish（发布）或 reject（驳回）")
    ids: list[int] = Field(
        ..., description=f"待审核资源的编号（至多 {batch_review.MAX_BATCH} 个）；有一个不在审核队列中则全部不执行"
    )
    reason: str = Field("", description="驳回理由（驳回时必填，所有资源共用）")


class ReviewedOut(Schema):
    id: int
    code: str
    name: str
    status: ReviewStatus


class BatchReviewOut(Schema):
    action: str
    count: int
    resources: list[ReviewedOut]


@router.post(
    "/review-batch",
    response={200: BatchReviewOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="批量审核：发布或驳回（全部成功或全部不执行；平台管理员）",
)
def review_batch(request: HttpRequest, payload: BatchReviewIn) -> BatchReviewOut:
    ids = batch_review.parse_ids([str(pk) for pk in payload.ids])
    done = batch_review.review_many(payload.action, ids, actor=acting_user(request), reason=payload.reason)
    return BatchReviewOut(
        action=payload.action,
        count=len(done),
        resources=[ReviewedOut(id=r.pk, code=r.code, name=r.name, status=ReviewStatus(r.status)) for r in done],
    )
