"""What the gateway's audit codes mean to people (govshare.audit.actions)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from govshare.audit import actions


def register() -> None:
    actions.register_app("gateway", _("数据服务网关"))
    actions.register_object_type("gateway.key", _("查询键（密钥哈希）"))
    actions.register_detail_names(
        {
            "request_id": _("请求编号"),
            "system": _("接入系统"),
            "rows": _("返回行数"),
            "latency_ms": _("耗时（毫秒）"),
            "outcome": _("结果"),
        }
    )
    details = (_("资源 {resource}"), _("应用场景 {scenario}"), _("授权 {grant}"), _("结果 {outcome}"), _("{rows} 行"))
    actions.register("gateway.call.lookup", _("网关按键查询"), details=details, failed_unless="ok")
    actions.register("gateway.call.verify", _("网关核验"), details=details, failed_unless="ok")
    actions.register("gateway.call.query", _("网关分页查询"), details=details, failed_unless="ok")
    actions.register_object_type("gateway.usagealert", _("网关异常调用告警"))
    actions.register(
        "gateway.alert.raise",
        _("网关异常调用告警"),
        details=(_("接入系统 {system}"), _("类型 {kind}"), _("观测值 {observed}")),
    )
    actions.register_object_type("gateway.delivery", _("数据交付"))
    actions.register(
        "gateway.delivery.register",
        _("登记数据交付"),
        details=(_("授权 {grant}"), _("资源 {resource}"), _("交付方式 {kind}"), _("执行周期 {schedule}")),
    )
    actions.register(
        "gateway.delivery.run",
        _("执行数据交付"),
        details=(
            _("授权 {grant}"),
            _("结果 {outcome}"),
            _("版本 {version}"),
            _("写入 {upserted} 行"),
            _("删除 {deleted} 行"),
        ),
        failed_unless="succeeded",
    )
    actions.register("gateway.delivery.stop", _("停止数据交付"), details=(_("授权 {grant}"), _("原因 {reason}")))
    actions.register("gateway.key.trace", _("按查询键追溯网关调用"), details=(_("找到 {found} 次调用"),))
