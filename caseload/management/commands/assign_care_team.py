import uuid

from django.core.management.base import CommandError
from django.utils import timezone

from caseload.models import Enrollment, EnrollmentStatus, LevelOfCare, Patient, Staff
from caseload.permissions import OPERATOR
from caseload.services.enrollments import care_team_assign, enrollment_create

from ._output import JsonCommand


class Command(JsonCommand):
    help = "Assign a patient's counselor (and prescriber) on their open enrollment."

    def add_arguments(self, parser):
        parser.add_argument("patient_id")
        parser.add_argument("--counselor", required=True, metavar="USERNAME")
        parser.add_argument("--prescriber", metavar="USERNAME")

    def handle(self, *args, patient_id, counselor, prescriber=None, **options):
        patient = Patient.objects.filter(pk=_uuid_or_none(patient_id)).first()
        if patient is None:
            raise CommandError(f"patient: no patient {patient_id!r}")
        counselor_obj = _staff(counselor, "counselor")
        prescriber_obj = _staff(prescriber, "prescriber") if prescriber else None
        enrollment = (
            Enrollment.objects.filter(patient=patient)
            .exclude(status=EnrollmentStatus.DISCHARGED)
            .first()
        )
        if enrollment is None:
            enrollment = enrollment_create(
                actor=OPERATOR,
                patient=patient,
                fields={
                    "status": EnrollmentStatus.INTAKE,
                    "level_of_care": LevelOfCare.OUTPATIENT,
                    "admitted_on": timezone.localdate(),
                    "counselor": counselor_obj,
                    "prescriber": prescriber_obj,
                },
            )
        else:
            enrollment = care_team_assign(
                enrollment=enrollment,
                actor=OPERATOR,
                counselor=counselor_obj,
                prescriber=prescriber_obj,
            )
        self.emit(
            {
                "patient": str(patient.pk),
                "enrollment": str(enrollment.pk),
                "counselor": counselor_obj.username,
                "prescriber": enrollment.prescriber.username if enrollment.prescriber else None,
            }
        )


def _staff(username: str, field: str) -> Staff:
    staff = Staff.objects.filter(username=username).first()
    if staff is None:
        raise CommandError(f"{field}: no staff member {username!r}")
    return staff


def _uuid_or_none(value: str) -> uuid.UUID | None:

    try:
        return uuid.UUID(value)
    except ValueError:
        return None
