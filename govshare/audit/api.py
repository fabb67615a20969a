"""The auditor's API: search and export the audit log, verify its hash chain. Every other role gets 403."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router
from ninja.decorators import decorate_view

from govshare.audit import chain, selectors, services, views
from govshare.audit.models import AuditLog
from govshare.audit.schemas import AuditLogOut, AuditLogPage, AuditQueryIn, ChainReportOut, LogPagingIn
from govshare.core.apiauth import STAFF_READ
from govshare.core.authz import subject_of
from govshare.core.nostore import no_store
from govshare.core.pagination import Page, paginate_keyset
from govshare.core.schemas import ERRORS

router = Router(tags=["审计 audit"])
_CSV = {"text/csv": {"schema": {"type": "string", "format": "binary"}}}


def _params(request: HttpRequest) -> dict[str, str]:
    return {key: request.GET.get(key, "") for key in request.GET}


@router.get(
    "/logs",
    response={200: AuditLogPage, **ERRORS},
    auth=STAFF_READ,
    summary="查询审计日志（审计员）",
    description=(
        "按操作人、操作、对象和时间段筛选，新记录在前，分页：按页码（page），或按游标（after：上一页答复中的 "
        "next_after，翻页期间新写入的记录不会使已读记录重复或遗漏）。只有审计员可以调用，其他角色得到 403。"
    ),
)
@decorate_view(no_store)
def list_logs(request: HttpRequest, filters: Query[AuditQueryIn], paging: Query[LogPagingIn]) -> Page[AuditLog]:
    return paginate_keyset(
        selectors.search(subject_of(request), _params(request)),
        keys=("-id",),
        after=paging.after,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get(
    "/logs/export",
    response=ERRORS,
    auth=STAFF_READ,
    summary="导出筛选后的审计日志（CSV，审计员）",
    description="与查询相同的筛选条件；UTF-8 带 BOM 的 CSV，流式输出。只有审计员可以调用。",
    openapi_extra={"responses": {200: {"description": "CSV 文件", "content": _CSV}}},
)
@decorate_view(no_store)
def export_logs(request: HttpRequest, filters: Query[AuditQueryIn]) -> StreamingHttpResponse:
    user, params = subject_of(request), _params(request)
    queryset = selectors.search(user, params)
    services.record_audit_read(user, "audit.log.export", filters={k: v for k, v in params.items() if v})
    return views.csv_response(queryset)


@router.get("/logs/{row_id}", response={200: AuditLogOut, **ERRORS}, auth=STAFF_READ, summary="一条审计记录（审计员）")
@decorate_view(no_store)
def get_log(request: HttpRequest, row_id: int) -> AuditLog:
    return selectors.get_row(subject_of(request), row_id)


@router.get(
    "/chain",
    response={200: ChainReportOut, **ERRORS},
    auth=STAFF_READ,
    summary="校验审计日志哈希链（审计员）",
    description=(
        "按序号遍历已封存的记录，核对内容指纹、封存 MAC 与链接，并与数据库之外的锚点核对；"
        "列出每处断链（第一处在前）和尚未封存的记录数。"
    ),
)
def verify_chain(request: HttpRequest) -> ChainReportOut:
    user = subject_of(request)
    selectors.audit_log_for(user)  # the auditor only
    report = chain.verify_audit_chain()
    services.record_audit_read(
        user, selectors.VERIFY_ACTION, ok=report.ok, checked=report.checked, origin=selectors.ORIGIN_API
    )
    return ChainReportOut.model_validate(
        {
            "ok": report.ok,
            "checked": report.checked,
            "last_seq": report.last_seq,
            "unsealed": report.unsealed,
            "oldest_unsealed_at": report.oldest_unsealed_at,
            "legacy_rows": report.legacy_rows,
            "anchors": report.anchors,
            "anchored_seq": report.anchored_seq,
            "problems": [p.as_dict() for p in report.problems],
        }
    )
