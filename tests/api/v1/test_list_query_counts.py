"""Every list route runs the same number of SQL queries for 10, 100 and 1000 rows.

The walk covers each route the router lists (a new list route is walked without a new row
here). Each list holds more than 1000 rows: one made the way the permission matrix makes it
(through the services), the rest copies of it written in bulk, so every page is full.
"""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

import pytest
from django.db import connection, models
from django.db.models.base import ModelState
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from api.v1.urls import router
from caseload.models import Appointment
from tests.api.v1.test_permission_matrix import ctx, scenario_for  # noqa: F401  (ctx: a fixture)
from tests.conftest import api_for

ROWS = 1001
SIZES = (10, 100, 1000)
LIST_ROUTES = sorted(
    basename for _, viewset, basename in router.registry if hasattr(viewset, "list")
)
# Lists of what belongs to one staff member: read by that staff member.
OWNER_FIELD = {
    "followup": "staff",
    "alert": "recipient",
    "apitoken": "staff",
    "calendarfeed": "staff",
}


def _unique_fields(row: models.Model) -> list[models.Field]:
    """Fields that must differ between copies of `row`: unique, or part of a unique constraint
    that applies to it (a conditional one only when the row meets its condition)."""
    model = type(row)
    names = {f.name for f in model._meta.concrete_fields if f.unique and not f.primary_key}
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint):
            continue
        if constraint.condition is None or (
            model._default_manager.filter(constraint.condition, pk=row.pk).exists()
        ):
            names |= set(constraint.fields)
    return [f for f in model._meta.concrete_fields if f.name in names and not f.primary_key]


def copies_of(row: models.Model, count: int) -> list[models.Model]:
    """`count` copies of `row`, stored; a unique reference (one enrollment per patient, one
    client per OAuth application) points at a copy of the referenced row."""
    model = type(row)
    unique = _unique_fields(row)
    # Free text takes a suffix; a coded field keeps its code (another unique field differs).
    text_fields = [f for f in unique if isinstance(f, models.CharField) and not f.choices]
    references = {
        f: copies_of(getattr(row, f.name), count)
        for f in unique
        if isinstance(f, models.ForeignKey) and f.name != "program"
    }
    pk = model._meta.pk
    rows = []
    for i in range(count):
        twin = copy.copy(row)
        twin._state = ModelState()
        twin.pk = uuid.uuid4() if isinstance(pk, models.UUIDField) else None
        for field in text_fields:
            value = str(getattr(row, field.attname))[: field.max_length - 7]
            setattr(twin, field.attname, f"{value}-{i:06d}")
        for field, targets in references.items():
            setattr(twin, field.attname, targets[i].pk)
        if isinstance(row, Appointment):  # a staff member's bookings never overlap
            twin.start = row.start + timedelta(days=i + 1)
            twin.end = row.end + timedelta(days=i + 1)
        rows.append(twin)
    return model._default_manager.bulk_create(rows, batch_size=250)


def queries_for(api, url: str, page_size: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, {"page_size": page_size})
    assert response.status_code == 200, response.content[:300]
    assert len(response.json()["results"]) == page_size, url
    return len(captured.captured_queries)


@pytest.mark.parametrize("basename", LIST_ROUTES)
def test_a_list_page_costs_the_same_queries_for_10_100_and_1000_rows(basename, ctx):  # noqa: F811
    row = scenario_for(f"{basename}-detail", ctx).target()
    copies_of(row, ROWS - type(row)._default_manager.count())
    reader = getattr(row, OWNER_FIELD[basename]) if basename in OWNER_FIELD else ctx.supervisor
    api = api_for(reader)
    url = reverse(f"{basename}-list")
    api.get(url, {"page_size": 1})  # first use of the token records it; later requests do not
    counts = {size: queries_for(api, url, size) for size in SIZES}
    assert len(set(counts.values())) == 1, f"{url}: queries per page size {counts}"
