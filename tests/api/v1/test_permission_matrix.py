"""Persona x route x method -> status, for every route under /api/v1/.

The table is written out by hand from the access rules in docs/design.md: it is the specification,
not a copy of the code. `test_every_route_has_a_row` fails when a route is added without rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from api.v1.urls import urlpatterns
from caseload.instruments import item_keys
from caseload.models import Alert, AuditEvent, OutboxEvent, TreatmentPlan, WebhookDelivery
from caseload.services.amendments import amendment_deny, amendment_request_create
from caseload.services.assessments import assessment_record
from caseload.services.break_glass import break_glass_open
from caseload.services.calendar_feeds import calendar_feed_create
from caseload.services.consents import consent_create
from caseload.services.disclosures import ledger_disclosure
from caseload.services.drug_screens import drug_screen_record
from caseload.services.follow_ups import follow_up_for_noshow
from caseload.services.integrations import integration_create
from caseload.services.medications import medication_record
from caseload.services.placements import placement_record
from caseload.services.records import record_mark_entered_in_error
from caseload.services.referrals import referral_create, referral_transition
from caseload.services.tokens import token_issue
from caseload.services.treatment_plans import treatment_plan_create, treatment_plan_sign
from caseload.services.webhooks import webhook_create
from tests.api.v1.test_break_glass import CRISIS_REASON
from tests.conftest import api_for, webhook_client
from tests.factories import (
    PERSONA_PASSWORD,
    AppointmentFactory,
    CaseNoteFactory,
    PatientFactory,
)

PERSONAS = (
    "counselor",
    "other_counselor",
    "prescriber",
    "supervisor",
    "front_desk",
    "other_program_staff",
    "anonymous",
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NOT_ALLOWED = (405, 405, 405, 405, 405, 405, 401)

# fmt: off
# Rows: (route, method) -> status per persona, in PERSONAS order. Missing methods: NOT_ALLOWED.
#                                       C    OC   P    S    FD   OP   anon
TABLE: dict[tuple[str, str], tuple[int, ...]] = {
    ("me", "GET"):                      (200, 200, 200, 200, 200, 200, 401),
    ("instruments", "GET"):             (200, 200, 200, 200, 200, 200, 401),
    ("staff-list", "GET"):              (200, 200, 200, 200, 200, 200, 401),
    ("staff-detail", "GET"):            (200, 200, 200, 200, 200, 404, 401),
    ("staff-unlock-signin", "POST"):    (403, 403, 403, 200, 403, 404, 401),
    # Tokens are each caller's own: the target is the counselor's token.
    ("apitoken-list", "GET"):           (200, 200, 200, 200, 200, 200, 401),
    ("apitoken-list", "POST"):          (201, 201, 201, 201, 201, 201, 401),
    ("apitoken-detail", "GET"):         (200, 404, 404, 404, 404, 404, 401),
    ("apitoken-revoke", "POST"):        (200, 404, 404, 404, 404, 404, 401),
    ("apitoken-revoke-all", "POST"):    (200, 200, 200, 200, 200, 200, 401),
    # Integration clients: supervisors manage their own program's.
    ("integrationclient-list", "GET"):  (403, 403, 403, 200, 403, 200, 401),
    ("integrationclient-detail", "GET"): (403, 403, 403, 200, 403, 404, 401),
    ("integrationclient-disable", "POST"): (403, 403, 403, 200, 403, 404, 401),
    ("integrationclient-rotate", "POST"): (403, 403, 403, 200, 403, 404, 401),
    # Calendar feeds are each staff member's own: the target is the counselor's feed.
    ("calendarfeed-list", "GET"):       (200, 200, 200, 200, 200, 200, 401),
    ("calendarfeed-list", "POST"):      (201, 201, 201, 201, 201, 201, 401),
    ("calendarfeed-detail", "GET"):     (200, 404, 404, 404, 404, 404, 401),
    ("calendarfeed-revoke", "POST"):    (200, 404, 404, 404, 404, 404, 401),
    ("patient-list", "GET"):            (200, 200, 200, 200, 200, 200, 401),
    ("patient-list", "POST"):           (403, 403, 403, 201, 403, 201, 401),
    ("patient-detail", "GET"):          (200, 404, 200, 200, 200, 404, 401),
    ("patient-detail", "PUT"):          (200, 404, 403, 200, 200, 404, 401),
    ("patient-detail", "PATCH"):        (200, 404, 403, 200, 200, 404, 401),
    ("patient-history", "GET"):         (200, 404, 200, 200, 403, 404, 401),
    ("patient-withdrawal-trend", "GET"): (200, 404, 200, 200, 403, 404, 401),
    ("enrollment-list", "GET"):         (200, 200, 200, 200, 403, 200, 401),
    ("enrollment-list", "POST"):        (403, 403, 403, 201, 403, 400, 401),
    ("enrollment-detail", "GET"):       (200, 404, 200, 200, 403, 404, 401),
    ("enrollment-detail", "PUT"):       (403, 403, 403, 200, 403, 404, 401),
    ("enrollment-detail", "PATCH"):     (403, 403, 403, 200, 403, 404, 401),
    ("enrollment-discharge", "POST"):   (403, 403, 403, 200, 403, 404, 401),
    ("enrollment-activate", "POST"):    (403, 403, 403, 409, 403, 404, 401),
    ("casenote-list", "GET"):           (200, 200, 200, 200, 403, 200, 401),
    ("casenote-list", "POST"):          (201, 400, 403, 201, 403, 400, 401),
    ("casenote-detail", "GET"):         (200, 404, 200, 200, 403, 404, 401),
    ("casenote-detail", "PUT"):         (200, 404, 403, 403, 403, 404, 401),
    ("casenote-detail", "PATCH"):       (200, 404, 403, 403, 403, 404, 401),
    ("casenote-entered-in-error", "POST"): (200, 404, 403, 200, 403, 404, 401),
    ("appointment-list", "GET"):        (200, 200, 200, 200, 200, 200, 401),
    ("appointment-list", "POST"):       (201, 400, 201, 201, 201, 400, 401),
    ("appointment-detail", "GET"):      (200, 404, 200, 200, 200, 404, 401),
    ("appointment-detail", "PUT"):      (200, 404, 200, 200, 200, 404, 401),
    ("appointment-detail", "PATCH"):    (200, 404, 200, 200, 200, 404, 401),
    ("appointment-arrive", "POST"):     (200, 404, 200, 200, 200, 404, 401),
    ("appointment-fulfil", "POST"):     (409, 404, 409, 409, 409, 404, 401),
    ("appointment-cancel", "POST"):     (200, 404, 200, 200, 200, 404, 401),
    ("appointment-no-show", "POST"):    (409, 404, 409, 409, 409, 404, 401),
    ("assessment-list", "GET"):         (200, 200, 200, 200, 403, 200, 401),
    ("assessment-list", "POST"):        (201, 400, 201, 201, 403, 400, 401),
    ("assessment-detail", "GET"):       (200, 404, 200, 200, 403, 404, 401),
    ("assessment-entered-in-error", "POST"): (200, 404, 200, 200, 403, 404, 401),
    ("medicationrecord-list", "GET"):   (200, 200, 200, 200, 403, 200, 401),
    ("medicationrecord-list", "POST"):  (403, 403, 201, 201, 403, 400, 401),
    ("medicationrecord-detail", "GET"): (200, 404, 200, 200, 403, 404, 401),
    ("medicationrecord-detail", "PUT"): (403, 403, 200, 200, 403, 404, 401),
    ("medicationrecord-detail", "PATCH"): (403, 403, 200, 200, 403, 404, 401),
    ("medicationrecord-entered-in-error", "POST"): (403, 403, 200, 200, 403, 404, 401),
    ("drugscreen-list", "GET"):         (200, 200, 200, 200, 403, 200, 401),
    ("drugscreen-list", "POST"):        (201, 400, 201, 201, 403, 400, 401),
    ("drugscreen-detail", "GET"):       (200, 404, 200, 200, 403, 404, 401),
    ("drugscreen-entered-in-error", "POST"): (200, 404, 200, 200, 403, 404, 401),
    ("referral-list", "GET"):           (200, 200, 200, 200, 403, 200, 401),
    ("referral-list", "POST"):          (201, 400, 403, 201, 403, 400, 401),
    ("referral-detail", "GET"):         (200, 404, 200, 200, 403, 404, 401),
    ("referral-entered-in-error", "POST"): (200, 404, 403, 200, 403, 404, 401),
    ("referral-attending", "POST"):     (200, 404, 403, 200, 403, 404, 401),
    ("referral-completed", "POST"):     (200, 404, 403, 200, 403, 404, 401),
    ("referral-declined", "POST"):      (200, 404, 403, 200, 403, 404, 401),
    # Treatment records: the patient's counselor and supervisors write, prescribers read; only
    # the enrollment's counselor signs a plan (a supervisor: 409 not_on_care_team).
    ("placement-list", "GET"):          (200, 200, 200, 200, 403, 200, 401),
    ("placement-list", "POST"):         (201, 400, 403, 201, 403, 400, 401),
    ("placement-detail", "GET"):        (200, 404, 200, 200, 403, 404, 401),
    ("placement-entered-in-error", "POST"): (200, 404, 403, 200, 403, 404, 401),
    ("treatmentplan-list", "GET"):      (200, 200, 200, 200, 403, 200, 401),
    ("treatmentplan-list", "POST"):     (201, 400, 403, 201, 403, 400, 401),
    ("treatmentplan-detail", "GET"):    (200, 404, 200, 200, 403, 404, 401),
    ("treatmentplan-detail", "PUT"):    (200, 404, 403, 200, 403, 404, 401),
    ("treatmentplan-detail", "PATCH"):  (200, 404, 403, 200, 403, 404, 401),
    ("treatmentplan-entered-in-error", "POST"): (200, 404, 403, 200, 403, 404, 401),
    ("treatmentplan-sign", "POST"):     (200, 404, 403, 409, 403, 404, 401),
    ("treatmentplan-review", "POST"):   (200, 404, 403, 200, 403, 404, 401),
    # Program reports: supervisors, each of their own program.
    ("report-census", "GET"):           (403, 403, 403, 200, 403, 200, 401),
    ("report-admissions-discharges", "GET"): (403, 403, 403, 200, 403, 200, 401),
    ("report-plan-reviews", "GET"):     (403, 403, 403, 200, 403, 200, 401),
    ("report-pharmacotherapy-continuity", "GET"): (403, 403, 403, 200, 403, 200, 401),
    # The audit log: supervisors of the program; read-only.
    ("auditevent-list", "GET"):         (403, 403, 403, 200, 403, 200, 401),
    ("auditevent-detail", "GET"):       (403, 403, 403, 200, 403, 404, 401),
    # Break the glass: clinicians off the patient's caseload (409 on it); supervisors review.
    ("patient-break-glass", "POST"):    (409, 201, 409, 403, 403, 403, 401),
    ("breakglass-list", "GET"):         (403, 403, 403, 200, 403, 200, 401),
    ("breakglass-detail", "GET"):       (403, 403, 403, 200, 403, 404, 401),
    ("breakglass-review", "POST"):      (403, 403, 403, 200, 403, 404, 401),
    # Part 2 consents: read by the patient's clinicians, written by counselors and supervisors.
    ("consent-list", "GET"):            (200, 200, 200, 200, 403, 200, 401),
    ("consent-list", "POST"):           (201, 400, 403, 201, 403, 400, 401),
    ("consent-detail", "GET"):          (200, 404, 200, 200, 403, 404, 401),
    ("consent-revoke", "POST"):         (200, 404, 403, 200, 403, 404, 401),
    ("consent-expiry-event", "POST"):   (200, 404, 403, 200, 403, 404, 401),
    # The disclosure ledger and a patient's accounting: read-only.
    ("disclosure-list", "GET"):         (200, 200, 200, 200, 403, 200, 401),
    ("disclosure-detail", "GET"):       (200, 404, 200, 200, 403, 404, 401),
    ("patient-disclosures", "GET"):     (200, 404, 200, 200, 403, 404, 401),
    # A disclosure made outside the system: recorded by a supervisor of the program.
    ("patient-disclosures", "POST"):    (403, 403, 403, 201, 403, 404, 401),
    ("patient-export", "POST"):         (200, 404, 403, 200, 403, 404, 401),
    # The patient's own copy: their counselor or a supervisor makes it.
    ("patient-record-copies", "POST"):  (200, 404, 403, 200, 403, 404, 401),
    ("appointment-reminders", "GET"):   (200, 404, 200, 200, 200, 404, 401),
    # Follow-ups and alerts are each recipient's own: the counselor's follow-up, the
    # prescriber's alert.
    ("followup-list", "GET"):           (200, 200, 200, 200, 200, 200, 401),
    ("followup-detail", "GET"):         (200, 404, 404, 404, 404, 404, 401),
    ("followup-done", "POST"):          (200, 404, 404, 404, 404, 404, 401),
    ("alert-list", "GET"):              (200, 200, 200, 200, 200, 200, 401),
    ("alert-detail", "GET"):            (404, 404, 200, 404, 404, 404, 401),
    ("alert-acknowledge", "POST"):      (404, 404, 200, 404, 404, 404, 401),
    # Amendment requests: recorded by the patient's counselor or a supervisor; a supervisor
    # decides; a statement of disagreement follows a denial.
    ("patient-amendments", "GET"):      (200, 404, 200, 200, 403, 404, 401),
    ("patient-amendments", "POST"):     (201, 404, 403, 201, 403, 404, 401),
    ("amendmentrequest-list", "GET"):   (200, 200, 200, 200, 403, 200, 401),
    ("amendmentrequest-detail", "GET"): (200, 404, 200, 200, 403, 404, 401),
    ("amendmentrequest-accept", "POST"): (403, 404, 403, 200, 403, 404, 401),
    ("amendmentrequest-deny", "POST"):  (403, 404, 403, 200, 403, 404, 401),
    ("amendmentrequest-disagreement", "POST"): (200, 404, 403, 200, 403, 404, 401),
    # Webhooks are a supervisor's, within the program.
    ("webhook-list", "GET"):            (403, 403, 403, 200, 403, 200, 401),
    # Another program's supervisor names this program's client: 400 `client_id` does_not_exist.
    ("webhook-list", "POST"):           (403, 403, 403, 201, 403, 400, 401),
    ("webhook-detail", "GET"):          (403, 403, 403, 200, 403, 404, 401),
    ("webhook-detail", "PUT"):          (403, 403, 403, 200, 403, 404, 401),
    ("webhook-detail", "PATCH"):        (403, 403, 403, 200, 403, 404, 401),
    ("webhook-deliveries", "GET"):      (403, 403, 403, 200, 403, 404, 401),
    ("webhook-replay", "POST"):         (403, 403, 403, 200, 403, 404, 401),
    ("webhook-rotate-secret", "POST"):  (403, 403, 403, 200, 403, 404, 401),
}
# fmt: on


def api_route_names() -> set[str]:
    return {p.name for p in urlpatterns if isinstance(p, URLPattern) and p.name}


def expected(route: str, method: str) -> tuple[int, ...]:
    return TABLE.get((route, method), NOT_ALLOWED)


def test_every_route_has_a_row():
    routes_in_table = {route for route, _ in TABLE}
    assert routes_in_table == api_route_names()


def test_the_matrix_is_complete():
    cells = len(api_route_names()) * len(METHODS) * len(PERSONAS)
    assert cells == sum(len(expected(r, m)) for r in api_route_names() for m in METHODS)
    print(f"permission matrix: {cells} cells")


# -- Scenarios: how to build the target record and a valid body for each resource -------------


def _soon(days: int = 2):
    return (timezone.now() + timedelta(days=days)).replace(microsecond=0)


# Every COWS item at a legal value (restlessness 1, gooseflesh 3): a total of 13.
COWS_ITEMS = dict.fromkeys(item_keys("cows"), 1) | {"gooseflesh": 3}


@dataclass
class Scenario:
    target: Any
    create: Any
    update: Any
    put: Any = None


def _patient_scenario(ctx) -> Scenario:
    return Scenario(
        target=lambda: ctx.patient,
        create=lambda: {
            "mrn": f"M-{uuid.uuid4().hex[:8]}",
            "given_name": "Eli",
            "family_name": "Synthetic",
            "birth_date": "1991-04-05",
        },
        update=lambda: {"phone": "555-0177"},
        put=lambda: {
            "mrn": ctx.patient.mrn,
            "given_name": ctx.patient.given_name,
            "family_name": ctx.patient.family_name,
            "birth_date": ctx.patient.birth_date.isoformat(),
            "phone": "555-0178",
        },
    )


def _enrollment_scenario(ctx) -> Scenario:
    def new_patient():
        return PatientFactory(actor=ctx.supervisor)

    return Scenario(
        target=lambda: ctx.patient.enrollments.get(),
        create=lambda: {
            "patient": str(new_patient().pk),
            "level_of_care": "outpatient",
            "counselor": str(ctx.counselor.pk),
            "admitted_on": "2026-11-01",
        },
        update=lambda: {"level_of_care": "intensive_outpatient"},
        put=lambda: {
            "status": "active",
            "level_of_care": "inpatient",
            "counselor": str(ctx.counselor.pk),
            "prescriber": str(ctx.prescriber.pk),
            "admitted_on": "2026-11-01",
        },
    )


def _note_scenario(ctx) -> Scenario:
    return Scenario(
        target=lambda: CaseNoteFactory(actor=ctx.counselor, patient=ctx.patient),
        create=lambda: {
            "patient": str(ctx.patient.pk),
            "body": "Check-in.",
            "written_at": timezone.now().isoformat(),
        },
        update=lambda: {"body": "Check-in, amended."},
        put=lambda: {"body": "Replaced.", "written_at": timezone.now().isoformat()},
    )


def _appointment_scenario(ctx) -> Scenario:
    return Scenario(
        target=lambda: AppointmentFactory(
            actor=ctx.supervisor, patient=ctx.patient, staff=ctx.counselor
        ),
        create=lambda: {
            "patient": str(ctx.patient.pk),
            "staff": str(ctx.counselor.pk),
            "kind": "counseling",
            "start": _soon().isoformat(),
            "end": (_soon() + timedelta(hours=1)).isoformat(),
            "overlap_allowed": True,  # every persona books the same slot
        },
        update=lambda: {"location": "Room 9"},
        put=lambda: {
            "staff": str(ctx.counselor.pk),
            "kind": "follow_up",
            "start": _soon(3).isoformat(),
            "end": (_soon(3) + timedelta(hours=1)).isoformat(),
            "overlap_allowed": True,
        },
    )


def _assessment_scenario(ctx) -> Scenario:
    return Scenario(
        target=lambda: assessment_record(
            patient=ctx.patient,
            actor=ctx.counselor,
            instrument="cows",
            items=COWS_ITEMS,
            administered_at=timezone.now(),
        ),
        create=lambda: {
            "patient": str(ctx.patient.pk),
            "instrument": "cows",
            "items": COWS_ITEMS,
            "administered_at": timezone.now().isoformat(),
        },
        update=dict,
    )


def _medication_scenario(ctx) -> Scenario:
    body = {
        "medication": "buprenorphine",
        "dose": "8",
        "dose_unit": "mg",
        "frequency": "once daily",
        "route": "sublingual",
        "start_date": "2026-11-20",
    }
    return Scenario(
        target=lambda: medication_record(
            patient=ctx.patient, actor=ctx.prescriber, fields=dict(body, dose="8")
        ),
        create=lambda: (
            body | {"patient": str(ctx.patient.pk), "prescriber": str(ctx.prescriber.pk)}
        ),
        update=lambda: {"frequency": "twice daily"},
        put=lambda: {k: v for k, v in body.items() if k != "medication"} | {"dose": "12"},
    )


def _screen_scenario(ctx) -> Scenario:
    results = [{"substance": "opiates", "result": "negative"}]
    return Scenario(
        target=lambda: drug_screen_record(
            patient=ctx.patient,
            actor=ctx.counselor,
            collected_at=timezone.now(),
            method="presumptive",
            results=results,
        ),
        create=lambda: {
            "patient": str(ctx.patient.pk),
            "collected_at": timezone.now().isoformat(),
            "method": "presumptive",
            "results": results,
        },
        update=dict,
    )


def _referral_scenario(ctx, route: str) -> Scenario:
    def target():
        referral = referral_create(
            patient=ctx.patient,
            actor=ctx.counselor,
            fields={"group": "smart_recovery", "referred_on": timezone.localdate()},
        )
        if route == "referral-completed":  # only an attending referral can complete
            referral = referral_transition(referral=referral, actor=ctx.counselor, to="attending")
        return referral

    return Scenario(
        target=target,
        create=lambda: {
            "patient": str(ctx.patient.pk),
            "group": "narcotics_anonymous",
            "referred_on": timezone.localdate().isoformat(),
        },
        update=dict,
    )


def _placement_scenario(ctx) -> Scenario:
    def body():
        return {
            "enrollment": str(ctx.patient.enrollments.get().pk),
            "assessed_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            **{f"dimension_{n}": 1 for n in range(1, 7)},
            "recommended_level": "1",
            "actual_level": "1",
        }

    def target():
        fields = body()
        enrollment = ctx.patient.enrollments.get(pk=fields.pop("enrollment"))
        fields["assessed_at"] = timezone.now() - timedelta(hours=1)
        return placement_record(actor=ctx.counselor, enrollment=enrollment, fields=fields)

    return Scenario(target=target, create=body, update=dict)


def _plan_content() -> dict:
    return {
        "problems": [{"description": "Daily opioid use."}],
        "goals": [
            {
                "description": "Stay well for my children.",
                "objectives": [{"description": "Attend every visit.", "target_date": "2027-06-01"}],
            }
        ],
    }


def _treatment_plan_scenario(ctx, route: str) -> Scenario:
    """One current plan per enrollment: each target or create body first corrects the last."""

    def clear():
        for plan in TreatmentPlan.objects.filter(
            patient=ctx.patient, status__in=["draft", "signed"]
        ):
            record_mark_entered_in_error(instance=plan, actor=ctx.supervisor, reason="Matrix.")

    def content():
        interventions = [
            {"kind": "Counseling", "frequency": "weekly", "responsible": str(ctx.counselor.pk)}
        ]
        return _plan_content() | {"interventions": interventions}

    def target():
        clear()
        plan = treatment_plan_create(
            actor=ctx.counselor, enrollment=ctx.patient.enrollments.get(), fields=content()
        )
        if route == "treatmentplan-review":
            plan = treatment_plan_sign(
                plan=plan, actor=ctx.counselor, signed_by_patient_at=timezone.now()
            )
        return plan

    def create():
        clear()
        return content() | {"enrollment": str(ctx.patient.enrollments.get().pk)}

    return Scenario(target=target, create=create, update=lambda: {"problems": []})


def _integration_scenario(ctx) -> Scenario:
    def target():
        client, _ = integration_create(
            name=f"matrix-{uuid.uuid4().hex[:6]}",
            program=ctx.supervisor.program,
            scopes=["appointments:read"],
            actor=ctx.supervisor,
        )
        return client

    return Scenario(target=target, create=dict, update=dict)


def _calendar_scenario(ctx) -> Scenario:
    return Scenario(
        target=lambda: calendar_feed_create(staff=ctx.counselor, password=PERSONA_PASSWORD)[0],
        create=lambda: {"password": PERSONA_PASSWORD},
        update=dict,
    )


def _staff_scenario(ctx) -> Scenario:
    return Scenario(target=lambda: ctx.counselor, create=dict, update=dict)


def _audit_event_scenario(ctx) -> Scenario:
    return Scenario(
        target=lambda: AuditEvent.objects.filter(program_id=ctx.patient.program_id).first(),
        create=dict,
        update=dict,
    )


def _break_glass_scenario(ctx) -> Scenario:
    return Scenario(
        target=lambda: break_glass_open(
            actor=ctx.other_counselor,
            patient=ctx.patient,
            reason=CRISIS_REASON["reason"],
        ),
        create=dict,
        update=dict,
    )


def consent_body(patient) -> dict:
    return {
        "patient": str(patient.pk),
        "recipient_name": "County drug court",
        "purpose": "Report treatment attendance to the court.",
        "information": ["appointments", "enrollments"],
        "expires_at": (timezone.now() + timedelta(days=180)).isoformat(),
        "signed_by": "The patient",
        "signed_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "revocation_notice": True,
        "redisclosure_statement": True,
        "treatment_not_conditioned_statement": True,
        "signer_role": "patient",
    }


def _consent_scenario(ctx, *, by_event: bool = False) -> Scenario:
    def target():
        body = consent_body(ctx.patient)
        fields = {k: v for k, v in body.items() if k != "patient"}
        fields["expires_at"] = timezone.now() + timedelta(days=180)
        if by_event:  # ends when its event is recorded (`consent-expiry-event`)
            fields |= {"expires_at": None, "expiry_event": "Discharge from the program"}
        fields["signed_at"] = timezone.now() - timedelta(hours=1)
        return consent_create(actor=ctx.counselor, patient=ctx.patient, fields=fields)

    return Scenario(target=target, create=lambda: consent_body(ctx.patient), update=dict)


def _disclosure_scenario(ctx) -> Scenario:
    return Scenario(
        target=lambda: ledger_disclosure(
            patients=[ctx.patient],
            recipient_name="Regional laboratory",
            purpose="Confirmatory testing",
            information=["drug_screens"],
            basis="qsoa",
            actor=ctx.supervisor,
        )[0],
        create=dict,
        update=dict,
    )


def _cows_of(ctx):
    return assessment_record(
        patient=ctx.patient,
        actor=ctx.counselor,
        instrument="cows",
        items=COWS_ITEMS,
        administered_at=timezone.now(),
    )


def _amendment_scenario(ctx, route: str) -> Scenario:
    def target():
        made = amendment_request_create(
            actor=ctx.counselor,
            patient=ctx.patient,
            fields={"record": _cows_of(ctx).pk, "requested_change": "The pulse was 72."},
        )
        if route == "amendmentrequest-disagreement":  # a statement follows a denial
            made = amendment_deny(amendment=made, actor=ctx.supervisor, reason="Verified.")
        return made

    return Scenario(target=target, create=dict, update=dict)


def _token_scenario(ctx) -> Scenario:
    return Scenario(
        target=lambda: token_issue(staff=ctx.counselor, name="matrix")[0],
        create=lambda: {"name": "laptop", "expires_in_days": 30, "password": PERSONA_PASSWORD},
        update=dict,
    )


def _follow_up_scenario(ctx) -> Scenario:
    def target():
        appointment = AppointmentFactory(
            actor=ctx.supervisor, patient=ctx.patient, staff=ctx.counselor
        )
        return follow_up_for_noshow(appointment=appointment)

    return Scenario(target=target, create=dict, update=dict)


# A COWS total of 25: moderately severe, which raises an alert for the prescriber.
SEVERE_COWS_ITEMS = dict.fromkeys(item_keys("cows"), 2) | {
    "restlessness": 3,
    "gi_upset": 3,
    "gooseflesh": 3,
}


def _alert_scenario(ctx) -> Scenario:
    def target():
        assessment_record(
            patient=ctx.patient,
            actor=ctx.counselor,
            instrument="cows",
            items=SEVERE_COWS_ITEMS,
            administered_at=timezone.now(),
        )
        return Alert.objects.get(patient=ctx.patient, status="open")

    return Scenario(target=target, create=dict, update=dict)


# Port 9 (discard) refuses at once: no delivery ever leaves the machine.
HOOK_URL = "http://127.0.0.1:9/hook"
REPLAY_DELIVERY_ID = uuid.UUID("00000000-0000-4000-8000-00000000d31e")


def _webhook_scenario(ctx) -> Scenario:
    def target():
        subscription, _ = webhook_create(
            actor=ctx.supervisor,
            fields={
                "url": HOOK_URL,
                "events": ["appointment.created"],
                "client_id": webhook_client(ctx.supervisor.program).pk,
            },
        )
        event = OutboxEvent.objects.create(
            program=ctx.supervisor.program, event="appointment.created", payload={}
        )
        # The one delivery the replay body names moves to each new target subscription.
        WebhookDelivery.objects.update_or_create(
            pk=REPLAY_DELIVERY_ID,
            defaults={
                "subscription": subscription,
                "event": event,
                "status": "failed",
                "next_attempt_at": timezone.now(),
            },
        )
        return subscription

    def body(**fields):
        return fields | {"client_id": str(webhook_client(ctx.supervisor.program).pk)}

    return Scenario(
        target=target,
        create=lambda: body(url=HOOK_URL, events=["appointment.cancelled"]),
        update=lambda: {"active": False},
        put=lambda: body(url=HOOK_URL + "2", events=["appointment.updated"]),
    )


SCENARIOS = {
    "followup": _follow_up_scenario,
    "alert": _alert_scenario,
    "webhook": _webhook_scenario,
    "patient": _patient_scenario,
    "enrollment": _enrollment_scenario,
    "casenote": _note_scenario,
    "appointment": _appointment_scenario,
    "assessment": _assessment_scenario,
    "medicationrecord": _medication_scenario,
    "drugscreen": _screen_scenario,
    "staff": _staff_scenario,
    "apitoken": _token_scenario,
    "auditevent": _audit_event_scenario,
    "breakglass": _break_glass_scenario,
    "consent": _consent_scenario,
    "disclosure": _disclosure_scenario,
    "integrationclient": _integration_scenario,
    "calendarfeed": _calendar_scenario,
    "placement": _placement_scenario,
}
URL_WITHOUT_ID = {
    "me",
    "instruments",
    "apitoken-revoke-all",
    "report-census",
    "report-admissions-discharges",
    "report-plan-reviews",
    "report-pharmacotherapy-continuity",
}
CORRECTION = {"reason": "Wrong patient."}
ACTION_BODIES = {
    "enrollment-discharge": {"discharge_reason": "completed"},
    "appointment-cancel": {"reason": "The patient asked to reschedule."},
    "apitoken-revoke-all": {},
    "patient-break-glass": CRISIS_REASON,
    "breakglass-review": {"note": "Checked with the counselor; justified."},
    "consent-revoke": {},
    "consent-expiry-event": {},
    "patient-record-copies": {},
    "patient-amendments": lambda ctx: {
        "record": str(_cows_of(ctx).pk),
        "requested_change": "The pulse was 72, not 92.",
    },
    "amendmentrequest-accept": lambda ctx: {"replacement": str(_cows_of(ctx).pk)},
    "amendmentrequest-deny": {"reason": "The reading was verified."},
    "amendmentrequest-disagreement": {"statement": "I disagree with the reading."},
    "patient-disclosures": lambda ctx: {
        "basis": "court_order",
        "recipient": "Springfield County Court",
        "information": ["enrollments"],
        "disclosed_at": (timezone.now() - timedelta(days=1)).isoformat(),
        "purpose": "Ordered by the court",
        "court_order_reference": "Order 2026-117",
    },
    # Built per request: an export names a consent of the target patient.
    "patient-export": lambda ctx: {"consent": str(_consent_scenario(ctx).target().pk)},
    "integrationclient-disable": {},
    "integrationclient-rotate": {},
    "calendarfeed-revoke": {},
    "webhook-replay": {"delivery": str(REPLAY_DELIVERY_ID)},
    "treatmentplan-sign": {"signed_by_patient_at": "2026-11-30T10:00:00Z"},
    "treatmentplan-review": {"note": "Reviewed with the patient; plan stands."},
}


def scenario_for(route: str, ctx) -> Scenario | None:
    if route in URL_WITHOUT_ID:
        return None
    basename = route.split("-", 1)[0]
    if basename == "referral":
        return _referral_scenario(ctx, route)
    if basename == "treatmentplan":
        return _treatment_plan_scenario(ctx, route)
    if basename == "amendmentrequest":
        return _amendment_scenario(ctx, route)
    if route == "consent-expiry-event":
        return _consent_scenario(ctx, by_event=True)
    return SCENARIOS[basename](ctx)


def _request(route: str, method: str, persona: str, ctx) -> int:
    return send(route, method, persona, ctx).status_code


def send(route: str, method: str, persona: str, ctx):
    """Call `route` with `method` as `persona`, on the scenario's target and with its body."""
    scenario = scenario_for(route, ctx)
    if route in URL_WITHOUT_ID or route.endswith("-list"):
        url = reverse(route)
    else:
        url = reverse(route, kwargs={"pk": scenario.target().pk})
    body = None
    if method == "POST":
        body = (
            scenario.create() if route.endswith("-list") else ACTION_BODIES.get(route, CORRECTION)
        )
        body = body(ctx) if callable(body) else body
    elif method == "PATCH" and scenario is not None:
        body = scenario.update()
    elif method == "PUT" and scenario is not None:
        body = (scenario.put or scenario.update)()
    client = api_for(getattr(ctx, persona) if persona != "anonymous" else None)
    return getattr(client, method.lower())(url, body, format="json")


@pytest.fixture
def ctx(
    counselor,
    other_counselor,
    prescriber,
    supervisor,
    front_desk,
    other_program_staff,
    patient,
    other_patient,
):
    # `other_patient` is on another caseload in every cell, so lists must leave it out.
    return SimpleNamespace(
        counselor=counselor,
        other_counselor=other_counselor,
        prescriber=prescriber,
        supervisor=supervisor,
        front_desk=front_desk,
        other_program_staff=other_program_staff,
        patient=patient,
    )


ROWS = sorted((route, method) for route in api_route_names() for method in METHODS)


@pytest.mark.parametrize(("route", "method"), ROWS, ids=[f"{r}:{m}" for r, m in ROWS])
def test_access(ctx, route, method):
    actual = tuple(_request(route, method, persona, ctx) for persona in PERSONAS)
    assert dict(zip(PERSONAS, actual, strict=True)) == dict(
        zip(PERSONAS, expected(route, method), strict=True)
    )
