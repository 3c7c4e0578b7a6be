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

import orjson
from django.db import models
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField
from rest_framework.settings import api_settings

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


# Rows straight to JSON ---------------------------------------------------------------------
# Serializer fields whose DRF output, for the model columns beside them, is what orjson writes
# for the value as the database driver returns it: text and choices as the string, integers,
# booleans, UUIDs in their hyphenated form, dates in ISO 8601. Date-times also, when the field
# writes ISO 8601 in UTC (`DateTimeField._iso_utc`): orjson's `OPT_UTC_Z` then writes what
# `isoformat() + "Z"` does, microseconds only when there are any.
_NATIVE_COLUMNS: dict[type, tuple[type, ...]] = {
    serializers.CharField: (models.CharField, models.TextField),
    serializers.ChoiceField: (models.CharField, models.TextField),
    serializers.IntegerField: (models.IntegerField,),
    serializers.BooleanField: (models.BooleanField,),
    serializers.UUIDField: (models.UUIDField,),
    serializers.DateField: (models.DateField,),
    DateTimeField: (models.DateTimeField,),
}


def json_columns(serializer: serializers.Serializer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(output keys, model attnames) when every field of `serializer` writes its column's value
    as orjson would (above), so a page read as tuples of those columns can be written straight
    to JSON with the same bytes; ((), ()) when any field needs the serializer."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None or not isinstance(serializer, FastOutputMixin):
        return (), ()
    columns = {f.name: f for f in model._meta.concrete_fields}
    keys, attnames = [], []
    for field in serializer._readable_fields:
        column = columns.get(field.source) if len(field.source_attrs) == 1 else None
        if column is None or not (_native(field, column) or _native_id(field, column)):
            return (), ()
        keys.append(field.field_name)
        attnames.append(column.attname)
    return tuple(keys), tuple(attnames)


def _native(field: serializers.Field, column: models.Field) -> bool:
    allowed = _NATIVE_COLUMNS.get(type(field))
    if allowed is None or not isinstance(column, allowed):
        return False
    if isinstance(field, serializers.UUIDField):
        return field.uuid_format == "hex_verbose"
    if isinstance(field, DateTimeField):
        return field._iso_utc()
    if type(field) is serializers.DateField:
        iso = getattr(field, "format", api_settings.DATE_FORMAT)
        return not isinstance(column, models.DateTimeField) and iso == ISO_8601
    return True


def _native_id(field: serializers.Field, column: models.Field) -> bool:
    """A reference written as its target's UUID (`<name>_id`), directly or through a plain
    hyphenated `UUIDField` as `pk_field`."""
    if not _is_plain_id(field, column):
        return False
    target = column.target_field
    pk_field = field.pk_field
    plain = pk_field is None or (
        type(pk_field) is serializers.UUIDField and pk_field.uuid_format == "hex_verbose"
    )
    return plain and isinstance(target, models.UUIDField)


_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


def dumps_like_drf(data: Any) -> bytes:
    """`data` (of JSON types, UUIDs, dates and UTC date-times) as DRF's JSONRenderer writes it
    with the project's settings: compact, UTF-8 unescaped, U+2028 and U+2029 escaped."""
    body = orjson.dumps(data, option=orjson.OPT_UTC_Z)
    for raw, escaped in _LINE_SEPARATORS:
        if raw in body:
            body = body.replace(raw, escaped)
    return body


def rows_json(keys: tuple[str, ...], rows: list) -> list[dict]:
    """Each `FeedRow`'s values under the serializer's keys, for `dumps_like_drf`."""
    return [dict(zip(keys, row.values, strict=True)) for row in rows]
