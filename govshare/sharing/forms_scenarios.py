"""The scenario form: it parses input; the checks (in Chinese) are the services'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from govshare.identity.models import InformationSystem


class ScenarioForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("场景名称"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("业务描述"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("办理什么业务、为谁服务、为什么需要这些数据"),
    )
    legal_basis = forms.CharField(
        label=gettext_lazy("依据"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("法律法规、政策文件或政务服务事项清单中的依据"),
    )
    systems = forms.ModelMultipleChoiceField(
        label=gettext_lazy("承载系统"),
        queryset=InformationSystem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("本部门已登记且启用的接入系统；没有时请先登记接入系统"),
    )
    needed_items = forms.CharField(
        label=gettext_lazy("所需信息项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "id": "id_needed_items"}),
        help_text=gettext_lazy("每行一项；可从下方已发布资源的信息项中选择，也可直接填写"),
    )
    pick_item = forms.CharField(
        label=gettext_lazy("从已发布资源的信息项中选择"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"list": "item-names", "autocomplete": "off", "id": "id_pick_item"}),
    )

    def __init__(self, *args: object, systems: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if systems is not None:
            self.fields["systems"].queryset = systems  # type: ignore[attr-defined]

    def items(self) -> list[str]:
        lines = str(self.cleaned_data.get("needed_items") or "").splitlines()
        picked = str(self.cleaned_data.get("pick_item") or "").strip()
        return [*lines, picked] if picked else lines


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500)
