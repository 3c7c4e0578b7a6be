"""Synthetic test data, created through the domain services so grants and audit rows are real."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.utils import timezone

from caseload.models import Appointment, CaseNote, Enrollment, Patient, Program, Staff
from caseload.services.appointments import appointment_create
from caseload.services.enrollments import enrollment_create
from caseload.services.notes import note_create
from caseload.services.patients import patient_create
from caseload.services.programs import program_create, staff_create


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    code = factory.Sequence(lambda n: f"prog-{n}")
    name = factory.Sequence(lambda n: f"Test program {n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return program_create(**kwargs)


# Every persona signs in with this (synthetic) password, e.g. to re-authenticate for a token.
PERSONA_PASSWORD = "persona-passphrase-7"


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    username = factory.Sequence(lambda n: f"staff{n}")
    program = factory.SubFactory(ProgramFactory)
    role = "counselor"
    password = PERSONA_PASSWORD

    @classmethod
    def _create(cls, model_class, **kwargs):
        return staff_create(**kwargs)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"MRN{n:05d}")
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    birth_date = date(1985, 5, 17)
    last_use_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=30))

    @classmethod
    def _create(cls, model_class, actor: Staff, **kwargs):
        return patient_create(actor=actor, fields=kwargs)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    status = "active"
    level_of_care = "outpatient"
    admitted_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=3))
    treatment_consent_signed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    prescriber = None

    @classmethod
    def _create(cls, model_class, actor: Staff, patient: Patient, **kwargs):
        return enrollment_create(actor=actor, patient=patient, fields=kwargs)


class CaseNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseNote

    body = "Discussed coping strategies. (synthetic)"
    written_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))

    @classmethod
    def _create(cls, model_class, actor: Staff, patient: Patient, **kwargs):
        return note_create(actor=actor, patient=patient, fields=kwargs)


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    kind = "counseling"
    # An hour apart, so a staff member's factory appointments never overlap.
    start = factory.Sequence(lambda n: timezone.now() + timedelta(days=2, hours=n))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=50))
    location = "Room 1"

    @classmethod
    def _create(cls, model_class, actor: Staff, patient: Patient, booked_at=None, **kwargs):
        """`booked_at`: when it was booked, for appointments that start in the past."""
        return appointment_create(actor=actor, patient=patient, fields=kwargs, now=booked_at)


def _zero_cows_items() -> dict[str, int]:
    from caseload.instruments import item_keys

    return dict.fromkeys(item_keys("cows"), 0)


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "caseload.Assessment"

    instrument = "cows"
    items = factory.LazyFunction(_zero_cows_items)
    administered_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))

    @classmethod
    def _create(cls, model_class, actor: Staff, patient: Patient, **kwargs):
        from caseload.services.assessments import assessment_record

        return assessment_record(actor=actor, patient=patient, **kwargs)


def _sixty():
    from decimal import Decimal

    return Decimal("60")


class MedicationRecordFactory(factory.django.DjangoModelFactory):
    """Needs a prescriber as `actor`, or `prescriber=` when a supervisor records it."""

    class Meta:
        model = "caseload.MedicationRecord"

    medication = "methadone"
    dose = factory.LazyFunction(_sixty)
    dose_unit = "mg"
    frequency = "once daily"
    route = "oral"
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=2))

    @classmethod
    def _create(cls, model_class, actor: Staff, patient: Patient, **kwargs):
        from caseload.services.medications import medication_record

        return medication_record(actor=actor, patient=patient, fields=kwargs)


class DrugScreenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "caseload.DrugScreen"

    method = "presumptive"
    collected_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    results = factory.LazyFunction(
        lambda: [
            {"substance": "opiates", "result": "positive"},
            {"substance": "fentanyl", "result": "negative"},
        ]
    )

    @classmethod
    def _create(cls, model_class, actor: Staff, patient: Patient, **kwargs):
        from caseload.services.drug_screens import drug_screen_record

        return drug_screen_record(actor=actor, patient=patient, **kwargs)


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "caseload.Referral"

    group = "narcotics_anonymous"
    referred_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=1))

    @classmethod
    def _create(cls, model_class, actor: Staff, patient: Patient, **kwargs):
        from caseload.services.referrals import referral_create

        return referral_create(actor=actor, patient=patient, fields=kwargs)


def signed_plan(*, counselor: Staff, enrollment: Enrollment, review_due_on: date):
    """A treatment plan signed by counselor and patient whose review falls due on a given day
    (the review date is set directly: signing computes it from today)."""
    from caseload.services.treatment_plans import treatment_plan_create, treatment_plan_sign

    target = timezone.localdate() + timedelta(days=60)
    plan = treatment_plan_create(
        actor=counselor,
        enrollment=enrollment,
        fields={
            "problems": [{"description": "Opioid use."}],
            "goals": [
                {
                    "description": "Keep my job.",
                    "objectives": [{"description": "Attend visits.", "target_date": target}],
                }
            ],
            "interventions": [
                {"kind": "Counseling", "frequency": "weekly", "responsible": str(counselor.pk)}
            ],
        },
    )
    plan = treatment_plan_sign(plan=plan, actor=counselor, signed_by_patient_at=timezone.now())
    type(plan).objects.filter(pk=plan.pk).update(review_due_on=review_due_on)
    return plan
