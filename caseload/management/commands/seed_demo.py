"""Load a synthetic demo program. Every person in it is invented. Safe to run twice.

The records tell one story that holds together in time (docs/design.md, "Demo data"): each patient
is admitted before anything is recorded about them, and DEMO-0001's last use comes before the
first COWS, which comes before the buprenorphine order (docs/clinical-reference.md, section 2).
"""

import base64
import os
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseload import instruments
from caseload.models import ApiToken, Patient, Program, Role, Staff
from caseload.services.appointments import appointment_create, appointment_transition
from caseload.services.assessments import assessment_record
from caseload.services.drug_screens import drug_screen_record
from caseload.services.enrollments import enrollment_create, enrollment_discharge
from caseload.services.medications import medication_record
from caseload.services.notes import note_create
from caseload.services.patients import patient_create
from caseload.services.placements import placement_record
from caseload.services.programs import program_create, staff_create
from caseload.services.referrals import referral_create, referral_transition
from caseload.services.tokens import token_issue, token_revoke
from caseload.services.treatment_plans import treatment_plan_create, treatment_plan_sign

from ._output import JsonCommand

PROGRAM = ("demo", "Riverside Recovery (demo)")
TOKEN_NAME = "seed_demo"  # noqa: S105 - the label of the demo tokens, not a secret
TOTP_DEVICE_NAME = "seed_demo"
STAFF = [
    ("demo.counselor", Role.COUNSELOR, "Sam", "Lindqvist"),
    ("demo.counselor2", Role.COUNSELOR, "Ria", "Moreno"),
    ("demo.prescriber", Role.PRESCRIBER, "Lee", "Achterberg"),
    ("demo.supervisor", Role.SUPERVISOR, "Dana", "Okafor"),
    ("demo.frontdesk", Role.FRONT_DESK, "Kit", "Bramwell"),
]
# mrn, given, family, birth date, hours since last use, hours since admission, counselor, level
PATIENTS = [
    # Admitted for an inpatient buprenorphine induction 12 h after last use.
    ("DEMO-0001", "Avery", "Testperson", date(1988, 3, 14), 74, 62, "demo.counselor", "inpatient"),
    # Two weeks into outpatient care when a use 60 h ago interrupted it.
    (
        "DEMO-0002",
        "Jordan",
        "Samplewood",
        date(1979, 11, 2),
        60,
        336,
        "demo.counselor",
        "outpatient",
    ),
    # Admitted the day after last use, now past the acute phase.
    (
        "DEMO-0003",
        "Casey",
        "Fictional",
        date(1995, 6, 30),
        400,
        380,
        "demo.counselor2",
        "intensive_outpatient",
    ),
    # No recorded last use.
    (
        "DEMO-0004",
        "Morgan",
        "Placeholder",
        date(1983, 1, 9),
        None,
        48,
        "demo.counselor2",
        "outpatient",
    ),
]


class Command(JsonCommand):
    help = (
        "Load a synthetic demo program (no real people) and print a fresh API token for each demo"
        " persona, revoking the tokens the previous run printed. Safe to run twice."
    )

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
            now = timezone.now()
            for row in PATIENTS:
                _patient(staff, now, *row)
            _induction_series(staff)
            _missed_visit_and_positive_screen(staff, now)
            _treatment_records(staff, now)
            tokens = {username: _fresh_token(member) for username, member in staff.items()}
            totp = {username: _totp_secret(member) for username, member in staff.items()}
        self.stdout.write(
            f"Demo program '{program.code}' ready. Log in at http://127.0.0.1:8000/api/auth/login/"
            f" as any of {', '.join(staff)} with password '{password}'."
        )
        self.emit(
            {
                "program": program.code,
                "password": password,
                "staff": [
                    {
                        "username": username,
                        "role": str(member.role),
                        "token": tokens[username],
                        "totp_secret": totp[username],
                    }
                    for username, member in staff.items()
                ],
            }
        )


def _fresh_token(staff: Staff) -> str:
    """Revoke the persona's demo tokens from earlier runs, then issue the one to print now."""
    for old in ApiToken.objects.filter(staff=staff, name=TOKEN_NAME, revoked_at__isnull=True):
        token_revoke(token=old, actor=staff)
    return token_issue(staff=staff, name=TOKEN_NAME)[1]


def _totp_secret(staff: Staff) -> str:
    """The persona's console second factor (docs/console.md): one confirmed TOTP device, kept
    across runs so an authenticator app set up once keeps working. Returns its base32 secret."""
    device = TOTPDevice.objects.filter(user=staff, name=TOTP_DEVICE_NAME).first()
    if device is None:
        device = TOTPDevice.objects.create(user=staff, name=TOTP_DEVICE_NAME, confirmed=True)
    return base64.b32encode(device.bin_key).decode()


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


def _patient(
    staff,
    now,
    mrn,
    given,
    family,
    birth_date,
    hours_since_use,
    hours_since_admission,
    counselor,
    level,
) -> None:
    supervisor = staff["demo.supervisor"]
    if Patient.objects.filter(program=supervisor.program, mrn=mrn).exists():
        return
    last_use = now - timedelta(hours=hours_since_use) if hours_since_use is not None else None
    admitted_at = now - timedelta(hours=hours_since_admission)
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
            "admitted_on": timezone.localdate(admitted_at),
            # Consent to treatment is signed at admission.
            "treatment_consent_signed_at": admitted_at,
        },
    )
    note_create(
        actor=staff[counselor],
        patient=patient,
        fields={
            "written_at": admitted_at + timedelta(hours=1),
            "body": "Intake conversation; goals agreed. (Synthetic demo note.)",
        },
    )
    # One hour a patient (DEMO-0001 at 10:00, DEMO-0002 at 11:00, ...): no counselor is
    # double-booked.
    tomorrow = datetime.combine(
        timezone.localdate(now) + timedelta(days=1),
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


def _admitted_at(now: datetime, mrn: str) -> datetime:
    hours = next(row[5] for row in PATIENTS if row[0] == mrn)
    return now - timedelta(hours=hours)


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
            "start_date": timezone.localdate(
                patient.last_use_at + timedelta(hours=COWS_SERIES[0][0])
            ),
        },
    )


def _missed_visit_and_positive_screen(staff, now: datetime) -> None:
    """DEMO-0002: referred to NA after admission; then a use, a missed visit and a screen
    positive for fentanyl."""
    patient = Patient.objects.get(program=staff["demo.supervisor"].program, mrn="DEMO-0002")
    if patient.drug_screens.exists():
        return
    yesterday = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
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
    appointment_transition(appointment=missed, actor=staff["demo.frontdesk"], to="noshow", now=now)
    _positive_screen_and_referral(patient, staff, now)


def _positive_screen_and_referral(patient: Patient, staff, now: datetime) -> None:
    drug_screen_record(
        patient=patient,
        actor=staff["demo.counselor"],
        method="presumptive",
        collected_at=now - timedelta(hours=3),
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
            "referred_on": timezone.localdate(_admitted_at(now, "DEMO-0002")) + timedelta(days=2),
        },
    )
    referral_transition(referral=referral, actor=staff["demo.counselor"], to="attending")


# mrn: the counselor's dimension ratings 1-6, the level recommended, the level given and why.
PLACEMENTS = {
    "DEMO-0001": ((3, 1, 1, 2, 3, 2), "3.7-WM", "3.7-WM", ""),
    "DEMO-0002": ((1, 0, 1, 2, 3, 2), "2.1", "1", "Patient preference: works full days."),
}


def _treatment_records(staff, now: datetime) -> None:
    """DEMO-0001 and DEMO-0002: a placement at admission and a signed treatment plan;
    DEMO-0003: discharged today, transferred nearer home."""
    program = staff["demo.supervisor"].program
    for mrn, (ratings, recommended, actual, why) in PLACEMENTS.items():
        patient = Patient.objects.get(program=program, mrn=mrn)
        enrollment = patient.enrollments.get()
        if enrollment.placements.exists():
            continue
        counselor = enrollment.counselor
        placement_record(
            actor=counselor,
            enrollment=enrollment,
            fields={
                "assessed_at": _admitted_at(now, mrn) + timedelta(hours=2),
                **{f"dimension_{n}": rating for n, rating in enumerate(ratings, start=1)},
                "recommended_level": recommended,
                "actual_level": actual,
                "reason_for_difference": why,
            },
        )
        plan = treatment_plan_create(
            actor=counselor, enrollment=enrollment, fields=_plan_content(staff, now, mrn)
        )
        treatment_plan_sign(
            plan=plan,
            actor=counselor,
            signed_by_patient_at=_admitted_at(now, mrn) + timedelta(hours=3),
        )
    leaving = Patient.objects.get(program=program, mrn="DEMO-0003").enrollments.get()
    if leaving.status != "discharged":
        enrollment_discharge(
            enrollment=leaving,
            actor=staff["demo.supervisor"],
            discharged_on=timezone.localdate(now),
            reason="transferred",
            detail="To a program nearer home. (Synthetic demo.)",
        )


def _plan_content(staff, now: datetime, mrn: str) -> dict:
    """A short synthetic plan in the shape docs/treatment-records.md describes."""
    admitted = timezone.localdate(_admitted_at(now, mrn))
    return {
        "starts_on": admitted,
        "problems": [
            {"description": "Daily opioid use with withdrawal on stopping.", "asam_dimension": 1},
            {"description": "Few people around who do not use.", "asam_dimension": 6},
        ],
        "goals": [
            {
                "description": "I want to stop using and keep my job.",
                "objectives": [
                    {
                        "description": "Attend every scheduled visit for 30 days.",
                        "target_date": admitted + timedelta(days=30),
                        "status": "open",
                    }
                ],
            }
        ],
        "interventions": [
            {
                "kind": "Individual counseling",
                "frequency": "weekly",
                "responsible": str(staff["demo.counselor"].pk),
            },
            {
                "kind": "Medication visit",
                "frequency": "every two weeks",
                "responsible": str(staff["demo.prescriber"].pk),
            },
        ],
    }
