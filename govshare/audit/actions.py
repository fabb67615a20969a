"""What the audit log's action codes mean to people: a label (登录, 发布资源, 下载数据), the result (成功 / 拒绝 / 失败)
and a sentence built from the row's stored details.

Codes read `app.object.verb`. Stored rows are never rewritten (they are hashed into the chain), so a code that was
renamed stays readable: the new code keeps the old one as an alias, for its label and for the filter (services that
still write an old code are shown and filtered as the new one). The platform's own codes are in `_BUILT_IN`
below (audit imports no other app); an app that adds actions registers them from its ready() with `register`.
An unknown code is shown as itself, never dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

Text = str | Promise
_MAX_VALUE = 200  # a detail longer than this (a whole mapping) is cut: the row itself keeps all of it


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    REFUSED = "refused"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(_OUTCOME_LABELS[self])


# In context: “拒绝” alone is the verb (Reject) elsewhere; here it is what happened (Refused).
_OUTCOME_LABELS: dict[Outcome, Text] = {
    Outcome.SUCCESS: pgettext_lazy("审计结果", "成功"),
    Outcome.REFUSED: pgettext_lazy("审计结果", "拒绝"),
    Outcome.FAILED: pgettext_lazy("审计结果", "失败"),
}


@dataclass(frozen=True)
class ActionInfo:
    code: str
    label: Text
    # Fragments of the sentence, each a str.format template over the row's details; a fragment is left out when a
    # detail it names is missing or empty. Details no fragment names follow as “名称：值”.
    details: tuple[Text, ...] = ()
    outcome: Outcome = Outcome.SUCCESS
    aliases: tuple[str, ...] = ()
    # A detail that, when false, makes the row a failure (audit.verify with ok=False: the chain is broken).
    failed_unless: str = ""
    known: bool = True
    owner: str = ""  # the app that writes it, when its code does not start with it (a code kept from before)
    # Details stored as a Chinese message id (e.g. what was refused): shown in the reader's language.
    translated: tuple[str, ...] = ()

    @property
    def app(self) -> str:
        return self.owner or self.code.split(".", 1)[0]


_actions: dict[str, ActionInfo] = {}
_aliases: dict[str, str] = {}  # old code -> current code
_apps: dict[str, Text] = {}
_object_types: dict[str, Text] = {}
_detail_names: dict[str, Text] = {}


def register(
    code: str,
    label: Text,
    *,
    details: Iterable[Text] = (),
    outcome: Outcome = Outcome.SUCCESS,
    aliases: Iterable[str] = (),
    failed_unless: str = "",
    app: str = "",
    translated: Iterable[str] = (),
) -> ActionInfo:
    """Name an action code (apps call this from their ready(); registering a code again replaces it). `aliases` are
    the codes it was written under before, `app` the app it belongs to when its code does not start with it."""
    info = ActionInfo(
        code, label, tuple(details), outcome, tuple(aliases), failed_unless, owner=app, translated=tuple(translated)
    )
    _actions[code] = info
    for alias in info.aliases:
        _aliases[alias] = code
    return info


def register_app(prefix: str, label: Text) -> None:
    """The heading under which an app's actions are grouped in the filter (the code's first segment)."""
    _apps[prefix] = label


def register_object_type(object_type: str, label: Text) -> None:
    _object_types[object_type] = label


def register_detail_names(names: Mapping[str, Text]) -> None:
    """What a detail key is called when no sentence fragment names it."""
    _detail_names.update(names)


def info(code: str) -> ActionInfo:
    """The action a code stands for, through its alias if it was renamed; an unknown code stands for itself."""
    found = _actions.get(_aliases.get(code, code))
    return found if found is not None else ActionInfo(code, code, known=False)


def label(code: str) -> str:
    return str(info(code).label)


def app_label(prefix: str) -> str:
    return str(_apps.get(prefix, prefix))


def object_type_label(object_type: str) -> str:
    return str(_object_types.get(object_type, object_type))


def codes_for(wanted: str) -> list[str]:
    """The stored codes a filter value stands for: a code with its aliases (old or new), or, for a prefix ending in
    “.”, every registered code of that app and their aliases (the caller also matches unregistered codes by prefix)."""
    if wanted.endswith("."):
        app = wanted[:-1]
        of_app = {code for code, found in _actions.items() if code.startswith(wanted) or found.app == app}
        return sorted(of_app | {alias for alias, code in _aliases.items() if code in of_app})
    code = _aliases.get(wanted, wanted)
    found = _actions.get(code)
    return sorted({wanted, code, *(found.aliases if found else ())})


def is_prefix_filter(wanted: str) -> bool:
    return wanted.endswith(".")


def choices(present: Iterable[str] = ()) -> list[tuple[str, list[tuple[str, str]]]]:
    """The filter's options grouped by app: (app heading, [(code, label)]), every registered action and any other
    code found in the log (`present`), each app's group opening with “all of this app” (its prefix)."""
    codes = set(_actions)
    codes.update(_aliases.get(code, code) for code in present)
    groups: dict[str, list[tuple[str, str]]] = {}
    for code in codes:
        groups.setdefault(info(code).app, []).append((code, label(code)))
    result = []
    for prefix in sorted(groups, key=lambda p: (p not in _apps, list(_apps).index(p) if p in _apps else 0, p)):
        options = sorted(groups[prefix], key=lambda option: option[0])
        all_of = gettext("全部“%(app)s”操作") % {"app": app_label(prefix)}
        result.append((app_label(prefix), [(f"{prefix}.", all_of), *options]))
    return result


def outcome(code: str, extra: Mapping[str, Any]) -> Outcome:
    found = info(code)
    if found.failed_unless and extra.get(found.failed_unless) is False:
        return Outcome.FAILED
    return found.outcome


def describe(code: str, extra: Mapping[str, Any]) -> str:
    """The row's details as a sentence in the reader's language (never a Python repr)."""
    found = info(code)
    parts: list[str] = []
    used: set[str] = set()
    for fragment in found.details:
        template = str(fragment)
        names = _names_in(template)
        used.update(names)
        if any(_is_empty(extra.get(name)) for name in names):
            continue
        parts.append(template.format(**{name: _shown(found, name, extra[name]) for name in names}))
    for key, value in extra.items():
        if key in used or _is_empty(value):
            continue
        parts.append(_named(detail_name(key), _shown(found, key, value)))
    # Punctuation too is the reader's: full-width in Chinese, “; ” and “: ” in English.
    return pgettext("审计详情的分句", "；").join(parts)


def _named(name: str, value: str) -> str:
    return pgettext("审计详情的名称与值", "{name}：{value}").format(name=name, value=value)


def _shown(found: ActionInfo, key: str, value: Any) -> str:
    if key in found.translated and isinstance(value, str):
        return gettext(value)
    return format_value(value)


def detail_name(key: str) -> str:
    return str(_detail_names.get(key, key))


def format_value(value: Any) -> str:
    """A stored detail in words: yes/no, lists joined, mappings as “名称：值”, long values cut."""
    if isinstance(value, bool):
        text = gettext("是") if value else gettext("否")
    elif isinstance(value, Mapping):
        text = pgettext("审计详情中的并列项", "，").join(
            _named(detail_name(str(k)), format_value(v)) for k, v in value.items() if not _is_empty(v)
        )
    elif isinstance(value, list | tuple):
        text = pgettext("审计详情中的列表", "、").join(format_value(v) for v in value)
    elif isinstance(value, str) and _looks_like_time(value):
        moment = dt.datetime.fromisoformat(value)
        # Stored in UTC (ISO 8601): shown in the platform's time zone, as the log's own times are.
        text = (timezone.localtime(moment) if timezone.is_aware(moment) else moment).strftime("%Y-%m-%d %H:%M")
    else:
        text = str(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _looks_like_time(value: str) -> bool:
    if len(value) < 19 or value[4] != "-" or value[10] != "T":
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _names_in(template: str) -> list[str]:
    import string

    return [name for _text, name, _spec, _conv in string.Formatter().parse(template) if name]


# --- the platform's actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    code: str
    label: Text
    details: tuple[Text, ...] = ()
    outcome: Outcome = Outcome.SUCCESS
    aliases: tuple[str, ...] = ()
    failed_unless: str = ""
    app: str = ""
    translated: tuple[str, ...] = ()


_APPS: dict[str, Text] = {
    "accounts": _("账号与部门"),
    "identity": _("身份认证与接入系统"),
    "catalog": _("目录"),
    "grading": _("分级分类"),
    "sources": _("数据源"),
    "datasets": _("数据归集与使用"),
    "jobs": _("后台任务"),
    "keys": _("加密密钥"),
    "demo": _("演示数据"),
    "audit": _("审计"),
    "sharing": _("数据共享"),
}

_OBJECT_TYPES: dict[str, Text] = {
    "catalog.resource": _("信息资源"),
    "catalog.category": _("资源分类"),
    "catalog.importbatch": _("目录导入批次"),
    "catalog.resourcerevision": _("资源变更申请"),
    "catalog.synonymgroup": _("同义词组"),
    "accounts.user": _("用户"),
    "accounts.department": _("部门"),
    "accounts.apitoken": _("API 令牌"),
    "accounts.rolegrantrequest": _("角色授予申请"),
    "core.calendaryear": _("节假日安排"),
    "grading.gradingchange": _("分级调整申请"),
    "datasets.dataset": _("数据集"),
    "datasets.load": _("归集任务"),
    "sources.source": _("数据源"),
    "jobs.job": _("后台任务"),
    "identity.informationsystem": _("接入系统"),
    "oauth2_provider.application": _("接入应用"),
    "crypto.key": _("加密密钥"),
    "audit.auditlog": _("审计日志"),
    "sharing.demand": _("共享需求"),
    "sharing.duty": _("共享责任"),
    "demo": _("演示数据"),
}

_DETAIL_NAMES: dict[str, Text] = {
    "resource": _("资源代码"),
    "code": _("代码"),
    "version": _("版本"),
    "rows": _("行数"),
    "format": _("格式"),
    "purpose": _("用途"),
    "reason": _("原因"),
    "note": _("说明"),
    "status": _("状态"),
    "before": _("修改前"),
    "after": _("修改后"),
    "changes": _("改动数"),
    "fields": _("修改的字段"),
    "address": _("IP 地址"),
    "username": _("账号"),
    "locked": _("已锁定"),
    "role": _("角色"),
    "grant": _("申请编号"),
    "department": _("部门"),
    "token_prefix": _("令牌前缀"),
    "scope": _("权限范围"),
    "expires_at": _("到期时间"),
    "count": _("数量"),
    "client_id": _("客户端标识"),
    "redirect_uris": _("回调地址"),
    "file_name": _("文件名"),
    "problems": _("问题数"),
    "created": _("新建数"),
    "task": _("任务"),
    "title": _("标题"),
    "error": _("错误"),
    "attempts": _("尝试次数"),
    "source": _("数据源编号"),
    "mode": _("归集方式"),
    "kind": _("类型"),
    "settings": _("设置"),
    "credential": _("凭据"),
    "mapping": _("字段映射"),
    "item": _("信息项"),
    "rows_loaded": _("入库行数"),
    "rows_rejected": _("拒收行数"),
    "checksum": _("校验和"),
    "from_version": _("原版本"),
    "active_key": _("当前密钥"),
    "batch": _("批次"),
    "rewritten": _("重写条数"),
    "first_pk": _("起始主键"),
    "last_pk": _("结束主键"),
    "departments": _("部门数"),
    "resources": _("资源数"),
    "maintained_at": _("维护日期"),
    "filters": _("筛选条件"),
    "ok": _("完整"),
    "checked": _("已校验条数"),
    "method": _("请求方法"),
    "path": _("路径"),
    "http_status": _("答复状态码"),
    "refused": _("被拒绝的操作"),
    "suppressed": _("此前未逐条记录的同类拒绝"),
    "subject": _("访问者"),
    "name": _("名称"),
    "actor": _("操作人账号"),
    "action": _("操作"),
    "object_type": _("对象类型"),
    "object_id": _("对象标识"),
    "q": _("对象名称包含"),
    "since": _("起始时间"),
    "until": _("截止时间"),
    "similar": _("相似资源代码"),
    "similar_id": _("相似资源编号"),
    "recipients": _("提醒人数"),
    "due_on": _("维护期限"),
    "terms": _("同义词"),
    "is_active": _("启用"),
    "year": _("年份"),
    "holidays": _("放假天数"),
    "workdays": _("调休上班天数"),
}

_REASON = _("原因：{reason}")
_RESOURCE = _("资源 {resource}")
_ADDRESS = _("来自 {address}")
_ROLE = _("角色：{role}")

_BUILT_IN: tuple[_Spec, ...] = (
    # accounts: sign-in, departments, users, roles, personal tokens
    _Spec("accounts.session.login", _("登录"), (_ADDRESS,), aliases=("accounts.login",)),
    _Spec("accounts.session.logout", _("退出登录"), (_ADDRESS,), aliases=("accounts.logout",)),
    _Spec(
        "accounts.session.login_fail",
        _("登录失败"),
        (_("账号 {username}"), _ADDRESS),
        Outcome.FAILED,
        aliases=("accounts.login.failed",),
    ),
    _Spec(
        "accounts.account.lock",
        _("账号被锁定"),
        (_("账号 {username}"), _ADDRESS),
        Outcome.REFUSED,
        aliases=("accounts.login.locked",),
    ),
    _Spec("accounts.department.create", _("新建部门"), (_("部门代码 {code}"),), aliases=("department.create",)),
    _Spec("accounts.department.update", _("修改部门"), (_("修改前：{before}"),), aliases=("department.update",)),
    _Spec(
        "accounts.department.confirm_maintenance",
        _("确认目录全面维护"),
        (_("维护日期 {maintained_at}"),),
        aliases=("department.catalog.maintained",),
    ),
    _Spec("accounts.user.create", _("新建用户"), (_("所属部门 {department}"),), aliases=("user.create",)),
    _Spec("accounts.user.update", _("修改用户"), (_("修改前：{before}"),), aliases=("user.update",)),
    _Spec("accounts.user.set_password", _("设置密码"), aliases=("user.password.set",)),
    _Spec("accounts.role.assign", _("授予角色"), (_ROLE,), aliases=("user.role.assign",)),
    _Spec("accounts.role.revoke", _("撤销角色"), (_ROLE,), aliases=("user.role.revoke",)),
    _Spec(
        "accounts.role_grant.propose", _("提议授予角色"), (_ROLE, _("申请编号 {grant}")), aliases=("user.role.propose",)
    ),
    _Spec(
        "accounts.role_grant.confirm", _("确认授予角色"), (_ROLE, _("申请编号 {grant}")), aliases=("user.role.confirm",)
    ),
    _Spec(
        "accounts.role_grant.reject",
        _("拒绝授予角色"),
        (_ROLE, _("申请编号 {grant}"), _REASON),
        aliases=("user.role.reject",),
    ),
    _Spec(
        "accounts.role_grant.cancel",
        _("取消角色授予申请"),
        (_ROLE, _("申请编号 {grant}")),
        aliases=("user.role.cancel",),
    ),
    _Spec(
        "accounts.token.create",
        _("创建 API 令牌"),
        (_("前缀 {token_prefix}"), _("权限 {scope}"), _("到期 {expires_at}")),
        aliases=("user.token.create",),
    ),
    _Spec("accounts.token.revoke", _("撤销 API 令牌"), (_("前缀 {token_prefix}"),), aliases=("user.token.revoke",)),
    _Spec(
        "accounts.token.revoke_all",
        _("撤销全部令牌"),
        (_("共 {count} 个"), _REASON),
        aliases=("user.token.revoke_all",),
    ),
    # accounts: the working-day calendar (govshare.accounts.calendar_services; the years live in govshare.core)
    _Spec(
        "accounts.calendar.enter",
        _("录入节假日安排"),
        (_("{year} 年"), _("放假 {holidays} 天、调休上班 {workdays} 天"), _("修改前：{before}")),
    ),
    _Spec(
        "accounts.calendar.import",
        _("导入节假日安排"),
        (_("{year} 年"), _("放假 {holidays} 天、调休上班 {workdays} 天"), _("文件 {file_name}"), _("修改前：{before}")),
    ),
    # identity: second factor, passwords, OIDC, information systems
    _Spec("identity.totp.enrol", _("开始绑定动态口令"), aliases=("user.totp.enrol.start",)),
    _Spec("identity.totp.enable", _("启用动态口令"), aliases=("user.totp.enable",)),
    _Spec("identity.totp.disable", _("停用动态口令"), aliases=("user.totp.disable",)),
    _Spec("identity.totp.reset", _("重置动态口令"), aliases=("user.totp.reset",)),
    _Spec("identity.password.set_temporary", _("设置临时密码"), aliases=("user.password.temporary",)),
    _Spec("identity.password.change", _("修改密码"), aliases=("user.password.change",)),
    _Spec("identity.oidc.authorize", _("授权接入应用登录"), (_("客户端 {client_id}"),), aliases=("oidc.authorize",)),
    _Spec(
        "identity.oidc_client.register",
        _("登记接入应用"),
        (_("客户端 {client_id}"),),
        aliases=("oidc.client.register",),
    ),
    _Spec("identity.oidc_client.update", _("修改接入应用"), (_("修改前：{before}"),), aliases=("oidc.client.update",)),
    _Spec("identity.oidc_token.issue", _("签发访问令牌"), (_("客户端 {client_id}"),), aliases=("oidc.token.issue",)),
    _Spec("identity.system.register", _("登记接入系统"), (_("所属部门 {department}"),)),
    _Spec("identity.system.update", _("修改接入系统"), (_("修改的字段：{changes}"),)),
    _Spec(
        "identity.credential.issue",
        _("签发系统凭据"),
        (_("客户端 {client_id}"),),
        aliases=("identity.system.credential.issue",),
    ),
    _Spec(
        "identity.credential.revoke",
        _("吊销系统凭据"),
        (_("客户端 {client_id}"),),
        aliases=("identity.system.credential.revoke",),
    ),
    _Spec("identity.system.deactivate", _("停用接入系统"), (_REASON,)),
    _Spec(
        "identity.credential.rotate",
        _("轮换系统凭据"),
        (_("客户端 {client_id}"), _("新客户端 {new_client_id}"), _("旧凭据有效至 {expires_at}")),
    ),
    _Spec("identity.credential.expire", _("轮换过渡期满，吊销旧凭据"), (_("客户端 {client_id}"),)),
    # catalog
    _Spec("catalog.category.create", _("新建资源分类"), (_("分类代码 {code}"),)),
    _Spec("catalog.category.update", _("修改资源分类"), (_("修改前：{before}"),)),
    _Spec("catalog.resource.create", _("编目资源"), (_("资源代码 {code}"),)),
    _Spec("catalog.resource.import", _("导入资源"), (_("{note}"),)),
    _Spec("catalog.resource.update", _("修改资源"), (_("改动 {changes} 处"),)),
    _Spec("catalog.resource.delete", _("删除资源"), (_("资源代码 {code}"),)),
    _Spec("catalog.resource.submit", _("提交审核"), (_("{note}"),)),
    _Spec("catalog.resource.publish", _("发布资源"), (_("审核意见：{note}"),)),
    _Spec("catalog.resource.reject", _("驳回资源"), (_("驳回理由：{note}"),), Outcome.SUCCESS),
    _Spec("catalog.resource.withdraw", _("下线资源"), (_("下线原因：{note}"),)),
    _Spec("catalog.resource.reopen", _("重新编辑资源"), (_("{note}"),)),
    _Spec("catalog.resource.recall", _("撤回提交"), (_("{note}"),)),
    # a published entry's change request (the published version stays until it is approved)
    _Spec("catalog.revision.create", _("新建变更申请"), (_RESOURCE,)),
    _Spec("catalog.revision.update", _("修改变更申请"), (_RESOURCE,)),
    _Spec("catalog.revision.submit", _("提交变更申请"), (_RESOURCE,)),
    _Spec("catalog.revision.withdraw", _("撤回变更申请"), (_RESOURCE, _REASON)),
    _Spec("catalog.revision.reject", _("驳回变更申请"), (_RESOURCE, _REASON)),
    _Spec("catalog.revision.approve", _("批准变更申请"), (_RESOURCE, _("第 {version} 版"), _("审核意见：{note}"))),
    _Spec("catalog.duplicate.dismiss", _("标记为不是重复"), (_("与资源 {similar} 不是重复"),)),
    _Spec("catalog.duplicate.restore", _("撤销“不是重复”标记"), (_("与资源 {similar}"),)),
    _Spec("catalog.maintenance.remind", _("发送维护提醒"), (_("提醒 {recipients} 人"), _("期限 {due_on}"))),
    _Spec("catalog.synonym.create", _("新建同义词组"), (_("{terms}"),)),
    _Spec("catalog.synonym.update", _("修改同义词组"), (_("{terms}"), _("修改前：{before}"))),
    _Spec(
        "catalog.import.succeed",
        _("导入目录"),
        (_("文件 {file_name}"), _("{rows} 行，新建 {created} 条资源")),
        aliases=("catalog.import.imported",),
    ),
    _Spec(
        "catalog.import.refuse",
        _("目录导入被拒"),
        (_("文件 {file_name}"), _("{problems} 处问题")),
        Outcome.REFUSED,
        aliases=("catalog.import.refused",),
    ),
    # grading
    _Spec(
        "grading.change.propose", _("申请调整分级"), (_RESOURCE, _("信息项 {item}"), _("{before} → {after}"), _REASON)
    ),
    _Spec("grading.change.approve", _("批准分级调整"), (_RESOURCE, _("信息项 {item}"), _("{before} → {after}"))),
    _Spec("grading.change.reject", _("驳回分级调整"), (_RESOURCE, _("信息项 {item}"), _REASON)),
    # sources (its actions were written under datasets.* before the sources app existed)
    _Spec(
        "sources.source.register",
        _("登记数据源"),
        (_RESOURCE, _("类型 {kind}")),
        aliases=("datasets.source_registered",),
    ),
    _Spec("sources.source.update", _("修改数据源"), (_("修改的字段：{fields}"),), aliases=("datasets.source_updated",)),
    _Spec("sources.source.enable", _("启用数据源"), aliases=("datasets.source_enabled",)),
    _Spec("sources.source.disable", _("停用数据源"), aliases=("datasets.source_disabled",)),
    _Spec("sources.mapping.confirm", _("确认字段映射"), aliases=("datasets.mapping_confirmed",)),
    # datasets: loads and reading the data
    _Spec("datasets.load.request", _("发起归集"), (_RESOURCE, _("方式 {mode}")), aliases=("datasets.load_requested",)),
    _Spec("datasets.load.retry", _("重试归集"), aliases=("datasets.load_retried",)),
    _Spec("datasets.serving.build", _("建立检索索引"), (_RESOURCE, _("版本 {version}"), _("{rows} 行"))),
    _Spec(
        "datasets.load.succeed",
        _("归集完成"),
        (_RESOURCE, _("第 {version} 版"), _("入库 {rows_loaded} 行"), _("拒收 {rows_rejected} 行")),
        aliases=("datasets.load_succeeded",),
    ),
    _Spec(
        "datasets.load.retry_later",
        _("归集失败，将重试"),
        (_("错误：{error}"),),
        Outcome.FAILED,
        aliases=("datasets.load_retrying",),
    ),
    _Spec("datasets.load.requeue", _("归集任务重新排队"), (_REASON,), aliases=("datasets.load_requeued",)),
    _Spec(
        "datasets.load.fail",
        _("归集失败"),
        (_("错误：{error}"), _REASON),
        Outcome.FAILED,
        aliases=("datasets.load_failed",),
    ),
    _Spec(
        "datasets.version.refuse",
        _("拒绝生成新版本"),
        (_("第 {version} 版"), _REASON),
        Outcome.REFUSED,
        aliases=("datasets.version_refused",),
    ),
    _Spec(
        "datasets.dataset.rotate_key",
        _("轮换数据加密密钥"),
        (_RESOURCE, _("第 {from_version} 版 → 第 {version} 版")),
        aliases=("datasets.encryption_rotated",),
    ),
    _Spec(
        "datasets.data.preview",
        _("预览数据"),
        (_RESOURCE, _("第 {version} 版"), _("{rows} 行"), _("用途：{purpose}")),
        aliases=("datasets.data_previewed",),
    ),
    _Spec(
        "datasets.data.download",
        _("下载数据"),
        (_RESOURCE, _("第 {version} 版"), _("格式 {format}"), _("用途：{purpose}")),
        aliases=("datasets.data_downloaded",),
    ),
    _Spec(
        "datasets.rejects.download",
        _("下载拒收记录"),
        (_RESOURCE, _("第 {version} 版")),
        aliases=("datasets.rejects_downloaded",),
    ),
    _Spec(
        "sources.source.preview", _("预览数据源"), (_RESOURCE, _("{rows} 行")), aliases=("datasets.source_previewed",)
    ),
    # jobs
    _Spec("jobs.job.start", _("启动后台任务"), (_("{title}"),), aliases=("jobs.job_started",)),
    _Spec("jobs.job.succeed", _("后台任务完成"), aliases=("jobs.job_succeeded",)),
    _Spec(
        "jobs.job.retry_later",
        _("后台任务失败，将重试"),
        (_("错误：{error}"),),
        Outcome.FAILED,
        aliases=("jobs.job_retrying",),
    ),
    _Spec("jobs.job.requeue", _("后台任务重新排队"), (_REASON,), aliases=("jobs.job_requeued",)),
    _Spec(
        "jobs.job.fail", _("后台任务失败"), (_("错误：{error}"), _REASON), Outcome.FAILED, aliases=("jobs.job_failed",)
    ),
    # keys
    _Spec(
        "keys.field.reencrypt",
        _("用新密钥重写加密字段"),
        (_("第 {batch} 批"), _("重写 {rewritten} 条")),
        aliases=("crypto.rotate",),
    ),
    _Spec("keys.key.add", _("添加加密密钥"), aliases=("crypto.key.add",)),
    _Spec("keys.key.retire", _("停用加密密钥"), aliases=("crypto.key.retire",)),
    # sharing: the demand, duty and negative lists (需求清单, 责任清单, 负面清单)
    _Spec("sharing.demand.create", _("登记共享需求"), (_("提供部门 {provider}"),)),
    _Spec("sharing.demand.update", _("修改共享需求"), (_("修改的字段：{fields}"),)),
    _Spec("sharing.demand.answer", _("以目录资源答复需求"), (_RESOURCE, _("说明：{note}"))),
    _Spec("sharing.demand.ask_catalogue", _("请求提供部门编目"), (_("提供部门 {provider}"), _("通知 {recipients} 人"))),
    _Spec("sharing.demand.close", _("关闭共享需求"), (_REASON,)),
    _Spec("sharing.duty.create", _("设定共享责任"), (_("责任部门 {department}"),)),
    _Spec("sharing.duty.update", _("修改共享责任"), (_("修改的字段：{fields}"),)),
    _Spec("sharing.duty.delete", _("删除共享责任"), (_("责任部门 {department}"),)),
    _Spec("sharing.duty.fulfil", _("关联履责目录资源"), (_RESOURCE,)),
    _Spec(
        "sharing.list.import",
        _("导入共享清单"),
        (_("{list}"), _("文件 {file_name}"), _("{rows} 行，新建 {created} 条，修改 {updated} 条，未变 {unchanged} 条")),
    ),
    _Spec(
        "sharing.list.import_refuse",
        _("共享清单导入被拒"),
        (_("{list}"), _("文件 {file_name}"), _("{problems} 处问题")),
        Outcome.REFUSED,
    ),
    # demo
    _Spec(
        "demo.data.load", _("载入演示数据"), (_("{departments} 个部门，{resources} 条资源"),), aliases=("demo.load",)
    ),
    # audit: the auditor's own reads, and refused attempts to read data (govshare.audit.refusals)
    _Spec("audit.log.export", _("导出审计日志"), (_("筛选条件：{filters}"),), aliases=("audit.export",)),
    _Spec(
        "audit.chain.verify",
        _("校验审计日志哈希链"),
        (_("已校验 {checked} 条"), _("发起方式：{origin}")),
        failed_unless="ok",
        aliases=("audit.verify",),
        translated=("origin",),
    ),
    _Spec(
        "audit.access.deny",
        _("拒绝访问数据"),
        (
            _("{refused}"),
            _("{method} {path}"),
            _("答复 {http_status}"),
            _("此前同类拒绝另有 {suppressed} 次未逐条记录"),
        ),
        Outcome.REFUSED,
        translated=("refused",),
    ),
)


def _register_built_in() -> None:
    for prefix, heading in _APPS.items():
        register_app(prefix, heading)
    for object_type, name in _OBJECT_TYPES.items():
        register_object_type(object_type, name)
    register_detail_names(_DETAIL_NAMES)
    for spec in _BUILT_IN:
        register(
            spec.code,
            spec.label,
            details=spec.details,
            outcome=spec.outcome,
            aliases=spec.aliases,
            failed_unless=spec.failed_unless,
            app=spec.app,
            translated=spec.translated,
        )


_register_built_in()
