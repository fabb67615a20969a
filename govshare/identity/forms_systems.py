"""Forms of the information-system pages: they parse input; the checks (in Chinese) are the services'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from govshare.accounts.models import Department
from govshare.identity.choices import Hosting, ProtectionLevel

OVERLAP_DAYS = [(0, gettext_lazy("立即停用旧凭证")), (1, "1"), (3, "3"), (7, "7"), (14, "14"), (30, "30")]


class SystemForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("系统编码"),
        max_length=40,
        help_text=gettext_lazy("2–40 位字母、数字或连字符，如 ybj-jsxt；登记后不能修改"),
    )
    name = forms.CharField(label=gettext_lazy("系统名称"), max_length=100)
    purpose = forms.CharField(label=gettext_lazy("用途说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    contact_name = forms.CharField(label=gettext_lazy("技术联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=20, required=False)
    protection_level = forms.ChoiceField(
        label=gettext_lazy("等保级别"),
        choices=ProtectionLevel.choices,
        help_text=gettext_lazy("网络安全等级保护定级（第一级至第五级）；尚未定级的选“未定级”"),
    )
    hosting = forms.ChoiceField(label=gettext_lazy("部署方式"), choices=Hosting.choices)
    allowed_networks = forms.CharField(
        label=gettext_lazy("调用来源地址"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("调用数据共享网关的来源地址，每行一个 IP 地址或网段（如 10.1.2.0/24）；留空表示不限"),
    )

    def __init__(self, *args: object, editing: bool = False, choose_department: bool = False, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if editing:
            self.fields["code"].disabled = True
        if choose_department:
            self.fields["department"] = forms.ModelChoiceField(
                label=gettext_lazy("所属部门"), queryset=Department.objects.filter(is_active=True).order_by("code")
            )


class DeactivateForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("停用原因"), max_length=500)


class RotateForm(forms.Form):
    overlap_days = forms.TypedChoiceField(
        label=gettext_lazy("旧凭证过渡期（天）"), choices=OVERLAP_DAYS, coerce=int, initial=7
    )
