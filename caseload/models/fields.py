"""A list of UUIDs stored compactly: `uuid[]` on PostgreSQL (16 bytes an id, GIN-indexable),
JSON text elsewhere. `field__has=<uuid>` finds the rows whose list holds that id."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable

from django.db import models


class UUIDListField(models.Field):
    description = "A list of UUIDs"

    def db_type(self, connection) -> str:
        return "uuid[]" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        ids = sorted({_as_uuid(v) for v in value}, key=str)
        if connection.vendor == "postgresql":
            return ids
        return json.dumps([str(i) for i in ids])

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if isinstance(value, str):
            return [uuid.UUID(i) for i in json.loads(value)]
        return [_as_uuid(i) for i in value]

    def to_python(self, value):
        if value is None or isinstance(value, list):
            return value
        return self.from_db_value(value, None, None)


@UUIDListField.register_lookup
class Has(models.Lookup):
    """`patients__has=<uuid>`: the list holds this id."""

    lookup_name = "has"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [_as_uuid(value)])

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} @> ARRAY[%s]::uuid[]", [*lhs_params, _as_uuid(self.rhs)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} LIKE %s", [*lhs_params, f'%"{_as_uuid(self.rhs)}"%']


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def uuid_list(values: Iterable) -> list[uuid.UUID]:
    return sorted({_as_uuid(v) for v in values}, key=str)
