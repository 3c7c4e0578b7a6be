"""Persona x console route x method -> status, for every route under /console/.

The console's own permission matrix: `test_every_console_route_has_a_row` fails when a page
is added without rows. Every answer comes from the same policy as the API's: the console only
presents it (a page it may not open: 403; a patient or record it may not see: 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from caseload.models import Alert, Enrollment, Program, TreatmentPlan
from caseload.services.break_glass import break_glass_open
from caseload.services.placements import placement_record
from caseload.services.treatment_plans import treatment_plan_create, treatment_plan_sign
from console.urls import urlpatterns
from tests.factories import AppointmentFactory

from .conftest import console_for, placement_fields, plan_fields

PERSONAS = ("counselor", "prescriber", "supervisor", "front_desk", "anonymous")
REASON = "Covering a crisis call for a colleague tonight."
L = 302  # off to sign in (or, signed in, on to the next page)

# (route, method) -> status per persona, in PERSONAS order.
TABLE: dict[tuple[str, str], tuple[int, ...]] = {
    ("today", "GET"): (200, 200, 200, 302, L),
    ("login", "GET"): (302, 302, 302, 302, 200),
    ("verify", "GET"): (302, 302, 302, 302, 302),
    ("enrol", "GET"): (302, 302, 302, 302, 302),
    ("logout", "POST"): (302, 302, 302, 302, 302),
    ("keepalive", "POST"): (204, 204, 204, 204, 401),
    ("board", "GET"): (200, 200, 200, 200, L),
    ("appointment-move", "POST"): (302, 302, 302, 302, L),
    ("caseload", "GET"): (200, 200, 200, 200, L),
    ("patient", "GET"): (200, 200, 200, 200, L),
    ("assessment-new", "GET"): (200, 200, 200, 403, L),
    ("assessment-new", "POST"): (400, 400, 400, 403, L),
    ("note-new", "GET"): (200, 403, 200, 403, L),
    ("note-new", "POST"): (400, 403, 400, 403, L),
    ("contact-edit", "GET"): (200, 403, 200, 200, L),
    ("contact-edit", "POST"): (400, 403, 400, 400, L),
    ("appointment-new", "GET"): (200, 200, 200, 200, L),
    ("appointment-new", "POST"): (400, 400, 400, 400, L),
    ("break-glass-open", "GET"): (200, 200, 200, 200, L),
    ("break-glass-open", "POST"): (302, 302, 403, 403, L),
    ("alerts", "GET"): (200, 200, 200, 200, L),
    ("alert-ack", "POST"): (404, 404, 302, 404, L),
    ("audit", "GET"): (403, 403, 200, 403, L),
    ("break-glass", "GET"): (403, 403, 200, 403, L),
    ("break-glass-review", "POST"): (404, 404, 302, 404, L),
    ("locks", "GET"): (403, 403, 200, 403, L),
    ("unlock", "POST"): (403, 403, 302, 403, L),
    # The program's own pages.
    ("reports", "GET"): (403, 403, 200, 403, L),
    ("staff", "GET"): (403, 403, 200, 403, L),
    ("care-team", "GET"): (403, 403, 200, 403, L),
    ("care-team-edit", "GET"): (403, 403, 200, 403, L),
    ("care-team-edit", "POST"): (403, 403, 302, 403, L),
    ("reminder-wording", "GET"): (403, 403, 200, 403, L),
    ("reminder-wording", "POST"): (403, 403, 302, 403, L),
    # Treatment plans and placements: counselors of the patient and supervisors write,
    # prescribers read (403), front desk sees neither form (403) nor the records (404).
    ("plan-new", "GET"): (200, 403, 200, 403, L),
    ("plan-new", "POST"): (400, 403, 400, 403, L),
    ("plan-edit", "GET"): (200, 403, 200, 404, L),
    ("plan-edit", "POST"): (400, 403, 400, 404, L),
    ("plan-sign", "GET"): (200, 403, 200, 404, L),
    ("plan-sign", "POST"): (400, 403, 400, 404, L),
    ("plan-review", "GET"): (200, 403, 200, 404, L),
    ("plan-review", "POST"): (400, 403, 400, 404, L),
    ("placement-new", "GET"): (200, 403, 200, 403, L),
    ("placement-new", "POST"): (400, 403, 400, 403, L),
    ("placement-error", "GET"): (200, 403, 200, 404, L),
    ("placement-error", "POST"): (400, 403, 400, 404, L),
}


@dataclass
class World:
    counselor: object
    prescriber: object
    supervisor: object
    front_desk: object
    patient: object
    other_patient: object


@pytest.fixture
def world(counselor, prescriber, supervisor, front_desk, patient, other_patient):
    return World(counselor, prescriber, supervisor, front_desk, patient, other_patient)


def target(route: str, world: World) -> tuple[str, dict]:
    """The URL and body a route is tried with: a fresh record for each try."""
    p = world.patient.pk
    if route == "appointment-move":
        start = timezone.now() + timedelta(minutes=20)
        booked = AppointmentFactory(
            actor=world.supervisor,
            patient=world.patient,
            staff=world.counselor,
            start=start,
            overlap_allowed=True,
        )
        return reverse(f"console:{route}", args=[booked.pk, "arrive"]), {}
    if route in ("assessment-new",):
        return reverse(f"console:{route}", args=[p, "cows"]), {}
    if route in ("patient", "note-new", "appointment-new", "contact-edit"):
        return reverse(f"console:{route}", args=[p]), {}
    if route == "break-glass-open":
        return reverse(f"console:{route}", args=[world.other_patient.pk]), {"reason": REASON}
    if route in ("alert-ack", "break-glass-review"):
        opening = break_glass_open(
            actor=world.prescriber if route == "alert-ack" else world.counselor,
            patient=world.other_patient,
            reason=REASON,
        )
        if route == "alert-ack":
            alert = Alert.objects.filter(break_glass=opening, recipient=world.supervisor).get()
            return reverse(f"console:{route}", args=[alert.pk]), {}
        return reverse(f"console:{route}", args=[opening.pk]), {"note": "Justified."}
    if route == "unlock":
        return reverse(f"console:{route}", args=[world.counselor.pk]), {}
    if route in PROGRAM_ROUTES:
        return program_target(route, world)
    if route in TREATMENT_ROUTES:
        return treatment_target(route, world), {}
    return reverse(f"console:{route}"), {}


PROGRAM_ROUTES = ("care-team-edit", "reminder-wording")


def program_target(route: str, world: World) -> tuple[str, dict]:
    """The program's forms, with the current version of what they change."""
    if route == "care-team-edit":
        enrollment = Enrollment.objects.get(patient=world.patient)
        body = {"counselor": world.counselor.pk, "version": enrollment.version}
        return reverse(f"console:{route}", args=[enrollment.pk]), body
    program = Program.objects.get(pk=world.supervisor.program_id)
    body = {"reminder_text": "You have a visit.", "version": program.version}
    return reverse(f"console:{route}"), body


TREATMENT_ROUTES = {"plan-new", "plan-edit", "plan-sign", "plan-review", "placement-new"}
TREATMENT_ROUTES |= {"placement-error"}


def treatment_target(route: str, world: World) -> str:
    """A plan (draft, or signed for a review) or a placement of the patient to try a route on."""
    p = world.patient.pk
    if route in ("plan-new", "placement-new"):
        return reverse(f"console:{route}", args=[p])
    enrollment = world.patient.enrollments.get()
    if route == "placement-error":
        placement = placement_record(
            actor=world.counselor, enrollment=enrollment, fields=placement_fields()
        )
        return reverse(f"console:{route}", args=[p, placement.pk])
    plan = TreatmentPlan.objects.filter(enrollment=enrollment).first() or treatment_plan_create(
        actor=world.counselor, enrollment=enrollment, fields=plan_fields(world.counselor)
    )
    if route == "plan-review" and plan.status == "draft":
        plan = treatment_plan_sign(plan=plan, actor=world.counselor)
    return reverse(f"console:{route}", args=[p, plan.pk])


def client_for(persona: str, world: World) -> Client:
    if persona == "anonymous":
        return Client()
    return console_for(getattr(world, persona))


def console_route_names() -> set[str]:
    return {p.name for p in urlpatterns if isinstance(p, URLPattern)}


def test_every_console_route_has_a_row():
    assert {route for route, _ in TABLE} == console_route_names()


ROWS = sorted(TABLE)


@pytest.mark.parametrize(("route", "method"), ROWS, ids=[f"{r}:{m}" for r, m in ROWS])
def test_console_access(world, route, method):
    actual = []
    for persona in PERSONAS:
        url, body = target(route, world)
        client = client_for(persona, world)
        send = client.get if method == "GET" else client.post
        actual.append(send(url, body).status_code)
    assert dict(zip(PERSONAS, actual, strict=True)) == dict(
        zip(PERSONAS, TABLE[(route, method)], strict=True)
    )
