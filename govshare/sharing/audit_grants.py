"""What the grants' audit codes mean to people (govshare.audit.actions)."""

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
