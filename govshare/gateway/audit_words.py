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
    actions.register_object_type("gateway.comparisonbatch", _("数据比对批次"))
    actions.register_detail_names({"batch": _("比对批次"), "keys": _("键数")})
    batch_details = (_("批次 {batch}"), _("资源 {resource}"), _("{keys} 个键"), _("结果 {outcome}"))
    actions.register("gateway.batch.submit", _("网关提交数据比对"), details=batch_details, failed_unless="ok")
    actions.register("gateway.batch.run", _("网关执行数据比对"), details=batch_details, failed_unless="ok")
    actions.register("gateway.batch.status", _("网关查询数据比对进度"), details=batch_details, failed_unless="ok")
    actions.register("gateway.batch.download", _("网关下载数据比对结果"), details=batch_details, failed_unless="ok")
    actions.register("gateway.call.proxy", _("网关代理调用提供部门接口"), details=details, failed_unless="ok")
    actions.register_object_type("gateway.providerservice", _("提供部门接口"))
    actions.register("gateway.provider.register", _("登记提供部门接口"), details=(_("资源 {resource}"),))
    actions.register("gateway.provider.change", _("修改提供部门接口"), details=(_("资源 {resource}"),))
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
