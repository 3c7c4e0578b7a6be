"""Every action of the audit log is written where it happens, with who, which patients, the
outcome, the status and the request's id; every kind of refusal is an event too."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from caseload.models import AuditAction, AuditEvent
from caseload.services.disclosures import ledger_disclosure
from caseload.services.tokens import token_issue, token_revoke
from tests.api.v1 import test_permission_matrix as matrix
from tests.api.v1.test_break_glass import CRISIS_REASON
from tests.api.v1.test_permission_matrix import consent_body, ctx
from tests.conftest import api_for
from tests.factories import (
    PERSONA_PASSWORD,
    AppointmentFactory,
    CaseNoteFactory,
    PatientFactory,
)

LOGIN = "/api/auth/login/"
__all__ = ["ctx"]  # the permission matrix's fixture: one of each persona and a patient


def newest(**filters) -> AuditEvent:
    return AuditEvent.objects.filter(**filters).order_by("-occurred_at", "-id").first()


def assert_event(response, event, *, actor, action, patients, outcome="allowed"):
    assert event is not None
    assert (event.actor, event.action, event.outcome) == (actor, action, outcome)
    assert event.role == (actor.role if actor else "")
    assert event.status_code == response.status_code
    assert event.request_id == response["X-Request-ID"]
    ids = [event.patient_id] if event.patient_id else sorted(event.patient_set.patients, key=str)
    assert ids == ([p.pk for p in patients] if patients else [None])


# One scenario per action: what to do, and which event it must leave.


def list_(c):
    CaseNoteFactory(actor=c.counselor, patient=c.patient)
    response = api_for(c.counselor).get("/api/v1/notes/")
    return response, c.counselor, [c.patient], {"resource_type": "casenote"}


def read(c):
    note = CaseNoteFactory(actor=c.counselor, patient=c.patient)
    response = api_for(c.counselor).get(f"/api/v1/notes/{note.pk}/")
    return response, c.counselor, [c.patient], {"resource_id": str(note.pk)}


def create(c):
    body = {"patient": str(c.patient.pk), "body": "Seen.", "written_at": timezone.now().isoformat()}
    response = api_for(c.counselor).post("/api/v1/notes/", body)
    return response, c.counselor, [c.patient], {"resource_type": "casenote"}


def update(c):
    response = api_for(c.front_desk).patch(f"/api/v1/patients/{c.patient.pk}/", {"phone": "1"})
    return response, c.front_desk, [c.patient], {"resource_type": "patient"}


def entered_in_error(c):
    note = CaseNoteFactory(actor=c.counselor, patient=c.patient)
    response = api_for(c.supervisor).post(
        f"/api/v1/notes/{note.pk}/entered-in-error/", {"reason": "Wrong patient."}
    )
    return response, c.supervisor, [c.patient], {"resource_id": str(note.pk)}


def transition(c):
    start = timezone.now() + timedelta(days=1)
    booked = AppointmentFactory(
        actor=c.counselor, patient=c.patient, staff=c.counselor, start=start
    )
    response = api_for(c.front_desk).post(
        f"/api/v1/appointments/{booked.pk}/cancel/", {"reason": "Asked to move it."}
    )
    return response, c.front_desk, [c.patient], {"detail__to": "cancelled"}


def export(c):
    consent = api_for(c.counselor).post("/api/v1/consents/", consent_body(c.patient)).json()
    response = api_for(c.counselor).post(
        f"/api/v1/patients/{c.patient.pk}/export/", {"consent": consent["id"]}
    )
    return response, c.counselor, [c.patient], {"resource_type": "disclosure"}


def grant(c):
    patient = PatientFactory(actor=c.supervisor)
    response = api_for(c.supervisor).post(
        "/api/v1/enrollments/",
        {
            "patient": str(patient.pk),
            "level_of_care": "outpatient",
            "counselor": str(c.counselor.pk),
            "admitted_on": timezone.localdate().isoformat(),
        },
    )
    return response, c.supervisor, [patient], {"detail__staff": str(c.counselor.pk)}


def revoke(c):
    consent = api_for(c.counselor).post("/api/v1/consents/", consent_body(c.patient)).json()
    response = api_for(c.supervisor).post(f"/api/v1/consents/{consent['id']}/revoke/")
    return response, c.supervisor, [c.patient], {"resource_id": consent["id"]}


def break_glass(c):
    response = api_for(c.other_counselor).post(
        f"/api/v1/patients/{c.patient.pk}/break-glass/",
        CRISIS_REASON,
    )
    return response, c.other_counselor, [c.patient], {"break_glass": True}


def patient_access(c):
    response = api_for(c.counselor).post(f"/api/v1/patients/{c.patient.pk}/record-copies/")
    return response, c.counselor, [c.patient], {"resource_id": str(c.patient.pk)}


def login(c):
    response = Client().post(LOGIN, {"username": "counselor", "password": PERSONA_PASSWORD})
    return response, c.counselor, [], {"resource_id": str(c.counselor.pk)}


def login_failed(c):
    response = Client().post(LOGIN, {"username": "counselor", "password": "not it at all"})
    return response, None, [], {"detail__reason": "invalid_credentials"}


def lockout(c):
    for _ in range(5):
        response = Client().post(LOGIN, {"username": "counselor", "password": "wrong guess"})
    return response, None, [], {"detail__username": "counselor"}


SCENARIOS = {
    AuditAction.LIST: list_,
    AuditAction.READ: read,
    AuditAction.CREATE: create,
    AuditAction.UPDATE: update,
    AuditAction.ENTERED_IN_ERROR: entered_in_error,
    AuditAction.TRANSITION: transition,
    AuditAction.EXPORT: export,
    AuditAction.GRANT: grant,
    AuditAction.REVOKE: revoke,
    AuditAction.BREAK_GLASS: break_glass,
    AuditAction.PATIENT_ACCESS: patient_access,
    AuditAction.LOGIN: login,
    AuditAction.LOGIN_FAILED: login_failed,
    AuditAction.LOCKOUT: lockout,
}


@pytest.fixture
def c(counselor, other_counselor, prescriber, supervisor, front_desk, patient, other_patient):
    return SimpleNamespace(
        counselor=counselor,
        other_counselor=other_counselor,
        prescriber=prescriber,
        supervisor=supervisor,
        front_desk=front_desk,
        patient=patient,
        other_patient=other_patient,
    )


@pytest.mark.parametrize("action", list(SCENARIOS), ids=[str(a) for a in SCENARIOS])
def test_the_action_is_audited_where_it_happens(c, action):
    response, actor, patients, match = SCENARIOS[action](c)
    assert response.status_code < 400 or action in {"login_failed", "lockout"}, response.content
    event = newest(action=action, **match)
    outcome = "denied" if action in {"login_failed", "lockout"} else "allowed"
    if action in {"login", "login_failed", "lockout"}:
        # The login page answers a redirect or the form again; the event belongs to the account.
        assert event is not None and event.request_id == response["X-Request-ID"]
        assert (event.actor, event.outcome, event.program_id) == (
            actor,
            outcome,
            c.counselor.program_id,
        )
        return
    assert_event(response, event, actor=actor, action=action, patients=patients, outcome=outcome)


def test_a_disclosure_by_the_service_is_audited_with_every_patient(c):
    ledger_disclosure(
        patients=[c.patient, c.other_patient],
        recipient_name="Regional laboratory",
        purpose="Confirmatory testing",
        information=["drug_screens"],
        basis="qsoa",
        actor=c.supervisor,
    )
    event = newest(action="disclose")
    assert event.patient_set.patients == sorted([c.patient.pk, c.other_patient.pk], key=str)
    assert (event.actor, event.outcome, event.resource_type) == (
        c.supervisor,
        "allowed",
        "disclosure",
    )


def test_every_action_of_the_contract_has_a_scenario():
    assert set(SCENARIOS) | {AuditAction.DISCLOSE} == set(AuditAction)


# Refusals -----------------------------------------------------------------------------------


def test_a_403_is_a_denied_event(c):
    response = api_for(c.counselor).patch(
        f"/api/v1/medications/{PatientFactory.build().pk}/", {"dose": "9"}
    )
    assert response.status_code == 403  # counselors never change medications
    event = newest(outcome="denied")
    assert (event.actor, event.action, event.resource_type, event.status_code) == (
        c.counselor,
        "update",
        "medicationrecord",
        403,
    )


def test_a_404_on_a_record_that_exists_names_the_record_and_its_patient(c):
    note = CaseNoteFactory(actor=c.other_counselor, patient=c.other_patient)
    response = api_for(c.counselor).get(f"/api/v1/notes/{note.pk}/")
    assert response.status_code == 404
    assert_event(
        response,
        newest(outcome="denied"),
        actor=c.counselor,
        action="read",
        patients=[c.other_patient],
        outcome="denied",
    )


def test_a_post_naming_a_patient_off_the_caseload_is_a_denied_event(c):
    body = {
        "patient": str(c.other_patient.pk),
        "body": "x",
        "written_at": timezone.now().isoformat(),
    }
    response = api_for(c.counselor).post("/api/v1/notes/", body)
    assert response.status_code == 400
    event = newest(outcome="denied")
    assert_event(
        response,
        event,
        actor=c.counselor,
        action="create",
        patients=[c.other_patient],
        outcome="denied",
    )
    assert event.detail["named"] == {"patient": str(c.other_patient.pk)}


def test_a_stale_if_match_is_a_denied_event(c):
    response = api_for(c.supervisor).patch(
        f"/api/v1/patients/{c.patient.pk}/", {"phone": "2"}, HTTP_IF_MATCH='"v99"'
    )
    assert response.status_code == 412
    event = newest(outcome="denied")
    assert_event(
        response, event, actor=c.supervisor, action="update", patients=[c.patient], outcome="denied"
    )
    assert event.detail["code"] == "stale_etag"


def test_a_probe_of_a_patient_filter_is_recorded_against_that_patient(c):
    response = api_for(c.counselor).get("/api/v1/notes/", {"patient": str(c.other_patient.pk)})
    assert response.status_code == 200 and response.json()["results"] == []
    event = newest(action="list", actor=c.counselor)
    assert event.patient_id == c.other_patient.pk
    assert event.detail == {"count": 0, "filters": ["patient"], "patient": str(c.other_patient.pk)}


def test_a_probe_for_another_programs_patient_keeps_the_id_and_names_no_patient(c, foreign_patient):
    response = api_for(c.counselor).get("/api/v1/notes/", {"patient": str(foreign_patient.pk)})
    assert response.status_code == 200 and response.json()["results"] == []
    event = newest(action="list", actor=c.counselor)
    assert (event.patient_id, event.patient_set_id) == (None, None)
    assert event.detail["patient"] == str(foreign_patient.pk)


def test_a_revoked_token_is_a_failed_sign_in_of_its_owner(c):
    token, raw = token_issue(staff=c.counselor)
    token_revoke(token=token, actor=c.counselor)
    client = api_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    event = newest(action="login_failed")
    assert (event.outcome, event.status_code, event.program_id) == (
        "denied",
        401,
        c.counselor.program_id,
    )
    assert (event.resource_type, event.resource_id) == ("apitoken", str(token.pk))
    assert event.detail == {"via": "token", "reason": "invalid_token", "staff": str(c.counselor.pk)}
    assert event.request_id == response["X-Request-ID"]
    assert raw not in str(event.detail)


def test_an_unknown_token_is_a_failed_sign_in_of_nobody(c):
    client = api_for(None)
    client.credentials(HTTP_AUTHORIZATION="Bearer cl_" + "z" * 43)
    assert client.get("/api/v1/me/").status_code == 401
    event = newest(action="login_failed")
    assert (event.actor, event.program_id, event.resource_id) == (None, None, "")


def test_a_request_without_credentials_leaves_no_event(anonymous, patient):
    before = AuditEvent.objects.count()
    assert anonymous.get(f"/api/v1/patients/{patient.pk}/").status_code == 401
    assert AuditEvent.objects.count() == before


# Audit coverage from the router ---------------------------------------------------------------
# Every (route, method) some persona may call successfully (the permission matrix's 2xx cells)
# has an expectation here: the audit action its success writes, or why it writes none. A new
# route without a row fails `test_every_successful_route_has_an_audit_expectation`.
NO_PATIENT_DATA = "reads no patient information (the caller's own tokens, staff, configuration)"
# fmt: off
AUDIT_EXPECTATIONS: dict[tuple[str, str], tuple[str, str] | str] = {
    ("me", "GET"):                          NO_PATIENT_DATA,
    ("instruments", "GET"):                 NO_PATIENT_DATA,
    ("staff-list", "GET"):                  NO_PATIENT_DATA,
    ("staff-detail", "GET"):                NO_PATIENT_DATA,
    ("staff-unlock-signin", "POST"):        ("update", "staff"),
    ("apitoken-list", "GET"):               NO_PATIENT_DATA,
    ("apitoken-detail", "GET"):             NO_PATIENT_DATA,
    ("apitoken-list", "POST"):              ("login", "staff"),
    ("apitoken-revoke", "POST"):            ("revoke", "apitoken"),
    ("apitoken-revoke-all", "POST"):        ("revoke", "staff"),
    ("integrationclient-list", "GET"):      NO_PATIENT_DATA,
    ("integrationclient-detail", "GET"):    NO_PATIENT_DATA,
    ("integrationclient-disable", "POST"):  ("update", "integrationclient"),
    ("integrationclient-rotate", "POST"):   ("update", "integrationclient"),
    ("calendarfeed-list", "GET"):           NO_PATIENT_DATA,
    ("calendarfeed-detail", "GET"):         NO_PATIENT_DATA,
    ("calendarfeed-list", "POST"):          ("create", "calendarfeed"),
    ("calendarfeed-revoke", "POST"):        ("revoke", "calendarfeed"),
    ("patient-list", "GET"):                ("list", "patient"),
    ("patient-list", "POST"):               ("create", "patient"),
    ("patient-detail", "GET"):              ("read", "patient"),
    ("patient-detail", "PUT"):              ("update", "patient"),
    ("patient-detail", "PATCH"):            ("update", "patient"),
    ("patient-history", "GET"):             ("read", "patient"),
    ("patient-withdrawal-trend", "GET"):    ("read", "patient"),
    ("patient-break-glass", "POST"):        ("break_glass", "breakglass"),
    ("patient-disclosures", "GET"):         ("list", "disclosure"),
    ("patient-disclosures", "POST"):        ("create", "disclosure"),
    ("patient-export", "POST"):             ("export", "disclosure"),
    ("patient-record-copies", "POST"):      ("patient_access", "patient"),
    ("patient-amendments", "GET"):          ("list", "amendmentrequest"),
    ("patient-amendments", "POST"):         ("create", "amendmentrequest"),
    ("amendmentrequest-list", "GET"):       ("list", "amendmentrequest"),
    ("amendmentrequest-detail", "GET"):     ("read", "amendmentrequest"),
    ("amendmentrequest-accept", "POST"):    ("transition", "amendmentrequest"),
    ("amendmentrequest-deny", "POST"):      ("transition", "amendmentrequest"),
    ("amendmentrequest-disagreement", "POST"): ("update", "amendmentrequest"),
    ("enrollment-list", "GET"):             ("list", "enrollment"),
    ("enrollment-list", "POST"):            ("create", "enrollment"),
    ("enrollment-detail", "GET"):           ("read", "enrollment"),
    ("enrollment-detail", "PUT"):           ("update", "enrollment"),
    ("enrollment-detail", "PATCH"):         ("update", "enrollment"),
    ("enrollment-discharge", "POST"):       ("transition", "enrollment"),
    ("casenote-list", "GET"):               ("list", "casenote"),
    ("casenote-list", "POST"):              ("create", "casenote"),
    ("casenote-detail", "GET"):             ("read", "casenote"),
    ("casenote-detail", "PUT"):             ("update", "casenote"),
    ("casenote-detail", "PATCH"):           ("update", "casenote"),
    ("casenote-entered-in-error", "POST"):  ("entered_in_error", "casenote"),
    ("appointment-list", "GET"):            ("list", "appointment"),
    ("appointment-list", "POST"):           ("create", "appointment"),
    ("appointment-detail", "GET"):          ("read", "appointment"),
    ("appointment-detail", "PUT"):          ("update", "appointment"),
    ("appointment-detail", "PATCH"):        ("update", "appointment"),
    ("appointment-arrive", "POST"):         ("transition", "appointment"),
    ("appointment-cancel", "POST"):         ("transition", "appointment"),
    ("appointment-reminders", "GET"):       ("read", "appointment"),
    ("assessment-list", "GET"):             ("list", "assessment"),
    ("assessment-list", "POST"):            ("create", "assessment"),
    ("assessment-detail", "GET"):           ("read", "assessment"),
    ("assessment-entered-in-error", "POST"): ("entered_in_error", "assessment"),
    ("medicationrecord-list", "GET"):       ("list", "medicationrecord"),
    ("medicationrecord-list", "POST"):      ("create", "medicationrecord"),
    ("medicationrecord-detail", "GET"):     ("read", "medicationrecord"),
    ("medicationrecord-detail", "PUT"):     ("update", "medicationrecord"),
    ("medicationrecord-detail", "PATCH"):   ("update", "medicationrecord"),
    ("medicationrecord-entered-in-error", "POST"): ("entered_in_error", "medicationrecord"),
    ("drugscreen-list", "GET"):             ("list", "drugscreen"),
    ("drugscreen-list", "POST"):            ("create", "drugscreen"),
    ("drugscreen-detail", "GET"):           ("read", "drugscreen"),
    ("drugscreen-entered-in-error", "POST"): ("entered_in_error", "drugscreen"),
    ("referral-list", "GET"):               ("list", "referral"),
    ("referral-list", "POST"):              ("create", "referral"),
    ("referral-detail", "GET"):             ("read", "referral"),
    ("referral-entered-in-error", "POST"):  ("entered_in_error", "referral"),
    ("referral-attending", "POST"):         ("transition", "referral"),
    ("referral-completed", "POST"):         ("transition", "referral"),
    ("referral-declined", "POST"):          ("transition", "referral"),
    ("placement-list", "GET"):              ("list", "placement"),
    ("placement-list", "POST"):             ("create", "placement"),
    ("placement-detail", "GET"):            ("read", "placement"),
    ("placement-entered-in-error", "POST"): ("entered_in_error", "placement"),
    ("treatmentplan-list", "GET"):          ("list", "treatmentplan"),
    ("treatmentplan-list", "POST"):         ("create", "treatmentplan"),
    ("treatmentplan-detail", "GET"):        ("read", "treatmentplan"),
    ("treatmentplan-detail", "PUT"):        ("update", "treatmentplan"),
    ("treatmentplan-detail", "PATCH"):      ("update", "treatmentplan"),
    ("treatmentplan-entered-in-error", "POST"): ("entered_in_error", "treatmentplan"),
    ("treatmentplan-sign", "POST"):         ("transition", "treatmentplan"),
    ("treatmentplan-review", "POST"):       ("update", "treatmentplan"),
    ("report-census", "GET"):               ("read", "report"),
    ("report-admissions-discharges", "GET"): ("read", "report"),
    ("report-plan-reviews", "GET"):         ("read", "report"),
    ("report-pharmacotherapy-continuity", "GET"): ("read", "report"),
    ("auditevent-list", "GET"):             ("list", "auditevent"),
    ("auditevent-detail", "GET"):           ("read", "auditevent"),
    ("breakglass-list", "GET"):             ("list", "breakglass"),
    ("breakglass-detail", "GET"):           ("read", "breakglass"),
    ("breakglass-review", "POST"):          ("update", "breakglass"),
    ("consent-list", "GET"):                ("list", "consent"),
    ("consent-list", "POST"):               ("create", "consent"),
    ("consent-detail", "GET"):              ("read", "consent"),
    ("consent-revoke", "POST"):             ("revoke", "consent"),
    ("consent-expiry-event", "POST"):       ("transition", "consent"),
    ("disclosure-list", "GET"):             ("list", "disclosure"),
    ("disclosure-detail", "GET"):           ("read", "disclosure"),
    ("followup-list", "GET"):               ("list", "followup"),
    ("followup-detail", "GET"):             ("read", "followup"),
    ("followup-done", "POST"):              ("transition", "followup"),
    ("alert-list", "GET"):                  ("list", "alert"),
    ("alert-detail", "GET"):                ("read", "alert"),
    ("alert-acknowledge", "POST"):          ("transition", "alert"),
    ("webhook-list", "GET"):                NO_PATIENT_DATA,
    ("webhook-detail", "GET"):              NO_PATIENT_DATA,
    ("webhook-deliveries", "GET"):          NO_PATIENT_DATA,
    ("webhook-list", "POST"):               ("create", "webhooksubscription"),
    ("webhook-detail", "PUT"):              ("update", "webhooksubscription"),
    ("webhook-detail", "PATCH"):            ("update", "webhooksubscription"),
    ("webhook-replay", "POST"):             ("update", "webhooksubscription"),
    ("webhook-rotate-secret", "POST"):      ("update", "webhooksubscription"),
}
# fmt: on


def _first_allowed(route: str, method: str) -> str | None:
    cells = zip(matrix.PERSONAS, matrix.expected(route, method), strict=True)
    return next((persona for persona, code in cells if 200 <= code < 300), None)


SUCCESSFUL_ROWS = [(r, m) for r, m in matrix.ROWS if _first_allowed(r, m)]
AUDITED_ROWS = [row for row in SUCCESSFUL_ROWS if isinstance(AUDIT_EXPECTATIONS.get(row), tuple)]


def test_every_successful_route_has_an_audit_expectation():
    assert set(AUDIT_EXPECTATIONS) == set(SUCCESSFUL_ROWS)


@pytest.mark.parametrize(
    ("route", "method"), AUDITED_ROWS, ids=[f"{r}:{m}" for r, m in AUDITED_ROWS]
)
def test_each_route_writes_its_audit_event(ctx, route, method):
    persona = _first_allowed(route, method)
    user = getattr(ctx, persona)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    response = matrix.send(route, method, persona, ctx)
    assert 200 <= response.status_code < 300, response.content
    action, resource_type = AUDIT_EXPECTATIONS[(route, method)]
    written = AuditEvent.objects.exclude(pk__in=before).filter(
        actor=user, action=action, resource_type=resource_type, outcome="allowed"
    )
    assert written.filter(request_id=response["X-Request-ID"]).exists(), (
        f"{method} {route} wrote no {action} event on {resource_type}"
    )
