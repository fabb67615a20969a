from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("验证码"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*", "autofocus": True}
        ),
    )


class OwnPasswordForm(PasswordChangeForm):
    """Django's form for the fields; the checks (current password, validators) are the service's."""

    def clean_old_password(self) -> str:
        return str(self.cleaned_data["old_password"])

    def clean_new_password2(self) -> str:
        first, second = self.cleaned_data.get("new_password1"), self.cleaned_data.get("new_password2")
        if first and second and first != second:
            raise forms.ValidationError(gettext_lazy("两次输入的新密码不一致"))
        return str(second)

    def _post_clean(self) -> None:  # no model instance behind this form
        pass
