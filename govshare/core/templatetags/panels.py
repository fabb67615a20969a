"""`{% panels "page" obj %}`: the panels apps registered for a page (govshare.core.panels), in order."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from govshare.core.panels import panels_for

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context: template.Context, page: str, obj: object) -> SafeString:
    """Each shown panel's template rendered with the values its panel answered (and the page's CSRF token), as an
    inclusion tag renders: a panel sees its own values, not the page's."""
    request = context.get("request")
    if not isinstance(request, HttpRequest):
        raise template.TemplateSyntaxError("{% panels %} needs the request in the template context")
    assert context.template is not None  # a tag renders inside a template
    engine = context.template.engine
    parts = []
    for panel in panels_for(page, request, obj):
        values = dict(panel.context)
        csrf_token = context.get("csrf_token")
        if csrf_token is not None:
            values["csrf_token"] = csrf_token
        parts.append(engine.get_template(panel.template_name).render(context.new(values)))
    return mark_safe("".join(parts))  # noqa: S308 - each part was rendered (and escaped) by its own template
