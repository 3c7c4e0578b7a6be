"""Every list orders by a unique key last, so rows tied on every other sort key keep one place
and a client paging through never skips or repeats one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import models
from django.urls import URLPattern
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from api.v1.urls import urlpatterns
from caseload.models import (
    Assessment,
    CaseNote,
    DrugScreen,
    Enrollment,
    MedicationRecord,
    Referral,
)
from tests.factories import (
    AssessmentFactory,
    CaseNoteFactory,
    DrugScreenFactory,
    EnrollmentFactory,
    MedicationRecordFactory,
    PatientFactory,
    ReferralFactory,
)

ROWS = 7  # tied rows, paged two at a time: four pages, the last one short


def _list_views():
    for pattern in urlpatterns:
        if not isinstance(pattern, URLPattern) or not (pattern.name or "").endswith("-list"):
            continue
        actions = getattr(pattern.callback, "actions", None) or {}
        if actions.get("get") == "list":
            yield pattern


def _ordering(queryset: models.QuerySet) -> list[str]:
    return list(queryset.query.order_by or queryset.model._meta.ordering)


def _is_unique(model: type[models.Model], key: str) -> bool:
    name = key.lstrip("-")
    if name in ("pk", "id"):
        return True
    field = model._meta.get_field(name)
    return field.primary_key or field.unique


@pytest.mark.parametrize("pattern", list(_list_views()), ids=lambda p: p.name)
def test_every_list_route_orders_by_a_unique_key_last(pattern, supervisor):
    view = pattern.callback.cls(**pattern.callback.initkwargs)
    view.action_map, view.args, view.kwargs, view.format_kwarg = (
        pattern.callback.actions,
        (),
        {},
        None,
    )
    request = APIRequestFactory().get("/")
    force_authenticate(request, user=supervisor)
    view.request = view.initialize_request(request)
    queryset = view.get_queryset()
    ordering = _ordering(queryset)
    assert ordering, f"{pattern.name} has no order"
    assert _is_unique(queryset.model, ordering[-1]), f"{pattern.name} orders by {ordering}"


def _enrollments(ctx):
    for _ in range(ROWS):
        patient = PatientFactory(actor=ctx.supervisor)
        EnrollmentFactory(actor=ctx.supervisor, patient=patient, counselor=ctx.counselor)


TIED = {
    # list path: (model, how to make ROWS rows, the columns its order reads before the id)
    "/api/v1/notes/": (
        CaseNote,
        lambda c: [CaseNoteFactory(actor=c.counselor, patient=c.patient) for _ in range(ROWS)],
        ("written_at", "created_at"),
    ),
    "/api/v1/assessments/": (
        Assessment,
        lambda c: [AssessmentFactory(actor=c.counselor, patient=c.patient) for _ in range(ROWS)],
        ("administered_at", "created_at"),
    ),
    "/api/v1/medications/": (
        MedicationRecord,
        lambda c: [
            MedicationRecordFactory(actor=c.prescriber, patient=c.patient) for _ in range(ROWS)
        ],
        ("start_date", "created_at"),
    ),
    "/api/v1/drug-screens/": (
        DrugScreen,
        lambda c: [DrugScreenFactory(actor=c.counselor, patient=c.patient) for _ in range(ROWS)],
        ("collected_at", "created_at"),
    ),
    "/api/v1/enrollments/": (Enrollment, _enrollments, ("admitted_on", "created_at")),
    "/api/v1/referrals/": (
        Referral,
        lambda c: [ReferralFactory(actor=c.counselor, patient=c.patient) for _ in range(ROWS)],
        ("referred_on", "created_at"),
    ),
}


def test_format_suffix_routes_are_gone(as_user, supervisor):
    assert as_user(supervisor).get("/api/v1/staff/0.5/").status_code == 404
    assert as_user(supervisor).get("/api/v1/patients.json").status_code == 404


@pytest.mark.parametrize("path", sorted(TIED))
def test_rows_tied_on_every_sort_key_are_each_listed_once(
    path, as_user, supervisor, counselor, prescriber, patient
):
    model, make, columns = TIED[path]
    ctx = type("Ctx", (), {})()
    ctx.supervisor, ctx.counselor, ctx.prescriber, ctx.patient = (
        supervisor,
        counselor,
        prescriber,
        patient,
    )
    make(ctx)
    moment = timezone.now() - timedelta(hours=1)
    tie = {
        name: moment.date()
        if isinstance(model._meta.get_field(name), models.DateField)
        and not isinstance(model._meta.get_field(name), models.DateTimeField)
        else moment
        for name in columns
    }
    model.objects.update(**tie)
    expected = {str(pk) for pk in model.objects.values_list("pk", flat=True)}
    assert len(expected) >= ROWS

    seen: list[str] = []
    url, params = path, {"page_size": 2}
    while url:
        response = as_user(supervisor).get(url, params)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        url, params = body["next"], None
    assert len(seen) == len(set(seen)), f"{path} repeated a row across pages"
    assert set(seen) == expected, f"{path} skipped a row"
