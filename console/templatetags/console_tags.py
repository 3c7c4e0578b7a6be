"""Template helpers: errors with their stable codes, and widgets linked to them."""

from __future__ import annotations

from django import template
from django.forms import BoundField

register = template.Library()


@register.filter
def errors_of(field: BoundField) -> list[tuple[str, str]]:
    """(message, code) for each error of the field."""
    data = field.form.errors.as_data().get(field.name, [])
    return [(error.messages[0], error.code or "invalid") for error in data]


@register.filter
def form_errors(form) -> list[tuple[str, str]]:
    """(message, code) for the errors that belong to no field."""
    data = form.errors.as_data().get("__all__", [])
    return [(error.messages[0], error.code or "invalid") for error in data]


@register.filter
def widget(field: BoundField) -> str:
    """The field's input, described by its errors (and marked invalid) when it has any."""
    attrs = {}
    if field.errors:
        attrs = {"aria-describedby": f"{field.auto_id}-errors", "aria-invalid": "true"}
    return field.as_widget(attrs=attrs)


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
