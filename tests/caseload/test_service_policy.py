"""The domain decides who may: every write service asks the policy module, so a management
command, a Celery task or a script is held to the same rules as an HTTP request. A matrix of
service by actor, like the HTTP permission matrix: each cell calls the service directly and
records whether the policy let it through (the call succeeds) or refused it (Forbidden)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.errors import Forbidden
from caseload.models import IntegrationPrincipal
from caseload.permissions import OPERATOR, SCHEDULER
from caseload.services.appointments import appointment_create, appointment_transition
from caseload.services.assessments import assessment_record
from caseload.services.consents import consent_create
from caseload.services.drug_screens import drug_screen_record
from caseload.services.enrollments import enrollment_create
from caseload.services.exports import patient_export
from caseload.services.integrations import integration_disable, integration_rotate_secret
from caseload.services.medications import medication_record
from caseload.services.notes import note_create
from caseload.services.patients import patient_create, patient_update
from caseload.services.referrals import referral_create
from caseload.services.webhooks import webhook_create
from tests.api.v1.test_permission_matrix import COWS_ITEMS
from tests.conftest import webhook_client
from tests.factories import AppointmentFactory, PatientFactory

ACTORS = (
    "counselor",
    "prescriber",
    "supervisor",
    "front_desk",
    "integration",
    "scheduler",
    "operator",
)
ALLOWED, REFUSED = "allowed", "refused"
Y, N = ALLOWED, REFUSED

# fmt: off
#                                   C  P  S  FD I  Sch Op
MATRIX: dict[str, tuple[str, ...]] = {
    "medication_record":           (N, Y, Y, N, N, N, N),
    "note_create":                 (Y, N, Y, N, N, N, N),
    "assessment_record":           (Y, Y, Y, N, N, N, N),
    "drug_screen_record":          (Y, Y, Y, N, N, N, N),
    "referral_create":             (Y, N, Y, N, N, N, N),
    "appointment_create":          (Y, Y, Y, Y, N, N, N),
    "appointment_cancel":          (Y, Y, Y, Y, N, N, N),
    "appointment_noshow":          (Y, Y, Y, Y, N, Y, N),
    "consent_create":              (Y, N, Y, N, N, N, N),
    "patient_create":              (N, N, Y, N, N, N, N),
    "patient_contact_update":      (Y, N, Y, Y, N, N, N),
    "enrollment_create":           (N, N, Y, N, N, N, Y),
    "patient_export":              (Y, N, Y, N, N, N, N),
    "webhook_create":              (N, N, Y, N, N, N, N),
    "integration_disable":         (N, N, Y, N, N, N, Y),
    "integration_rotate_secret":   (N, N, Y, N, N, N, Y),
}
# fmt: on


def _medication(c, actor):
    fields = {
        "medication": "buprenorphine",
        "dose": "8",
        "dose_unit": "mg",
        "frequency": "daily",
        "route": "sublingual",
        "start_date": timezone.localdate(),
        "prescriber": c.prescriber,
    }
    return medication_record(patient=c.patient, actor=actor, fields=fields)


def _appointment(c, actor):
    start = (timezone.now() + timedelta(days=3, minutes=len(c.booked) * 90)).replace(microsecond=0)
    c.booked.append(start)
    fields = {"staff": c.counselor, "kind": "counseling", "start": start}
    return appointment_create(
        actor=actor, patient=c.patient, fields=fields | {"end": start + timedelta(hours=1)}
    )


def _past_appointment(c):
    appointment = AppointmentFactory(actor=c.supervisor, patient=c.patient, staff=c.counselor)
    # Started an hour ago: only then may a no-show be recorded.
    type(appointment).objects.filter(pk=appointment.pk).update(
        start=timezone.now() - timedelta(hours=1), end=timezone.now() - timedelta(minutes=10)
    )
    appointment.refresh_from_db()
    return appointment


def _consent_fields(c):
    return {
        "recipient_name": "County drug court",
        "purpose": "Report attendance to the court.",
        "information": ["appointments"],
        "expires_at": timezone.now() + timedelta(days=90),
        "signed_by": "The patient",
        "signed_at": timezone.now() - timedelta(hours=1),
        "revocation_notice": True,
        "redisclosure_statement": True,
        "treatment_not_conditioned_statement": True,
        "signer_role": "patient",
    }


CALLS = {
    "medication_record": _medication,
    "note_create": lambda c, a: note_create(
        actor=a, patient=c.patient, fields={"body": "Seen.", "written_at": timezone.now()}
    ),
    "assessment_record": lambda c, a: assessment_record(
        actor=a,
        patient=c.patient,
        instrument="cows",
        items=COWS_ITEMS,
        administered_at=timezone.now(),
    ),
    "drug_screen_record": lambda c, a: drug_screen_record(
        patient=c.patient,
        actor=a,
        collected_at=timezone.now(),
        method="presumptive",
        results=[{"substance": "opioids", "result": "negative"}],
    ),
    "referral_create": lambda c, a: referral_create(
        patient=c.patient,
        actor=a,
        fields={"group": "narcotics_anonymous", "referred_on": timezone.localdate()},
    ),
    "appointment_create": _appointment,
    "appointment_cancel": lambda c, a: appointment_transition(
        appointment=_appointment(c, c.supervisor), actor=a, to="cancelled", reason="Asked to move."
    ),
    "appointment_noshow": lambda c, a: appointment_transition(
        appointment=_past_appointment(c), actor=a, to="noshow"
    ),
    "consent_create": lambda c, a: consent_create(
        actor=a, patient=c.patient, fields=_consent_fields(c)
    ),
    "patient_create": lambda c, a: patient_create(
        actor=a,
        fields={
            "mrn": f"M-{uuid.uuid4().hex[:8]}",
            "given_name": "Eli",
            "family_name": "Synthetic",
            "birth_date": "1991-04-05",
        },
    ),
    "patient_contact_update": lambda c, a: patient_update(
        patient=c.patient, actor=a, changes={"phone": "555-0142"}, expected_version=None
    ),
    "enrollment_create": lambda c, a: enrollment_create(
        actor=a,
        patient=PatientFactory(actor=c.supervisor),
        fields={
            "level_of_care": "outpatient",
            "counselor": c.counselor,
            "admitted_on": timezone.localdate(),
        },
    ),
    "patient_export": lambda c, a: patient_export(
        actor=a,
        patient=c.patient,
        consent=consent_create(actor=c.supervisor, patient=c.patient, fields=_consent_fields(c)),
    ),
    "webhook_create": lambda c, a: webhook_create(
        actor=a,
        fields={
            "url": "https://hooks.example.org/caseload",
            "events": ["appointment.created"],
            "client_id": webhook_client(c.supervisor.program).pk,
        },
    ),
    "integration_disable": lambda c, a: integration_disable(
        client=webhook_client(c.supervisor.program), actor=a
    ),
    "integration_rotate_secret": lambda c, a: integration_rotate_secret(
        client=webhook_client(c.supervisor.program), actor=a
    ),
}


@pytest.fixture
def c(counselor, prescriber, supervisor, front_desk, patient):
    from types import SimpleNamespace

    client = webhook_client(supervisor.program, scopes=("appointments:read", "patients:read"))
    return SimpleNamespace(
        counselor=counselor,
        prescriber=prescriber,
        supervisor=supervisor,
        front_desk=front_desk,
        patient=patient,
        booked=[],
        integration=IntegrationPrincipal(client=client, scopes=frozenset(client.scopes)),
        scheduler=SCHEDULER,
        operator=OPERATOR,
    )


def test_every_service_has_a_row_and_every_actor_a_column():
    assert set(MATRIX) == set(CALLS)
    assert all(len(row) == len(ACTORS) for row in MATRIX.values())


CELLS = [(service, actor) for service in MATRIX for actor in ACTORS]


@pytest.mark.parametrize(("service", "actor"), CELLS, ids=[f"{s}:{a}" for s, a in CELLS])
def test_the_policy_decides_in_the_service(c, service, actor):
    expected = MATRIX[service][ACTORS.index(actor)]
    try:
        CALLS[service](c, getattr(c, actor))
        actual = ALLOWED
    except Forbidden:
        actual = REFUSED
    assert actual == expected


def test_a_command_acting_as_a_counselor_cannot_record_a_medication(c):
    """The finding this matrix pins: no service lets a non-prescriber through."""
    with pytest.raises(Forbidden):
        _medication(c, c.counselor)
    with pytest.raises(Forbidden):
        _medication(c, None)


def test_the_system_actor_is_named_in_the_audit_log(c):
    from caseload.models import AuditEvent

    appointment = _past_appointment(c)
    appointment_transition(appointment=appointment, actor=SCHEDULER, to="noshow")
    event = AuditEvent.objects.get(action="transition", resource_id=str(appointment.pk))
    assert (event.actor_id, event.role, event.detail["system"]) == (None, "system", "scheduler")
