"""A supervisor's pages: the audit log with filters, the break-the-glass review queue, alerts,
and lifting a sign-in lock; each on the same services and selectors as the API."""

from __future__ import annotations

from caseload.models import Alert, AlertStatus, AuditAction, AuditEvent, BreakGlass
from caseload.services.break_glass import break_glass_open
from caseload.services.signins import signin_attempt

from .conftest import console_for

REASON = "Covering a crisis call for a colleague tonight."


def test_the_audit_log_filters_by_patient_and_action(supervisor, counselor, patient):
    console_for(counselor).get(f"/console/patients/{patient.pk}/")
    client = console_for(supervisor)

    page = client.get("/console/audit/", {"patient": patient.pk, "action": "read"})

    assert page.status_code == 200
    assert b"counselor" in page.content
    event = AuditEvent.objects.filter(actor=supervisor, resource_type="auditevent").latest(
        "occurred_at"
    )
    assert event.action == AuditAction.LIST and event.patient_id == patient.pk


def test_a_counselor_reads_no_audit_log(counselor):
    assert console_for(counselor).get("/console/audit/").status_code == 403


def test_a_supervisor_reviews_a_break_the_glass_opening(supervisor, counselor, other_patient):
    opening = break_glass_open(actor=counselor, patient=other_patient, reason=REASON)
    client = console_for(supervisor)

    queue = client.get("/console/break-glass/")
    assert REASON.encode() in queue.content
    alerts = client.get("/console/alerts/")
    assert b"A clinician broke the glass" in alerts.content

    response = client.post(
        f"/console/break-glass/{opening.pk}/review/",
        {"note": "Checked with the on-call lead: justified.", "version": opening.version},
    )

    assert response.status_code == 302
    opening.refresh_from_db()
    assert opening.reviewed_by == supervisor
    assert REASON.encode() not in client.get("/console/break-glass/").content
    assert REASON.encode() in client.get("/console/break-glass/?reviewed=1").content


def test_a_review_without_a_note_is_refused_on_its_field(supervisor, counselor, other_patient):
    opening = break_glass_open(actor=counselor, patient=other_patient, reason=REASON)

    response = console_for(supervisor).post(f"/console/break-glass/{opening.pk}/review/", {})

    assert response.status_code == 400 and b"[required]" in response.content
    assert BreakGlass.objects.get(pk=opening.pk).reviewed_at is None


def test_a_counselor_reviews_nothing(counselor, other_patient):
    opening = break_glass_open(actor=counselor, patient=other_patient, reason=REASON)

    response = console_for(counselor).post(
        f"/console/break-glass/{opening.pk}/review/", {"note": "mine"}
    )

    assert response.status_code == 404


def test_alerts_are_acknowledged_through_the_service(supervisor, counselor, other_patient):
    break_glass_open(actor=counselor, patient=other_patient, reason=REASON)
    client = console_for(supervisor)
    alert = Alert.objects.get(recipient=supervisor)

    response = client.post(f"/console/alerts/{alert.pk}/acknowledge/")

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED


def test_a_supervisor_lifts_a_sign_in_lock(supervisor, counselor):
    for _ in range(5):
        signin_attempt(username=counselor.username, verify=lambda: None, source="10.0.0.9")
    client = console_for(supervisor)
    assert counselor.username.encode() in client.get("/console/signin-locks/").content

    response = client.post(f"/console/signin-locks/{counselor.pk}/unlock/")

    assert response.status_code == 302
    assert b"Nobody is locked out" in client.get("/console/signin-locks/").content
    assert AuditEvent.objects.filter(
        actor=supervisor, action=AuditAction.UPDATE, detail__change="unlock_signin"
    ).exists()


def test_only_a_supervisor_lifts_locks(counselor, front_desk):
    assert console_for(counselor).get("/console/signin-locks/").status_code == 403
    response = console_for(front_desk).post(f"/console/signin-locks/{counselor.pk}/unlock/")
    assert response.status_code == 403  # refused by the service
    assert AuditEvent.objects.filter(actor=front_desk, outcome="denied").exists()


def test_the_audit_log_finds_a_patient_by_mrn_and_names_patients_by_mrn(
    supervisor, counselor, patient
):
    console_for(counselor).get(f"/console/patients/{patient.pk}/")

    page = console_for(supervisor).get("/console/audit/", {"mrn": patient.mrn})

    assert page.status_code == 200
    assert f">{patient.mrn}</a>".encode() in page.content
