"""The domain's rules hold for every caller: what a management command or a Celery task calls
is as strict as an HTTP request."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from caseload import instruments
from caseload.errors import Conflict, InvalidInput
from caseload.models import Assessment, CaseNote, MedicationRecord, Referral
from caseload.services.appointments import appointment_create, appointment_transition
from caseload.services.medications import medication_record, medication_update
from caseload.services.notes import note_create
from caseload.services.patients import patient_create
from caseload.services.records import record_mark_entered_in_error
from tests.factories import AppointmentFactory, CaseNoteFactory, ReferralFactory


def field_errors(excinfo) -> list[tuple[str, str]]:
    return [(field, code) for field, code, _ in excinfo.value.field_errors()]


def test_a_future_birth_date_and_last_use_are_refused_together(supervisor):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(InvalidInput) as excinfo:
        patient_create(
            actor=supervisor,
            fields={
                "mrn": "RULES-1",
                "given_name": "Ray",
                "family_name": "Synthetic",
                "birth_date": tomorrow,
                "last_use_at": timezone.now() + timedelta(days=2),
            },
        )
    assert field_errors(excinfo) == [
        ("birth_date", "out_of_range"),
        ("last_use_at", "out_of_range"),
    ]


def test_a_note_dated_in_the_future_is_refused_as_text_too(counselor, patient):
    future = (timezone.now() + timedelta(days=1)).isoformat()
    with pytest.raises(InvalidInput) as excinfo:
        note_create(actor=counselor, patient=patient, fields={"written_at": future, "body": "x"})
    assert field_errors(excinfo) == [("written_at", "out_of_range")]
    assert not CaseNote.objects.exists()


def test_an_appointment_in_the_past_is_refused(counselor, patient):
    start = timezone.now() - timedelta(days=1)
    with pytest.raises(InvalidInput) as excinfo:
        appointment_create(
            actor=counselor,
            patient=patient,
            fields={
                "staff": counselor,
                "kind": "counseling",
                "start": start,
                "end": start + timedelta(hours=1),
            },
        )
    assert field_errors(excinfo) == [("start", "in_past")]


def test_illegal_appointment_moves_are_refused_outside_http(counselor, patient):
    appointment = AppointmentFactory(actor=counselor, patient=patient, staff=counselor)
    with pytest.raises(Conflict) as excinfo:
        appointment_transition(appointment=appointment, actor=counselor, to="fulfilled")
    assert excinfo.value.code == "illegal_transition"


@pytest.mark.parametrize("status", ["entered_in_error"])
def test_no_write_but_the_correction_sets_entered_in_error(prescriber, patient, status):
    fields = {
        "medication": "methadone",
        "dose": "30",
        "dose_unit": "mg",
        "frequency": "daily",
        "route": "oral",
        "start_date": timezone.localdate(),
    }
    with pytest.raises(InvalidInput):
        medication_record(patient=patient, actor=prescriber, fields=fields | {"status": status})
    record = medication_record(patient=patient, actor=prescriber, fields=fields)
    with pytest.raises(InvalidInput):
        medication_update(
            record=record, actor=prescriber, changes={"status": status}, expected_version=None
        )
    assert MedicationRecord.objects.get(pk=record.pk).status == "active"


def test_every_clinical_record_is_corrected_one_way_and_then_frozen(counselor, patient):
    for record in (
        CaseNoteFactory(actor=counselor, patient=patient),
        ReferralFactory(actor=counselor, patient=patient),
    ):
        corrected = record_mark_entered_in_error(instance=record, actor=counselor, reason="Dup.")
        assert corrected.is_entered_in_error
        with pytest.raises(Conflict) as excinfo:
            record_mark_entered_in_error(instance=corrected, actor=counselor, reason="Again.")
        assert excinfo.value.code == "entered_in_error"
    assert Referral.objects.get().entered_in_error_reason == "Dup."


def test_a_correction_without_a_reason_is_refused_by_the_database(counselor, patient):
    referral = ReferralFactory(actor=counselor, patient=patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(status="entered_in_error")


def test_appointments_are_not_corrected_by_entered_in_error(counselor, patient):
    appointment = AppointmentFactory(actor=counselor, patient=patient, staff=counselor)
    with pytest.raises(TypeError):
        record_mark_entered_in_error(instance=appointment, actor=counselor, reason="x")


@pytest.mark.parametrize(
    ("instrument", "total"),
    [(instruments.COWS, instruments.max_total(instruments.COWS) + 1), (instruments.SOWS, 65)],
)
def test_totals_beyond_the_scale_are_refused_by_the_database(counselor, patient, instrument, total):
    assert instruments.max_total(instruments.COWS) == 48
    assert instruments.max_total(instruments.SOWS) == 64
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(
            patient=patient,
            instrument=instrument,
            items={},
            administered_at=timezone.now(),
            administered_by=counselor,
            instrument_version="x",
            total_score=total,
        )
