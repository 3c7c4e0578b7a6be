"""Strict input for every resource: every key known, every type exact, every failing field
reported at once (docs/api.md, "Errors")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers
from rest_framework.fields import SkipField, empty, get_error_detail

from .fast_output import FastOutputMixin


class StrictSerializerMixin(FastOutputMixin):
    """Strict input: every key known, every type exact, every failing field reported at once.

    - A key the resource does not know is refused (`unknown_field`), so a typo never passes.
    - A read-only field (ids, computed values, status) is refused (`read_only`) when sent with a
      value other than the one the server holds. On create the server holds none yet, so any
      read-only field is refused; on update one sent back as it was read is ignored.
    - Text is a JSON string and an id a UUID string: nothing is coerced (`invalid`).
    - Every failing field of the body is reported in one answer, together with the problems
      `domain_problems` finds in the fields that did validate.

    `Meta.immutable_fields` are writable on create and read-only afterwards (a record never
    moves to another patient).
    """

    def get_fields(self):
        fields = super().get_fields()
        if isinstance(self.instance, models.Model):
            for name in getattr(self.Meta, "immutable_fields", ()):
                fields[name].read_only = True
        return fields

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # refuses it in DRF's words
        errors: dict[str, list] = {
            key: [serializers.ErrorDetail(_MESSAGES[code], code=code)]
            for key, code in sorted(self._refused_keys(data).items())
        }
        values: dict[str, Any] = {}
        for field in self._writable_fields:
            try:
                value = self._validated(field, data)
            except serializers.ValidationError as exc:
                errors[field.field_name] = exc.detail
            except DjangoValidationError as exc:
                errors[field.field_name] = get_error_detail(exc)
            except SkipField:
                continue
            else:
                self.set_value(values, field.source_attrs, value)
        for name, code, message in self.domain_problems(values, failed=set(errors)):
            errors.setdefault(name, []).append(serializers.ErrorDetail(message, code=code))
        if errors:
            raise serializers.ValidationError(errors)
        return values

    def domain_problems(
        self, values: dict[str, Any], failed: set[str]
    ) -> list[tuple[str, str, str]]:
        """(field, code, message) for domain rules broken by `values`, the fields that validated.

        The service checks the same rules; asking here reports them with the field errors.
        """
        return []

    def _validated(self, field: serializers.Field, data: Mapping) -> Any:
        primitive = field.get_value(data)
        problem = _type_problem(field, primitive)
        if problem is not None:
            raise serializers.ValidationError(problem)
        value = field.run_validation(primitive)
        validate_method = getattr(self, f"validate_{field.field_name}", None)
        return validate_method(value) if validate_method is not None else value

    def _refused_keys(self, data: Mapping) -> dict[str, str]:
        refused = {key: "unknown_field" for key in data if key not in self.fields}
        sent = [key for key in data if key in self.fields and self.fields[key].read_only]
        if sent and isinstance(self.instance, models.Model):
            current = self.to_representation(self.instance)
            sent = [key for key in sent if key not in current or data[key] != current[key]]
        return refused | dict.fromkeys(sent, "read_only")


_MESSAGES = {
    "unknown_field": "Unknown field.",
    "read_only": "This field is set by the server.",
}


def _type_problem(field: serializers.Field, value: Any) -> list | None:
    """The error for a value of the wrong JSON type, before the field gets to coerce it."""
    if value is empty or value is None or isinstance(value, str):
        return None
    if isinstance(field, serializers.CharField | serializers.SlugRelatedField):
        return [serializers.ErrorDetail("Not a valid string.", code="invalid")]
    if isinstance(field, serializers.UUIDField | serializers.PrimaryKeyRelatedField):
        return [serializers.ErrorDetail("Must be a valid UUID string.", code="invalid")]
    return None
