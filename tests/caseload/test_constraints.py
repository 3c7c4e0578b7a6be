"""Invariants hold in the database itself, not only in the services in front of it."""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from caseload.models import Appointment, Enrollment, MedicationRecord, Patient, Referral


def violates(model, **fields) -> bool:
    try:
        with transaction.atomic():
            model.objects.create(**fields)
    except IntegrityError:
        return True
    return False


def test_a_patient_cannot_have_two_open_enrollments(patient, counselor):
    assert violates(
        Enrollment,
        patient=patient,
        counselor=counselor,
        status="intake",
        level_of_care="outpatient",
        admitted_on=date(2026, 1, 1),
    )


def test_discharged_enrollments_may_accumulate(patient, counselor):
    for year in (2024, 2025):
        Enrollment.objects.create(
            patient=patient,
            counselor=counselor,
            status="discharged",
            level_of_care="outpatient",
            admitted_on=date(year, 1, 1),
            discharged_on=date(year, 2, 1),
            discharge_reason="completed",
        )
    assert patient.enrollments.count() == 3


def test_a_discharge_needs_a_date_after_admission(other_patient, counselor):
    common = {
        "patient": other_patient,
        "counselor": counselor,
        "level_of_care": "outpatient",
        "admitted_on": date(2026, 3, 1),
    }
    other_patient.enrollments.all().update(
        status="discharged", discharged_on=timezone.localdate(), discharge_reason="completed"
    )
    assert violates(Enrollment, status="discharged", **common)
    assert violates(Enrollment, status="discharged", discharged_on=date(2026, 2, 1), **common)
    assert violates(Enrollment, status="active", discharged_on=date(2026, 4, 1), **common)


def test_a_discharge_carries_a_listed_reason_and_active_care_a_treatment_consent(
    other_patient, counselor
):
    other_patient.enrollments.all().update(
        status="discharged", discharged_on=timezone.localdate(), discharge_reason="died"
    )
    common = {
        "patient": other_patient,
        "counselor": counselor,
        "level_of_care": "outpatient",
        "admitted_on": date(2026, 3, 1),
    }
    discharged = {"status": "discharged", "discharged_on": date(2026, 4, 1)}
    assert violates(Enrollment, **discharged, **common)
    assert violates(Enrollment, **discharged, discharge_reason="moved away", **common)
    assert violates(Enrollment, status="intake", discharge_reason="completed", **common)
    assert violates(Enrollment, status="active", **common)
    assert violates(Enrollment, status="intake", asam_level="2.2", **common)
    assert not violates(
        Enrollment, status="active", treatment_consent_signed_at=timezone.now(), **common
    )


def test_an_appointment_ends_after_it_starts(patient, counselor):
    start = timezone.now()
    assert violates(
        Appointment, patient=patient, staff=counselor, kind="counseling", start=start, end=start
    )
    assert violates(
        Appointment,
        patient=patient,
        staff=counselor,
        kind="party",
        start=start,
        end=start + timedelta(hours=1),
    )


def test_a_medication_dose_is_positive(patient, prescriber):
    common = {
        "patient": patient,
        "prescriber": prescriber,
        "medication": "methadone",
        "dose_unit": "mg",
        "frequency": "daily",
        "route": "oral",
        "start_date": date(2026, 1, 1),
    }
    assert violates(MedicationRecord, dose=0, **common)
    assert violates(MedicationRecord, dose=-5, **common)
    assert not violates(MedicationRecord, dose="0.5", **common)


def test_an_other_group_referral_names_the_group(patient):
    assert violates(
        Referral, patient=patient, group="other", group_name="", referred_on=date(2026, 1, 1)
    )


def test_an_mrn_is_unique_within_a_program_only(patient, other_program):
    assert violates(
        Patient,
        program=patient.program,
        mrn=patient.mrn,
        given_name="A",
        family_name="B",
        birth_date=date(1990, 1, 1),
    )
    assert not violates(
        Patient,
        program=other_program,
        mrn=patient.mrn,
        given_name="A",
        family_name="B",
        birth_date=date(1990, 1, 1),
    )


def test_page_size_is_capped_at_1000(as_user, supervisor):
    Patient.objects.bulk_create(
        Patient(
            program=supervisor.program,
            mrn=f"BULK{i:05d}",
            given_name="Bulk",
            family_name="Synthetic",
            birth_date=date(1990, 1, 1),
        )
        for i in range(1005)
    )
    api = as_user(supervisor)
    body = api.get("/api/v1/patients/?page_size=1000").json()
    assert len(body["results"]) == 1000
    assert body["next"] is not None
    refused = api.get("/api/v1/patients/?page_size=1001")
    assert refused.status_code == 400
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("page_size", "invalid_page_size")
    ]
