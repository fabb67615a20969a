"""`{{ field|marked_required }}`: whether a form field is shown as required (govshare.core.formfields)."""

from __future__ import annotations

from django import forms, template

from govshare.core.formfields import is_marked_required

register = template.Library()


@register.filter
def marked_required(bound: forms.BoundField) -> bool:
    return is_marked_required(bound)
