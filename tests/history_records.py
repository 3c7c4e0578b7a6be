"""A patient record with every kind of history entry, shared by the tests and bench/."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from caseload.services.placements import placement_record
from caseload.services.treatment_plans import treatment_plan_create
from tests.factories import (
    AppointmentFactory,
    AssessmentFactory,
    CaseNoteFactory,
    DrugScreenFactory,
    MedicationRecordFactory,
    ReferralFactory,
)


def fill_history(patient, counselor, prescriber, total: int) -> None:
    """Create `total` records, cycling through every record type, each at its own time.

    With the patient's enrollment, a total of 7 or more gives the history every type it lists
    (the treatment plan, one per enrollment, comes with the first record).
    """
    now, today = timezone.now(), timezone.localdate()
    makers = (
        lambda at, day: AssessmentFactory(actor=counselor, patient=patient, administered_at=at),
        lambda at, day: MedicationRecordFactory(actor=prescriber, patient=patient, start_date=day),
        lambda at, day: DrugScreenFactory(actor=counselor, patient=patient, collected_at=at),
        lambda at, day: ReferralFactory(actor=counselor, patient=patient, referred_on=day),
        # Booked when they start (a past visit), as deliberate overlaps: a bench may fill twice.
        lambda at, day: AppointmentFactory(
            actor=counselor,
            patient=patient,
            staff=counselor,
            start=at,
            booked_at=at,
            overlap_allowed=True,
        ),
        lambda at, day: CaseNoteFactory(actor=counselor, patient=patient, written_at=at),
        lambda at, day: _placement(patient, counselor, at),
    )
    if total:
        treatment_plan_create(
            actor=counselor, enrollment=patient.enrollments.get(), fields={"starts_on": today}
        )
    for i in range(total):
        at = now - timedelta(hours=1 + i)
        makers[i % len(makers)](at, today - timedelta(days=i // 24))


def _placement(patient, counselor, at) -> None:
    placement_record(
        actor=counselor,
        enrollment=patient.enrollments.get(),
        fields={
            "assessed_at": at,
            **{f"dimension_{n}": 1 for n in range(1, 7)},
            "recommended_level": "1",
            "actual_level": "1",
        },
    )
