"""The sentences a load writes into its log (`govshare.datasets.loading`), so that a stored log reads in the reader's
language (`govshare.jobs.logs`)."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from govshare.jobs.logs import line, readable_text, sentence

# Why a load cannot read its source's columns (raised as SourceInvalid, stored as the load's error).
ITEM_GONE = gettext_noop("字段映射中的信息项“%(item)s”已不存在，请重新确认映射")
COLUMNS_MISSING = gettext_noop("来源中缺少已映射的字段：%(columns)s，请检查来源或重新确认字段映射")
SENTENCES = (ITEM_GONE, COLUMNS_MISSING)


def counted_from_one(delta_number: str) -> str:
    """A version number of an older log line (Delta's, from 0) as the lines now say it (第 1 版 is Delta's 0)."""
    return str(int(delta_number) + 1)


# Versions are counted from 1, as people count them (第 1 版 is Delta's version 0).
RESTORED = gettext_noop("第 %(head)s 版未通过检查，本次以当前的第 %(current)s 版为基础（恢复为第 %(restored)s 版）")
NO_CURRENT = gettext_noop("第 %(head)s 版未通过检查，且尚无当前版本：本次写入全部数据")
COMMITTED = gettext_noop("已提交数据集第 %(version)s 版")
RESUMED = gettext_noop("上次执行已提交第 %(version)s 版，补记结果")
REFUSED = gettext_noop("数据检查未通过，第 %(version)s 版未启用：%(reason)s")

LINES = (
    line(
        r"第 (?P<head>\d+) 版未通过检查，本次以当前的第 (?P<current>\d+) 版为基础（恢复为第 (?P<restored>\d+) 版）",
        RESTORED,
    ),
    line(r"第 (?P<head>\d+) 版未通过检查，且尚无当前版本：本次写入全部数据", NO_CURRENT),
    line(r"开始读取来源（(?P<n>\d+) 个字段）", gettext_noop("开始读取来源（%(n)s 个字段）")),
    line(r"已提交数据集第 (?P<version>\d+) 版", COMMITTED),
    line(
        r"第 (?P<n>\d+) 次执行，加载方式：(?P<mode>.+)",
        gettext_noop("第 %(n)s 次执行，加载方式：%(mode)s"),
        mode=gettext,
    ),
    line(r"上次执行已提交第 (?P<version>\d+) 版，补记结果", RESUMED),
    line(r"提示：(?P<warning>.*)", gettext_noop("提示：%(warning)s"), warning=readable_text),
    line(r"数据检查未通过，第 (?P<version>\d+) 版未启用：(?P<reason>.*)", REFUSED, reason=readable_text),
    # Lines stored by earlier releases, which wrote Delta's numbers ("v0"): read as the lines now say them.
    line(
        r"版本 v(?P<head>\d+) 未通过检查，本次以当前版本 v(?P<current>\d+) 为基础（恢复为 v(?P<restored>\d+)）",
        RESTORED,
        head=counted_from_one,
        current=counted_from_one,
        restored=counted_from_one,
    ),
    line(r"版本 v(?P<head>\d+) 未通过检查，且尚无当前版本：本次写入全部数据", NO_CURRENT, head=counted_from_one),
    line(r"已提交数据集版本 v(?P<version>\d+)", COMMITTED, version=counted_from_one),
    line(r"上次执行已提交版本 v(?P<version>\d+)，补记结果", RESUMED, version=counted_from_one),
    line(
        r"数据检查未通过，版本 v(?P<version>\d+) 未启用：(?P<reason>.*)",
        REFUSED,
        version=counted_from_one,
        reason=readable_text,
    ),
    *(sentence(message) for message in SENTENCES),
)
# Fixed lines are translated as they are; listed here for the message catalogue.
FIXED = (gettext_noop("来源没有新的数据，未生成新版本"), gettext_noop("没有新的有效记录，未生成新版本"))
