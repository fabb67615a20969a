"""The form of 登记提供部门接口: operations and the mapping as lines of text (one per line), the credential never
shown back (the field stays empty; leaving it empty keeps the stored one)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govshare.catalog.models import Resource
from govshare.core.errors import ValidationFailed
from govshare.gateway.choices import ProviderAuth
from govshare.gateway.models import ProviderService
from govshare.gateway.provider_services import ProviderServiceInput


def operations_text(operations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{op['name']} {op['method']} {op['path']} "
        + " ".join(f"{param}={item}" for param, item in (op.get("params") or {}).items())
        for op in operations
    )


def mapping_text(mapping: dict[str, str]) -> str:
    return "\n".join(f"{item}={path}" for item, path in mapping.items())


class ProviderServiceForm(forms.Form):
    resource = forms.ModelChoiceField(
        label=gettext_lazy("信息资源"),
        queryset=Resource.objects.none(),
        help_text=gettext_lazy("本部门已发布、共享方式为“接口”的信息资源"),
    )
    base_url = forms.CharField(
        label=gettext_lazy("接口基础地址"),
        max_length=500,
        help_text=gettext_lazy("如 https://api.gaj.example.gov.cn/v1；不能是本机、内网等平台不允许访问的地址"),
    )
    operations = forms.CharField(
        label=gettext_lazy("接口操作"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "每行一个：名称 方法 路径 参数=查询键信息项，如 person GET /people/{sfzh} sfzh=公民身份号码"
        ),
    )
    openapi = forms.CharField(
        label=gettext_lazy("或导入 OpenAPI 文档（JSON）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("未填写接口操作时，从文档的 GET、POST 接口导入；参数以 x-govshare-item 注明信息项"),
    )
    mapping = forms.CharField(
        label=gettext_lazy("返回字段映射"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("每行一个：信息项=返回 JSON 的点分路径，[] 表示记录列表，如 姓名=data.records[].xm"),
    )
    auth_kind = forms.ChoiceField(label=gettext_lazy("认证方式"), choices=ProviderAuth.choices)
    auth_name = forms.CharField(
        label=gettext_lazy("请求头名称或用户名"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("请求头密钥：放置密钥的请求头，如 X-Api-Key；HTTP 基本认证：用户名"),
    )
    secret = forms.CharField(
        label=gettext_lazy("密钥或密码"),
        required=False,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    timeout_seconds = forms.FloatField(
        label=gettext_lazy("超时（秒）"), initial=10, help_text=gettext_lazy("1–30 秒；超时的调用答复 504")
    )
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)

    def __init__(
        self, *args: Any, resources: Any = None, service: ProviderService | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if service is not None:
            del self.fields["resource"]
            self.fields["secret"].help_text = _("已设置；留空则保持不变") if service.secret else _("未设置")
        else:
            field = self.fields["resource"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = resources if resources is not None else Resource.objects.none()
        self.line_problems: list[str] = []

    def _operations(self) -> list[dict[str, Any]]:
        operations: list[dict[str, Any]] = []
        for number, line in enumerate(self.cleaned_data.get("operations", "").splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 3:
                self.add_error(
                    "operations",
                    _("第 %(n)s 行应为“名称 方法 路径 参数=信息项”，如 person GET /people/{sfzh} sfzh=公民身份号码")
                    % {"n": number},
                )
                continue
            params = {}
            for pair in parts[3:]:
                param, sign, item = pair.partition("=")
                if not sign or not param or not item:
                    self.add_error(
                        "operations", _("第 %(n)s 行的“%(pair)s”应为 参数=信息项") % {"n": number, "pair": pair}
                    )
                    continue
                params[param] = item
            operations.append({"name": parts[0], "method": parts[1], "path": parts[2], "params": params})
        return operations

    def _mapping(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data.get("mapping", "").splitlines(), start=1):
            if not line.strip():
                continue
            item, sign, path = line.partition("=")
            if not sign or not item.strip() or not path.strip():
                self.add_error(
                    "mapping", _("第 %(n)s 行应为 信息项=返回字段路径，如 姓名=data.records[].xm") % {"n": number}
                )
                continue
            mapping[item.strip()] = path.strip()
        return mapping

    def to_input(self, resource_id: int) -> ProviderServiceInput | None:
        """The service's input, or None when the lines themselves are malformed (their errors are on the form)."""
        data = self.cleaned_data
        operations, mapping = self._operations(), self._mapping()
        if self.errors:
            return None
        return ProviderServiceInput(
            resource_id=resource_id,
            base_url=data["base_url"],
            operations=operations,
            openapi=data.get("openapi", ""),
            mapping=mapping,
            auth_kind=data["auth_kind"],
            auth_name=data.get("auth_name", ""),
            secret=data.get("secret") or None,
            timeout_seconds=data["timeout_seconds"],
            is_active=bool(data.get("is_active")),
        )

    def place(self, error: ValidationFailed) -> None:
        """The service's problems on the fields they name (operations[2] → operations)."""
        for problem in error.problems:
            name = problem.field.split("[")[0].split(".")[0]
            name = "resource" if name == "resource_id" else name
            self.add_error(name if name in self.fields else None, problem.message)


def initial_of(service: ProviderService) -> dict[str, Any]:
    return {
        "base_url": service.base_url,
        "operations": operations_text(service.operations),
        "mapping": mapping_text(service.mapping),
        "auth_kind": service.auth_kind,
        "auth_name": service.auth_name,
        "timeout_seconds": service.timeout_seconds,
        "is_active": service.is_active,
    }
