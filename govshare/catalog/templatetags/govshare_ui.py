"""Small template helpers of the pages: role names, translated choice labels, page links."""

from __future__ import annotations

import re

from django import template
from django.http import QueryDict
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.choices import Role
from govshare.catalog import history

register = template.Library()

_CJK = re.compile(r"[\u4e00-\u9fff]")

# Choice labels are Chinese in the models (they are the guideline's terms and the import vocabulary); these
# markers put them into the message catalogue so that English pages can show them translated.
CHOICE_LABELS = (
    gettext_noop("平台管理员"),
    gettext_noop("部门目录管理员"),
    gettext_noop("部门审核员"),
    gettext_noop("使用方"),
    gettext_noop("安全管理员"),
    gettext_noop("审计员"),
    gettext_noop("市级"),
    gettext_noop("区县级"),
    gettext_noop("乡镇（街道）级"),
    gettext_noop("电子文件"),
    gettext_noop("电子表格"),
    gettext_noop("数据库"),
    gettext_noop("图形图像"),
    gettext_noop("流媒体"),
    gettext_noop("自描述格式"),
    gettext_noop("其他"),
    gettext_noop("无条件共享"),
    gettext_noop("有条件共享"),
    gettext_noop("不予共享"),
    gettext_noop("无条件开放"),
    gettext_noop("有条件开放"),
    gettext_noop("不予开放"),
    gettext_noop("共享平台方式"),
    gettext_noop("邮件/介质方式"),
    gettext_noop("接口"),
    gettext_noop("库表"),
    gettext_noop("文件"),
    gettext_noop("实时"),
    gettext_noop("每日"),
    gettext_noop("每周"),
    gettext_noop("每月"),
    gettext_noop("每季度"),
    gettext_noop("每半年"),
    gettext_noop("每年"),
    gettext_noop("不定期"),
    gettext_noop("字符型"),
    gettext_noop("数值型"),
    gettext_noop("货币型"),
    gettext_noop("日期型"),
    gettext_noop("日期时间型"),
    gettext_noop("逻辑型"),
    gettext_noop("备注型"),
    gettext_noop("二进制"),
    gettext_noop("草稿"),
    gettext_noop("待审核"),
    gettext_noop("已发布"),
    gettext_noop("已下线"),
    gettext_noop("创建"),
    gettext_noop("导入"),
    gettext_noop("修改"),
    gettext_noop("提交审核"),
    gettext_noop("发布"),
    gettext_noop("驳回"),
    gettext_noop("下线"),
    gettext_noop("重新编辑"),
    gettext_noop("同资源"),
)


@register.filter
def readable_note(note: str) -> str:
    """A stored version note in the reader's language when the platform wrote it (`history.readable_note`)."""
    return history.readable_note(note)


@register.filter
def readable_changes(changes: list[dict[str, str]]) -> list[dict[str, str]]:
    """A stored version's diff in the reader's language (`history.readable`)."""
    return history.readable(changes)


@register.filter
def label(value: object) -> str:
    """A Chinese choice label, translated when the page is in another language."""
    return gettext(str(value)) if value else ""


@register.filter
def content(value: object) -> SafeString:
    """Content in Chinese shown inside the interface (a name, a typed text), marked with its language: an English page
    then declares it as such (screen readers, fonts) and its checks can tell it from untranslated interface."""
    return format_html('<span lang="zh-Hans">{}</span>', value)


@register.filter
def diff_label(change: dict[str, str]) -> SafeString:
    """A readable change's label with the item's name in it marked as content."""
    label = str(conditional_escape(change.get("label", "")))
    if name := change.get("name"):
        label = label.replace(str(conditional_escape(name)), content(name), 1)
    return mark_safe(label)  # noqa: S308 (escaped above)


@register.filter
def diff_value(value: str) -> str | SafeString:
    """A readable change's value: a value still in Chinese once translated is the entry's own, marked as content."""
    return content(value) if _CJK.search(value) else value


@register.simple_tag
def role_labels(roles: frozenset[str]) -> str:
    names = [gettext(str(Role(r).label)) for r in Role.values if r in roles]
    return gettext("、").join(names)


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, number: int) -> str:
    """The current URL with only the page number changed (keeps filters)."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else QueryDict(mutable=True)
    query["page"] = str(number)
    return "?" + query.urlencode()
