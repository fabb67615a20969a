"""What the scenario services' audit codes mean (govshare.audit.actions), registered from sharing's ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from govshare.audit import actions


def register() -> None:
    actions.register_app("sharing", _("数据共享"))
    actions.register_object_type("sharing.scenario", _("应用场景"))
    actions.register("sharing.scenario.register", _("登记应用场景"), details=(_("场景“{name}”，部门 {department}"),))
    actions.register("sharing.scenario.update", _("修改应用场景"), details=(_("修改的字段：{changes}"),))
    actions.register("sharing.scenario.submit", _("提交应用场景审核"))
    actions.register("sharing.scenario.approve", _("通过应用场景"), details=(_("审核意见：{note}"),))
    actions.register("sharing.scenario.reject", _("驳回应用场景"), details=(_("原因：{reason}"),))
    actions.register("sharing.scenario.retire", _("停用应用场景"), details=(_("原因：{reason}"),))
