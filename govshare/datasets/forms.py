"""Forms of the data pages: registering a source (one form per kind), confirming a mapping, uploading a file.

The forms only shape the input; the rules (valid URLs, table names, key items, mapping) are checked once, in
`services`, and their problems are placed next to the field they name.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from govshare.catalog.models import Item
from govshare.core.errors import FieldProblem
from govshare.core.formfields import show_when
from govshare.sources.choices import FileFormat, LoadMode, PagingMode, SourceKind
from govshare.sources.services import SourceInput

# Where a problem of services.register_source (field "config.url" …) is shown on the form.
_CONFIG_FIELDS = {
    "config.url": "url",
    "config.table": "table",
    "config.query": "query",
    "config.method": "method",
    "config.headers": "headers",
    "config.records_path": "records_path",
    "config.paging.mode": "paging_mode",
    "config.paging.cursor_path": "paging_options",
    "config.format": "file_format",
    "config.delimiter": "delimiter",
}


class SourceForm(forms.Form):
    """The fields every kind of source has; subclasses add the connection settings of their kind."""

    kind = ""
    name = forms.CharField(label=_("数据来源名称"), max_length=100)
    load_mode = forms.ChoiceField(label=_("加载方式"), choices=LoadMode.choices, initial=LoadMode.FULL)
    watermark_column = forms.CharField(
        label=_("水位字段"), required=False, help_text=_("按水位追加时必填：来源中的更新时间等字段")
    )
    key_items = forms.MultipleChoiceField(
        label=_("主键信息项"), required=False, widget=forms.CheckboxSelectMultiple, help_text=_("按主键合并时必填")
    )
    detect_deletes = forms.BooleanField(label=_("识别删除（来源每次提供全量时）"), required=False)
    schedule_enabled = forms.BooleanField(label=_("按更新周期自动归集"), required=False)

    def __init__(self, *args: Any, items: list[Item], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key_items = self.fields["key_items"]
        assert isinstance(key_items, forms.MultipleChoiceField)
        key_items.choices = [(item.name, item.name) for item in items]
        # Only the mode that uses them shows them (and then they are required).
        show_when(self, "watermark_column", "load_mode", [LoadMode.APPEND], required=True)
        show_when(self, "key_items", "load_mode", [LoadMode.UPSERT], required=True)

    def config(self) -> dict[str, Any]:
        return {}

    def secret(self) -> str | None:
        return None

    def to_input(self) -> SourceInput:
        data = self.cleaned_data
        return SourceInput(
            name=data["name"],
            kind=self.kind,
            config=self.config(),
            secret=self.secret(),
            load_mode=data["load_mode"],
            watermark_column=data["watermark_column"],
            key_items=list(data["key_items"]),
            detect_deletes=data["detect_deletes"],
            schedule_enabled=data["schedule_enabled"],
        )

    def place_problems(self, problems: list[FieldProblem]) -> None:
        """Each service problem next to its field (or at the top of the form)."""
        for problem in problems:
            name = _CONFIG_FIELDS.get(problem.field, problem.field)
            self.add_error(name if name in self.fields else None, problem.message)


class DatabaseSourceForm(SourceForm):
    kind = SourceKind.DATABASE
    url = forms.CharField(
        label=_("连接地址"),
        max_length=500,
        help_text=_("SQLAlchemy URL，如 postgresql+psycopg://用户@主机:5432/库名；口令请填在下方"),
    )
    table = forms.CharField(label=_("表名"), required=False, help_text=_("表名或“模式.表名”，与查询语句二选一"))
    query = forms.CharField(label=_("查询语句"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    password = forms.CharField(label=_("口令"), required=False, widget=forms.PasswordInput(render_value=False))

    field_order = ["name", "url", "table", "query", "password"]

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        config = {"url": data["url"].strip()}
        if data["table"].strip():
            config["table"] = data["table"].strip()
        if data["query"].strip():
            config["query"] = data["query"].strip()
        return config

    def secret(self) -> str | None:
        return self.cleaned_data["password"] or None


class HttpApiSourceForm(SourceForm):
    kind = SourceKind.HTTP_API
    url = forms.CharField(label=_("接口地址"), max_length=500)
    method = forms.ChoiceField(label=_("请求方法"), choices=[("GET", "GET"), ("POST", "POST")])
    headers = forms.CharField(
        label=_("请求头"), required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("每行一个“名称: 值”")
    )
    token = forms.CharField(
        label=_("令牌"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("以 Authorization: Bearer 发送；不会再显示"),
    )
    records_path = forms.CharField(label=_("记录所在的 JSON 路径"), initial="$.data[*]")
    paging_mode = forms.ChoiceField(label=_("分页方式"), choices=PagingMode.choices, initial=PagingMode.NONE)
    paging_options = forms.CharField(
        label=_("分页参数（JSON）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            '如 {"page_param": "page", "size_param": "size", "size": 500} 或 {"cursor_path": "$.next", "cursor_param": "cursor"}'  # noqa: E501
        ),
    )

    field_order = ["name", "url", "method", "headers", "token", "records_path", "paging_mode", "paging_options"]

    def clean_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["headers"].splitlines(), start=1):
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                raise forms.ValidationError(_("第 %(n)d 行应为“名称: 值”") % {"n": number})
            headers[name.strip()] = value.strip()
        return headers

    def clean_paging_options(self) -> dict[str, Any]:
        text = self.cleaned_data["paging_options"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("分页参数不是有效的 JSON：第 %(col)d 个字符附近有误") % {"col": exc.pos + 1}
            ) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_('分页参数应为 JSON 对象，如 {"size": 500}'))
        return value

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "url": data["url"].strip(),
            "method": data["method"],
            "headers": data["headers"],
            "records_path": data["records_path"].strip(),
            "paging": {**data["paging_options"], "mode": data["paging_mode"]},
        }

    def secret(self) -> str | None:
        return self.cleaned_data["token"] or None


class FileSourceForm(SourceForm):
    kind = SourceKind.FILE
    file_format = forms.ChoiceField(label=_("文件格式"), choices=FileFormat.choices, initial=FileFormat.CSV)
    delimiter = forms.CharField(label=_("分隔符"), required=False, max_length=1, help_text=_("CSV 默认为逗号"))
    sheet = forms.CharField(label=_("工作表"), required=False, help_text=_("xlsx 默认读取第一个工作表"))

    field_order = ["name", "file_format", "delimiter", "sheet"]

    def __init__(self, *args: Any, items: list[Item], **kwargs: Any) -> None:
        super().__init__(*args, items=items, **kwargs)
        # A delimiter means something to CSV and TSV only, a sheet to xlsx only.
        show_when(self, "delimiter", "file_format", [FileFormat.CSV, FileFormat.TSV], required=False)
        show_when(self, "sheet", "file_format", [FileFormat.XLSX], required=False)

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        config: dict[str, Any] = {"format": data["file_format"]}
        if data["delimiter"]:
            config["delimiter"] = data["delimiter"]
        if data["sheet"].strip():
            config["sheet"] = data["sheet"].strip()
        return config


SOURCE_FORMS: dict[str, type[SourceForm]] = {
    SourceKind.DATABASE: DatabaseSourceForm,
    SourceKind.HTTP_API: HttpApiSourceForm,
    SourceKind.FILE: FileSourceForm,
}


class SampleForm(forms.Form):
    file = forms.FileField(label=_("样例文件"), help_text=_("与报送文件格式相同，用于识别字段"))


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("数据文件"), help_text=_("CSV/TSV、xlsx、JSON、JSON Lines；UTF-8、GBK、GB18030 自动识别")
    )
    mode = forms.ChoiceField(
        label=_("加载方式"),
        choices=[
            ("", _("按数据来源的设置")),
            (LoadMode.FULL, LoadMode.FULL.label),
            (LoadMode.UPSERT, LoadMode.UPSERT.label),
        ],
        required=False,
    )
