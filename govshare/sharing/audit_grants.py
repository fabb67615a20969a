"""What the audit codes of grants and share requests mean to people (govshare.audit.actions)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from govshare.audit import actions


def register() -> None:
    actions.register_app("sharing", _("数据共享"))
    actions.register_object_type("sharing.grant", _("共享授权"))
    actions.register_detail_names({"grant": _("授权编号"), "scenario": _("应用场景"), "department": _("使用部门")})
    actions.register(
        "sharing.grant.issue",
        _("授权共享"),
        details=(
            _("资源 {resource}"),
            _("使用部门 {department}"),
            _("应用场景 {scenario}"),
            _("有效期至 {valid_until}"),
        ),
    )
    actions.register("sharing.grant.revoke", _("撤销共享授权"), details=(_("资源 {resource}"), _("原因：{reason}")))
    actions.register(
        "sharing.grant.confirm", _("复核确认共享授权"), details=(_("资源 {resource}"), _("下次复核期限 {due_on}"))
    )
    actions.register(
        "sharing.grant.remind", _("提醒共享授权即将失效"), details=(_("资源 {resource}"), _("复核期限 {due_on}"))
    )
    # Share requests (sharing/requests.py).
    actions.register_object_type("sharing.sharerequest", _("共享申请"))
    actions.register_object_type("sharing.reviewstage", _("共享申请审核环节"))
    actions.register_detail_names({"number": _("申请编号"), "stage": _("审核环节"), "outcome": _("仲裁结果")})
    actions.register(
        "sharing.request.submit", _("提交共享申请"), details=(_("申请 {number}"), _("应用场景 {scenario}"))
    )
    actions.register("sharing.request.withdraw", _("撤回共享申请"), details=(_("申请 {number}"),))
    actions.register(
        "sharing.request.pass",
        _("共享申请通过审查"),
        details=(_("申请 {number}"), _("资源 {resource}"), _("环节 {stage}")),
    )
    actions.register(
        "sharing.request.approve",
        _("同意共享申请"),
        details=(_("申请 {number}"), _("资源 {resource}"), _("同意 {approved} 项，不同意 {refused} 项")),
    )
    actions.register(
        "sharing.request.refuse",
        _("拒绝共享申请"),
        details=(_("申请 {number}"), _("资源 {resource}"), _("理由：{reason}")),
    )
    actions.register(
        "sharing.request.dispute", _("对共享申请的决定提出异议"), details=(_("申请 {number}"), _("资源 {resource}"))
    )
    actions.register(
        "sharing.request.arbitrate",
        _("仲裁共享申请异议"),
        details=(_("申请 {number}"), _("资源 {resource}"), _("结果 {outcome}")),
    )
    actions.register(
        "sharing.request.escalate",
        _("共享申请逾期转协调员"),
        details=(_("申请 {number}"), _("资源 {resource}"), _("期限 {due_on}")),
    )
    actions.register("sharing.stages.set", _("设置共享申请审核环节"))
