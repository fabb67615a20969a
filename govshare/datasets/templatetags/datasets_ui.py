"""Template helpers of the data pages: timeliness and load-status badges, load-mode labels, version numbers as
people count them."""

from __future__ import annotations

import re

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from govshare.dataplane.transform import WITHHELD_VALUE
from govshare.datasets.choices import LoadStatus
from govshare.datasets.encryption import ROTATION_MODE
from govshare.datasets.models import Load, shown_version
from govshare.jobs import logs
from govshare.sources.choices import LoadMode

register = template.Library()

# The choice labels these pages translate at run time (`|label`, the badges), kept in the message catalogue.
CHOICE_LABELS = (
    gettext_noop("前置库"),
    gettext_noop("接口调用"),
    gettext_noop("文件报送"),
    gettext_noop("排队中"),
    gettext_noop("运行中"),
    gettext_noop("等待重试"),
    gettext_noop("成功"),
    gettext_noop("失败"),
    gettext_noop("全量"),
    gettext_noop("增量（按水位字段追加）"),
    gettext_noop("增量（按主键合并）"),
    gettext_noop("不分页"),
    gettext_noop("页码分页"),
    gettext_noop("偏移量分页"),
    gettext_noop("游标分页"),
)

_STATUS_CLASS = {
    LoadStatus.QUEUED: "",
    LoadStatus.RUNNING: "",
    LoadStatus.RETRYING: "warning",
    LoadStatus.SUCCEEDED: "ok",
    LoadStatus.FAILED: "danger",
}


@register.simple_tag
def timeliness_badge(timely: bool | None) -> SafeString:
    """及时 when the last successful load is within the update cycle, 已超期 when not; nothing to judge otherwise."""
    if timely is None:
        return format_html('<span class="badge timeliness">{}</span>', _("未判定时效"))
    if timely:
        return format_html('<span class="badge ok timeliness">{}</span>', _("及时"))
    return format_html('<span class="badge danger timeliness">{}</span>', _("已超期"))


def partly_rejected(load: Load) -> bool:
    """A load that succeeded but refused some rows: not the same news as a clean one."""
    return load.status == LoadStatus.SUCCEEDED and load.rows_rejected > 0


@register.simple_tag
def load_status_badge(load: Load) -> SafeString:
    if partly_rejected(load):
        count = load.rows_rejected
        label = ngettext("部分拒绝（%(n)s 行）", "部分拒绝（%(n)s 行）", count) % {"n": f"{count:,}"}
        return format_html('<span class="badge load-status warning status-partly-rejected">{}</span>', label)
    css = _STATUS_CLASS.get(LoadStatus(load.status), "") if load.status in LoadStatus.values else ""
    return format_html(
        '<span class="badge load-status {} status-{}">{}</span>', css, load.status, _(load.get_status_display())
    )


@register.filter
def human_version(number: int | None) -> int | str:
    """A dataset version as people count it: Delta's version 0 is 第 1 版 (URLs and the API keep Delta's numbers)."""
    return "—" if number is None else shown_version(number)


@register.filter
def load_mode_label(mode: str) -> str:
    if mode == ROTATION_MODE:
        return _("密钥轮换")
    return str(LoadMode(mode).label) if mode in LoadMode.values else mode


@register.filter
def readable_log(log: str) -> str:
    """A stored job log in the reader's language (`govshare.jobs.logs`)."""
    return logs.readable(log)


@register.filter
def readable_message(message: str) -> str:
    """A stored job message (its error) in the reader's language when it is one of the catalogue's."""
    return logs.readable_text(message)


# The loader writes its reasons into the rejects file in Chinese (the file is a record, read as it was written);
# the load page shows them in the reader's language. The type names and patterns are `dataplane.transform._error`'s.
_REJECT_TYPES = {
    "数值": gettext_noop("数值"),
    "货币金额": gettext_noop("货币金额"),
    "日期": gettext_noop("日期"),
    "日期时间": gettext_noop("日期时间"),
    "逻辑值": gettext_noop("逻辑值"),
    "十六进制或 Base64 文本": gettext_noop("十六进制或 Base64 文本"),
}
_TYPES = "|".join(re.escape(name) for name in sorted(_REJECT_TYPES, key=len, reverse=True))
_NOT_CONVERTIBLE = re.compile(rf"无法转换为({_TYPES})：(.*)", re.DOTALL)
_NOT_CONVERTIBLE_WITHHELD = re.compile(rf"无法转换为({_TYPES})（{re.escape(WITHHELD_VALUE)}）")
_TOO_LONG = re.compile(r"超过长度 (\d+)（实际 (\d+)）")
_TOO_MANY_DIGITS = re.compile(r"超过长度 (\d+)（实际 (\d+) 位数字）")
_FIELD_TOO_LONG = re.compile(r"超过单个字段最大长度 (\d+)")


@register.filter
def reject_reason(reason: str) -> str | SafeString:
    """A reason of the rejects file in the reader's language; the refused value it quotes stays marked as content."""
    if reason == "必填项为空":
        return _("必填项为空")
    if reason == "含空字符（NUL）":
        return _("含空字符（NUL）")
    if match := _NOT_CONVERTIBLE_WITHHELD.fullmatch(reason):
        return _("无法转换为%(type)s（%(withheld)s）") % {
            "type": _(_REJECT_TYPES[match[1]]),
            "withheld": _(WITHHELD_VALUE),
        }
    if match := _NOT_CONVERTIBLE.fullmatch(reason):
        text = _("无法转换为%(type)s：%(value)s") % {"type": _(_REJECT_TYPES[match[1]]), "value": "\0"}
        before, after = text.split("\0")
        return format_html('{}<span lang="zh-Hans">{}</span>{}', before, match[2], after)
    if match := _TOO_MANY_DIGITS.fullmatch(reason):
        return _("超过长度 %(length)s（实际 %(actual)s 位数字）") % {"length": match[1], "actual": match[2]}
    if match := _TOO_LONG.fullmatch(reason):
        return _("超过长度 %(length)s（实际 %(actual)s）") % {"length": match[1], "actual": match[2]}
    if match := _FIELD_TOO_LONG.fullmatch(reason):
        return _("超过单个字段最大长度 %(length)s") % {"length": match[1]}
    return reason
