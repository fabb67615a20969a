"""Writes of data sources: registration (挂接), settings and their credential, the column mapping.

Every write checks permission, validates with precise Chinese messages and records an audit row in its transaction.
The datasets app learns of each saved source through `signals.source_saved` (it keeps the resource's dataset and the
source's schedule), so that this app knows nothing of datasets or jobs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext, gettext_noop
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog.choices import AtRest, ReviewStatus
from govshare.catalog.models import Item, Resource
from govshare.core.errors import Conflict, FieldProblem, ValidationFailed
from govshare.core.text import join_names
from govshare.dataplane.raw import SourceError
from govshare.sources import credentials
from govshare.sources.access import require_source_manager
from govshare.sources.choices import FileFormat, LoadMode, PagingMode, SourceKind
from govshare.sources.connection_policy import HostUnresolved, SourcePolicy, source_timeout
from govshare.sources.mapping import validate_mapping
from govshare.sources.models import Source
from govshare.sources.readers.database import check_select, source_url
from govshare.sources.signals import source_saved

_DATABASE_DRIVERS = frozenset({"sqlite", "postgresql", "postgresql+psycopg", "mysql", "mysql+pymysql"})
_TABLE_NAME = re.compile(r"^[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*(\.[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*)?$")
_FILE_SUFFIXES = {
    ".csv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".tsv": FileFormat.TSV,
    ".xlsx": FileFormat.XLSX,
    ".json": FileFormat.JSON,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
}


@dataclass
class SourceInput:
    name: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    secret: str | None = None  # None keeps the stored credential
    load_mode: str = LoadMode.FULL
    watermark_column: str = ""
    key_items: list[str] = field(default_factory=list)
    detect_deletes: bool = False
    schedule_enabled: bool = False


@dataclass(frozen=True)
class MappingEntry:
    column: str
    item: str


# --- validation -----------------------------------------------------------------------------------------------


def _database_problems(config: dict[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    url = str(config.get("url") or "").strip()
    if not url:
        return [FieldProblem("config.url", gettext("请填写前置库连接地址（SQLAlchemy URL）"))]
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return [
            FieldProblem(
                "config.url", gettext("前置库连接地址格式不正确，应如 postgresql+psycopg://用户@主机:5432/库名")
            )
        ]
    supported = parsed.drivername in _DATABASE_DRIVERS
    if not supported:
        problems.append(
            FieldProblem(
                "config.url",
                gettext("不支持的数据库类型“%(drivername)s”，支持 SQLite、PostgreSQL、MySQL")
                % {"drivername": parsed.drivername},
            )
        )
    elif problem := _reach_problem(lambda: SourcePolicy.from_settings().check_database(source_url(url, ""))):
        problems.append(FieldProblem("config.url", problem))
    table, query = str(config.get("table") or "").strip(), str(config.get("query") or "").strip()
    if bool(table) == bool(query):
        problems.append(FieldProblem("config.table", gettext("请填写表名或查询语句（二者选一）")))
    elif table and not _TABLE_NAME.match(table):
        problems.append(
            FieldProblem("config.table", gettext("表名“%(table)s”不合法，应为“表名”或“模式.表名”") % {"table": table})
        )
    elif query and not re.match(r"^\s*(select|with)\b", query, re.IGNORECASE):
        problems.append(FieldProblem("config.query", gettext("查询语句只能是一条 SELECT 语句")))
    elif query and supported and (problem := _reach_problem(lambda: check_select(query, parsed.get_backend_name()))):
        problems.append(FieldProblem("config.query", problem))
    return problems + _timeout_problems(config)


def _reach_problem(check: Callable[[], object]) -> str:
    """What the connection policy (or the query check) objects to, "" when nothing. A host name that does not
    resolve now is left to the check made each time the source is opened."""
    try:
        check()
    except HostUnresolved:
        return ""
    except SourceError as exc:
        return exc.message
    return ""


def _timeout_problems(config: dict[str, Any]) -> list[FieldProblem]:
    try:
        seconds = source_timeout(config.get("timeout"))
    except SourceError as exc:
        return [FieldProblem("config.timeout", exc.message)]
    limit = settings.GOVSHARE.source_timeout_max_seconds
    if seconds > limit:
        return [
            FieldProblem("config.timeout", gettext("超时（timeout）不能超过 %(limit)s 秒") % {"limit": f"{limit:g}"})
        ]
    return []


def _http_problems(config: dict[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    url = str(config.get("url") or "").strip()
    if not re.match(r"^https?://[^\s/]+", url):
        problems.append(FieldProblem("config.url", gettext("接口地址应以 http:// 或 https:// 开头")))
    elif problem := _reach_problem(lambda: SourcePolicy.from_settings().check_http_url(url)):
        problems.append(FieldProblem("config.url", problem))
    if str(config.get("method", "GET")).upper() not in {"GET", "POST"}:
        problems.append(FieldProblem("config.method", gettext("请求方法只能是 GET 或 POST")))
    if not str(config.get("records_path") or "").strip():
        problems.append(FieldProblem("config.records_path", gettext("请填写记录所在的 JSON 路径，如 $.data.list[*]")))
    headers = config.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        problems.append(FieldProblem("config.headers", gettext("请求头应为“名称: 值”的文本")))
    paging = config.get("paging", {}) or {}
    if not isinstance(paging, dict) or paging.get("mode", PagingMode.NONE) not in PagingMode.values:
        problems.append(FieldProblem("config.paging.mode", gettext("分页方式只能是 不分页、页码、偏移量 或 游标")))
    elif paging.get("mode") == PagingMode.CURSOR and not paging.get("cursor_path"):
        problems.append(FieldProblem("config.paging.cursor_path", gettext("游标分页须填写下一页游标的 JSON 路径")))
    return problems + _timeout_problems(config)


def _file_problems(config: dict[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if config.get("format", FileFormat.CSV) not in FileFormat.values:
        problems.append(FieldProblem("config.format", gettext("文件格式只能是 CSV、TSV、XLSX、JSON 或 JSON Lines")))
    delimiter = config.get("delimiter")
    if delimiter not in (None, "") and (not isinstance(delimiter, str) or len(delimiter) != 1):
        problems.append(FieldProblem("config.delimiter", gettext("分隔符应为单个字符")))
    return problems


def _source_problems(resource: Resource, data: SourceInput) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not data.name.strip():
        problems.append(FieldProblem("name", gettext("请填写数据来源名称")))
    elif len(data.name) > 100:
        problems.append(FieldProblem("name", gettext("数据来源名称不能超过 100 个字")))
    if data.kind not in SourceKind.values:
        return [*problems, FieldProblem("kind", gettext("来源类型只能是 前置库、接口调用 或 文件报送"))]
    if not isinstance(data.config, dict):
        return [*problems, FieldProblem("config", gettext("连接配置应为对象"))]
    checks = {SourceKind.DATABASE: _database_problems, SourceKind.HTTP_API: _http_problems}
    problems += checks.get(SourceKind(data.kind), _file_problems)(data.config)
    if data.load_mode not in LoadMode.values:
        problems.append(FieldProblem("load_mode", gettext("加载方式只能是 全量、按水位追加 或 按主键合并")))
    if data.load_mode == LoadMode.APPEND and not data.watermark_column.strip():
        problems.append(FieldProblem("watermark_column", gettext("按水位增量加载须指定水位字段（如更新时间）")))
    if data.load_mode == LoadMode.APPEND and data.kind == SourceKind.FILE:
        problems.append(FieldProblem("load_mode", gettext("文件报送不能按水位增量加载，请选择全量或按主键合并")))
    stored_as = dict(Item.objects.filter(resource=resource).values_list("name", "at_rest"))
    if data.load_mode == LoadMode.UPSERT and not data.key_items:
        problems.append(FieldProblem("key_items", gettext("按主键合并须指定主键信息项")))
    for name in data.key_items:
        if name not in stored_as:
            problems.append(FieldProblem("key_items", gettext("主键“%(name)s”不是本资源的信息项") % {"name": name}))
        elif stored_as[name] != AtRest.PLAIN:
            # A merge matches rows by equal plaintext keys (see datasets.encryption).
            problems.append(
                FieldProblem(
                    "key_items",
                    gettext("主键“%(name)s”在目录中设为加密存储，主键信息项须为明文（静态加密选“明文”）")
                    % {"name": name},
                )
            )
    if data.detect_deletes and data.load_mode != LoadMode.UPSERT:
        problems.append(FieldProblem("detect_deletes", gettext("只有按主键合并时才能识别删除")))
    return problems


def _take_credentials(
    kind: str, config: dict[str, Any], secret: str | None
) -> tuple[dict[str, Any], str | None, list[str]]:
    """Credentials written into the settings (a URL's password or `?password=`, a secret-looking header, query
    parameter or body field: `credentials.find_credentials`) move into the encrypted credential, so they are never
    shown or recorded; what a source cannot keep (a second credential) is refused, naming where it was written.
    Returns the settings, the credential (None: keep the stored one) and notices for the user."""
    config, moved, refused = credentials.find_credentials(kind, config)
    problems = [
        FieldProblem(
            found.field,
            gettext("%(found_label)s像是凭据，不能写在连接配置中（会明文保存和显示），请删去")
            % {"found_label": found.label},
        )
        for found in refused
    ]
    notices: list[str] = []
    if kind == SourceKind.DATABASE and moved:
        if len({found.value for found in moved}) > 1:
            problems.append(
                FieldProblem("config.url", gettext_noop("连接地址中写了两个不同的口令，请删去，把口令填在口令栏"))
            )
        elif not secret:
            secret = moved[0].value
            notices.append(gettext("连接地址中的口令已移入加密保存的凭据，不再显示"))
    elif kind == SourceKind.HTTP_API and moved:
        labels = join_names(found.label for found in moved)
        if len(moved) > 1:
            problems += [
                FieldProblem(
                    found.field,
                    gettext(
                        "%(label)s像是凭据，不能明文保存：一个数据来源只能保存一个凭据（加密），"
                        "这里有 %(n)s 个（%(labels)s），请只保留一个"
                    )
                    % {"label": found.label, "n": len(moved), "labels": labels},
                )
                for found in moved
            ]
        elif secret and secret != moved[0].value:
            problems.append(
                FieldProblem(
                    moved[0].field,
                    gettext(
                        "%(labels)s像是凭据，不能明文保存：一个数据来源只能保存一个凭据（加密），且已填写令牌，请删去其一"
                    )
                    % {"labels": labels},
                )
            )
        else:
            config, secret = credentials.with_token_location(config, moved[0]), moved[0].value
            notices.append(
                gettext("%(labels)s的值已移入加密保存的凭据，不再显示；归集时仍照原样发送") % {"labels": labels}
            )
    if problems:
        raise ValidationFailed(problems)
    return config, secret, notices


def _dropped_credential_notice(kind: str, before: tuple[Any, ...] | None, after: tuple[Any, ...] | None) -> str:
    values = {"before": credentials.describe_destination(before), "after": credentials.describe_destination(after)}
    if kind == SourceKind.HTTP_API:
        message = gettext(
            "接口地址已由 %(before)s 改为 %(after)s：原令牌已清除，不会发往新地址。"
            "如新地址需要令牌，请在修改时一并填写。"
        )
    else:
        message = gettext(
            "前置库连接目标已由 %(before)s 改为 %(after)s：原口令已清除，不会发往新地址。"
            "如新地址需要口令，请在修改时一并填写。"
        )
    return message % values


def _audited_settings(source: Source) -> dict[str, Any]:
    """The settings of a source as the audit trail records them: no credential (credentials.censored_config)."""
    return {
        "name": source.name,
        "config": credentials.censored_config(source.config),
        "load_mode": source.load_mode,
        "watermark_column": source.watermark_column,
        "key_items": list(source.key_items),
        "detect_deletes": source.detect_deletes,
        "schedule_enabled": source.schedule_enabled,
    }


def _changes(before: dict[str, Any], after: dict[str, Any], changed: list[str]) -> dict[str, dict[str, Any]]:
    """Old → new of each changed setting; the connection settings key by key ("config.query", "config.url" …)."""
    changes: dict[str, dict[str, Any]] = {}
    for name in changed:
        if name == "config":
            old, new = before["config"], after["config"]
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    changes[f"config.{key}"] = {"from": old.get(key), "to": new.get(key)}
        elif name in before:
            changes[name] = {"from": before[name], "to": after[name]}
    return changes


# --- sources --------------------------------------------------------------------------------------------------


def _require_manager(actor: User, resource: Resource) -> None:
    """The owning department's catalogue administrators only: 404 outside the department (the platform
    administrator included, see access), 403 for a colleague without the role."""
    require_source_manager(actor, resource, missing=gettext_noop("信息资源不存在或无权访问其数据"))


def register_source(resource: Resource, data: SourceInput, *, actor: User) -> Source:
    """挂接: a published resource gets a source that backs it."""
    _require_manager(actor, resource)
    if resource.status != ReviewStatus.PUBLISHED:
        raise Conflict(gettext_noop("只有已发布的信息资源可以挂接数据来源"))
    data.config, data.secret, notices = _take_credentials(data.kind, data.config, data.secret)
    problems = _source_problems(resource, data)
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        source = Source.objects.create(
            resource=resource,
            name=data.name.strip(),
            kind=data.kind,
            config=data.config,
            secret=data.secret or "",
            load_mode=data.load_mode,
            watermark_column=data.watermark_column.strip(),
            key_items=data.key_items,
            detect_deletes=data.detect_deletes,
            schedule_enabled=data.schedule_enabled,
            created_by=actor,
        )
        source_saved.send(Source, source=source, created=True)
        record_action(
            actor,
            "sources.source.register",
            source,
            kind=data.kind,
            resource=resource.code,
            settings=_audited_settings(source),
            credential="已填写" if source.secret else "无",
        )
    source.notices = tuple(notices)
    return source


def update_source(source: Source, data: SourceInput, *, actor: User) -> Source:
    """Change a source's settings. `data.secret` None keeps the stored credential, unless the credential's
    destination changes (an API's origin; a front database's driver, host, port, database or options): then it is
    cleared, never sent to the new destination, and the returned source's `notices` say so. The audit row records
    old → new of each changed setting, credentials excepted."""
    _require_manager(actor, source.resource)
    if data.kind != source.kind:
        raise ValidationFailed([FieldProblem("kind", gettext("来源类型不能修改，请新建数据来源"))])
    data.config, data.secret, notices = _take_credentials(data.kind, data.config, data.secret)
    problems = _source_problems(source.resource, data)
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source.pk)
        before = _audited_settings(source)
        was_sent_to = credentials.destination(source.kind, source.config)
        changed = [
            name
            for name, value in (
                ("name", data.name.strip()),
                ("config", data.config),
                ("load_mode", data.load_mode),
                ("watermark_column", data.watermark_column.strip()),
                ("key_items", data.key_items),
                ("detect_deletes", data.detect_deletes),
                ("schedule_enabled", data.schedule_enabled),
            )
            if getattr(source, name) != value
        ]
        for name in changed:
            setattr(source, name, getattr(data, name) if name != "name" else data.name.strip())
        credential = ""
        if data.secret is not None and data.secret != source.secret:
            source.secret, credential = data.secret, ("已更换" if data.secret else "已清除")
        elif data.secret is None and source.secret:
            will_be_sent_to = credentials.destination(source.kind, source.config)
            if will_be_sent_to != was_sent_to:
                # Kept, the stored credential would go to wherever the new settings point (an attacker's host).
                source.secret, credential = "", "已清除（连接目标改变，未随修改填写新凭据）"
                notices.append(_dropped_credential_notice(source.kind, was_sent_to, will_be_sent_to))
        if credential:
            changed.append("secret")
        source.save(update_fields=[*changed, "updated_at"])
        record_action(
            actor,
            "sources.source.update",
            source,
            fields=changed,
            changes=_changes(before, _audited_settings(source), changed),
            credential=credential or "未变",
        )
        source_saved.send(Source, source=source, created=False)
    source.notices = tuple(notices)
    return source


def set_source_active(source: Source, active: bool, *, actor: User) -> Source:
    _require_manager(actor, source.resource)
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).update(is_active=active)
        source.is_active = active
        record_action(actor, "sources.source.enable" if active else "sources.source.disable", source)
        source_saved.send(Source, source=source, created=False)
    return source


def mapping_problems(source: Source, entries: Iterable[MappingEntry], columns: list[str] | None) -> list[FieldProblem]:
    """The mapping checks of `mapping.validate_mapping`, plus the source's watermark column."""
    items = list(Item.objects.filter(resource=source.resource))
    mapping = [{"column": e.column, "item": e.item} for e in entries]
    problems = validate_mapping(mapping, columns, items, key_items=source.key_items)
    if source.load_mode == LoadMode.APPEND and columns is not None and source.watermark_column not in columns:
        problems.append(
            FieldProblem(
                "watermark_column",
                gettext("来源中没有水位字段“%(watermark_column)s”") % {"watermark_column": source.watermark_column},
            )
        )
    return problems


def set_mapping(
    source: Source, entries: list[MappingEntry], *, actor: User, columns: list[str] | None = None
) -> Source:
    """The user confirms which source column fills which information item."""
    _require_manager(actor, source.resource)
    problems = mapping_problems(source, entries, columns)
    if problems:
        raise ValidationFailed(problems, gettext("字段映射有误"))
    with transaction.atomic():
        source.mapping = [{"column": e.column, "item": e.item} for e in entries]
        Source.objects.filter(pk=source.pk).update(mapping=source.mapping)
        record_action(actor, "sources.mapping.confirm", source, mapping=source.mapping)
    return source


def file_format_for(name: str, configured: str | None) -> str:
    """The format a file of a source is read as: the source's own, whatever the file is named (its content is
    checked against that format, and a file of another kind is refused saying what it is); the name's suffix only
    for a source that names no format."""
    if configured:
        return configured
    suffix = Path(name).suffix.lower()
    if suffix in _FILE_SUFFIXES:
        return _FILE_SUFFIXES[suffix]
    raise ValidationFailed(
        [
            FieldProblem(
                "file", gettext("无法识别文件“%(name)s”的格式，支持 .csv .tsv .xlsx .json .jsonl") % {"name": name}
            )
        ]
    )
