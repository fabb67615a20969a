"""What a page form tells the browser about its fields before it is sent: which are required (a visible * through
the `required` class of the field, and the control's `required` attribute) and which apply only when another field
has certain values (`data-show-when`, `data-show-values`: static/govshare/app.js hides the field otherwise).

Only marks: the forms keep their `novalidate` and the rules keep deciding on the server, in the same words as the
API and the Excel import. A page without JavaScript shows every field, as before."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.forms.widgets import CheckboxSelectMultiple

__all__ = ["is_marked_required", "mark_required", "show_when"]


def _marked(form: forms.BaseForm) -> set[str]:
    marked: set[str] | None = getattr(form, "_marked_required", None)
    if marked is None:
        marked = set()
        form._marked_required = marked  # type: ignore[attr-defined]
    return marked


def _require(form: forms.BaseForm, name: str) -> None:
    field = form.fields[name]
    _marked(form).add(name)
    # A group of checkboxes gets the * only: `required` on each box would ask for every one.
    if not isinstance(field.widget, CheckboxSelectMultiple):
        field.widget.attrs["required"] = True


def mark_required(form: forms.BaseForm, names: Iterable[str]) -> None:
    """Mark fields the rules require (the form's own fields stay optional: the rules give the message)."""
    for name in names:
        field = form.fields.get(name)
        if field is not None and not field.disabled:
            _require(form, name)


def show_when(form: forms.BaseForm, name: str, controller: str, values: Iterable[str], *, required: bool) -> None:
    """Field `name` applies only while `controller` has one of `values`; `required`: it is then required. It is
    marked required now if the controller's current value asks for it; the script updates the marks on change."""
    field = form.fields.get(name)
    if field is None or controller not in form.fields:
        return
    values = [str(value) for value in values]
    attrs = field.widget.attrs
    attrs["data-show-when"] = controller
    attrs["data-show-values"] = " ".join(values)
    if required and not field.disabled:
        attrs["data-required-when-shown"] = True
        if str(form[controller].value() or "") in values:
            _require(form, name)


def is_marked_required(bound: forms.BoundField) -> bool:
    """Whether the page shows the field as required: the form requires it, or the rules do (marked above)."""
    return (bound.field.required and not bound.field.disabled) or bound.name in _marked(bound.form)
