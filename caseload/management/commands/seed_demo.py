"""Load a synthetic demo program. Every person in it is invented. Safe to run twice."""

import os
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from caseload import instruments
from caseload.models import Patient, Program, Role, Staff
from caseload.services.appointments import appointment_create, appointment_transition
from caseload.services.assessments import assessment_record
from caseload.services.drug_screens import drug_screen_record
from caseload.services.enrollments import enrollment_create
from caseload.services.medications import medication_record
from caseload.services.notes import note_create
from caseload.services.patients import patient_create
from caseload.services.programs import program_create, staff_create
from caseload.services.referrals import referral_create, referral_transition
from caseload.services.tokens import token_issue

from ._output import JsonCommand

PROGRAM = ("demo", "Riverside Recovery (demo)")
STAFF = [
    ("demo.supervisor", Role.SUPERVISOR, "Dana", "Okafor"),
    ("demo.counselor", Role.COUNSELOR, "Sam", "Lindqvist"),
    ("demo.counselor2", Role.COUNSELOR, "Ria", "Moreno"),
    ("demo.prescriber", Role.PRESCRIBER, "Lee", "Achterberg"),
    ("demo.frontdesk", Role.FRONT_DESK, "Kit", "Bramwell"),
]
# (mrn, given, family, birth date, hours since last use, counselor, level of care)
PATIENTS = [
    ("DEMO-0001", "Avery", "Testperson", date(1988, 3, 14), 74, "demo.counselor", "inpatient"),
    ("DEMO-0002", "Jordan", "Samplewood", date(1979, 11, 2), 60, "demo.counselor", "outpatient"),
    (
        "DEMO-0003",
        "Casey",
        "Fictional",
        date(1995, 6, 30),
        400,
        "demo.counselor2",
        "intensive_outpatient",
    ),
    ("DEMO-0004", "Morgan", "Placeholder", date(1983, 1, 9), None, "demo.counselor2", "outpatient"),
]


class Command(JsonCommand):
    help = "Load a synthetic demo program (no real people). Safe to run twice."

    def handle(self, *args, **options):
        password = os.environ.get("CASELOAD_DEMO_PASSWORD", "demo-password-not-secret")
        with transaction.atomic():
            program = Program.objects.filter(code=PROGRAM[0]).first() or program_create(
                code=PROGRAM[0], name=PROGRAM[1]
            )
            staff = {
                username: _staff(program, username, role, first, last, password)
                for username, role, first, last in STAFF
            }
            for row in PATIENTS:
                _patient(staff, *row)
            _induction_series(staff)
            _missed_visit_and_positive_screen(staff)
        _, token = token_issue(staff=staff["demo.counselor"], name="seed_demo")
        _, supervisor_token = token_issue(staff=staff["demo.supervisor"], name="seed_demo")
        self.stdout.write(
            f"Demo program '{program.code}' ready. Log in at http://127.0.0.1:8000/api/auth/login/"
            f" as any of {', '.join(staff)} with password '{password}'."
        )
        self.emit(
            {
                "program": program.code,
                "password": password,
                "users": sorted(staff),
                "counselor_token": token,
                "supervisor_token": supervisor_token,
            }
        )


def _staff(program, username, role, first, last, password) -> Staff:
    existing = Staff.objects.filter(username=username).first()
    if existing:
        return existing
    return staff_create(
        username=username,
        program=program,
        role=role,
        password=password,
        first_name=first,
        last_name=last,
    )


def _patient(staff, mrn, given, family, birth_date, hours_since_use, counselor, level) -> None:
    supervisor = staff["demo.supervisor"]
    if Patient.objects.filter(program=supervisor.program, mrn=mrn).exists():
        return
    now = timezone.now()
    last_use = now - timedelta(hours=hours_since_use) if hours_since_use is not None else None
    patient = patient_create(
        actor=supervisor,
        fields={
            "mrn": mrn,
            "given_name": given,
            "family_name": family,
            "birth_date": birth_date,
            "phone": "555-0100",
            "last_use_at": last_use,
        },
    )
    enrollment_create(
        actor=supervisor,
        patient=patient,
        fields={
            "status": "active",
            "level_of_care": level,
            "counselor": staff[counselor],
            "prescriber": staff["demo.prescriber"],
            "admitted_on": timezone.localdate(),
        },
    )
    # One hour a patient (DEMO-0001 at 10:00, DEMO-0002 at 11:00, ...): no counselor is
    # double-booked.
    tomorrow = datetime.combine(
        timezone.localdate() + timedelta(days=1),
        time(9 + int(mrn.rsplit("-", 1)[1]) % 9),
        tzinfo=timezone.get_current_timezone(),
    )
    appointment_create(
        actor=staff["demo.frontdesk"],
        patient=patient,
        fields={
            "staff": staff[counselor],
            "kind": "counseling",
            "start": tomorrow,
            "end": tomorrow + timedelta(minutes=50),
            "location": "Room 2",
        },
    )
    note_create(
        actor=staff[counselor],
        patient=patient,
        fields={
            "written_at": now - timedelta(hours=1),
            "body": "Intake conversation; goals agreed. (Synthetic demo note.)",
        },
    )


# Hours after last use and totals: an induction whose withdrawal scores fall day by day.
COWS_SERIES = [(14, 28), (20, 22), (26, 17), (36, 12), (48, 8), (60, 5), (70, 3)]
SOWS_SERIES = [(14, 40), (26, 26), (48, 12), (70, 4)]


def _items_for_total(instrument: str, total: int) -> dict[str, int]:
    """Answers that add up to `total`, taking each item's largest legal value that fits."""
    allowed = instruments.allowed_values(instrument)
    items = {}
    for key in instruments.item_keys(instrument):
        items[key] = max(v for v in allowed[key] if v <= total)
        total -= items[key]
    return items


def _induction_series(staff) -> None:
    """DEMO-0001: buprenorphine induction with falling COWS and SOWS totals."""
    patient = Patient.objects.get(program=staff["demo.supervisor"].program, mrn="DEMO-0001")
    if patient.assessments.exists():
        return
    for instrument, series in (("cows", COWS_SERIES), ("sows", SOWS_SERIES)):
        for hours, total in series:
            assessment_record(
                patient=patient,
                actor=staff["demo.counselor"],
                instrument=instrument,
                items=_items_for_total(instrument, total),
                administered_at=patient.last_use_at + timedelta(hours=hours),
            )
    # Synthetic record of an order, as a prescriber would enter it; not guidance.
    medication_record(
        patient=patient,
        actor=staff["demo.prescriber"],
        fields={
            "medication": "buprenorphine",
            "dose": 8,
            "dose_unit": "mg",
            "frequency": "once daily",
            "route": "sublingual",
            "start_date": (patient.last_use_at + timedelta(hours=14)).date(),
        },
    )


def _missed_visit_and_positive_screen(staff) -> None:
    """DEMO-0002: a missed appointment, a screen positive for fentanyl, an NA referral."""
    patient = Patient.objects.get(program=staff["demo.supervisor"].program, mrn="DEMO-0002")
    if patient.drug_screens.exists():
        return
    yesterday = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    missed = appointment_create(
        actor=staff["demo.frontdesk"],
        patient=patient,
        fields={
            "staff": staff["demo.counselor"],
            "kind": "counseling",
            "start": yesterday,
            "end": yesterday + timedelta(minutes=50),
            "location": "Room 2",
        },
        now=yesterday - timedelta(days=3),  # booked three days before
    )
    appointment_transition(appointment=missed, actor=staff["demo.frontdesk"], to="noshow")
    drug_screen_record(
        patient=patient,
        actor=staff["demo.counselor"],
        method="presumptive",
        collected_at=timezone.now() - timedelta(hours=3),
        results=[
            {"substance": "opiates", "result": "negative"},
            {"substance": "fentanyl", "result": "positive"},
            {"substance": "cocaine", "result": "negative"},
            {"substance": "buprenorphine", "result": "negative"},
        ],
    )
    referral = referral_create(
        patient=patient,
        actor=staff["demo.counselor"],
        fields={
            "group": "narcotics_anonymous",
            "referred_on": timezone.localdate() - timedelta(days=2),
        },
    )
    referral_transition(referral=referral, actor=staff["demo.counselor"], to="attending")
