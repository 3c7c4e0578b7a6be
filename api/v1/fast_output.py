"""Serializer output the short way, for the pages integrations pull all day.

DRF reads every field of every row through `Field.get_attribute`, a generic walk of the source
path with callable and error checks. A model column read by one plain field is a single
attribute, and a reference shown as its id is the `<name>_id` column; on a 500-row feed page the
generic walk cost more than the query (docs/performance.md). The output is byte-identical to
DRF's: fields this module does not recognise go DRF's way, and tests compare both.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from django.db import models
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField

from .fields import DateTimeField


class FastOutputMixin:
    """`to_representation` through a per-serializer reading plan (`_reading_plan`)."""

    def to_representation(self, instance):
        """DRF's output, read the short way for plain fields (see `_reading_plan`)."""
        representation: dict[str, Any] = {}
        for name, field, read in self._reading_plan():
            if read is not None:
                value = read(instance)
                representation[name] = None if value is None else field.to_representation(value)
                continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            present = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            representation[name] = None if present is None else field.to_representation(attribute)
        return representation

    def _reading_plan(self) -> list[tuple[str, serializers.Field, Callable | None]]:
        """Per readable field: how to read its value from a record, or None for DRF's way.

        DRF reads every field of every row through `Field.get_attribute` (a generic walk of
        the source path, with callable and error checks); a model column read by one plain
        field is a single attribute, and a reference shown as its id is the `<name>_id` column.
        A list's rows share one serializer, so the plan is made once per page.
        """
        try:
            return self._plan
        except AttributeError:
            pass
        model = getattr(getattr(self, "Meta", None), "model", None)
        columns = {f.name: f for f in model._meta.concrete_fields} if model else {}
        plan = []
        for field in self._readable_fields:
            source = field.source_attrs[0] if len(field.source_attrs) == 1 else None
            column = columns.get(source)
            read = None
            if column is not None and type(field) in _PLAIN_FIELDS:
                read = attrgetter(column.attname)
            elif column is not None and _is_plain_id(field, column):
                ids = attrgetter(column.attname)
                read = ids if field.pk_field is None else _through(ids, field.pk_field)
                field = _IDENTITY
            plan.append((field.field_name or source, field, read))
        self._plan = plan
        return plan


# Fields whose output is `to_representation` of the model attribute itself.
_PLAIN_FIELDS = frozenset(
    {
        serializers.BooleanField,
        serializers.CharField,
        serializers.ChoiceField,
        serializers.DateField,
        serializers.DecimalField,
        serializers.EmailField,
        serializers.IntegerField,
        serializers.UUIDField,
        DateTimeField,
    }
)


class _Identity(serializers.Field):
    def to_representation(self, value):
        return value


_IDENTITY = _Identity()


def _is_plain_id(field: serializers.Field, column: models.Field) -> bool:
    """A reference shown as the id DRF would read from the `<name>_id` column."""
    return (
        isinstance(field, PrimaryKeyRelatedField)
        and type(field).to_representation is PrimaryKeyRelatedField.to_representation
        and type(field).get_attribute is PrimaryKeyRelatedField.get_attribute
        and field.use_pk_only_optimization()
        and isinstance(column, models.ForeignKey)
    )


def _through(read: Callable, pk_field: serializers.Field) -> Callable:
    def value(instance):
        raw = read(instance)
        return None if raw is None else pk_field.to_representation(raw)

    return value
