"""Load a synthetic program of benchmark size into its own PostgreSQL database.

    DATABASE_URL=postgres://root@127.0.0.1:5432/bench_tiny .venv/bin/python bench/seed.py \
        --profile tiny [--fresh] [--scale 0.01] [--dry-run]

Profiles (`bench/run.py` reads the same database, and measures the first program, `bench`):

    profile    programs  patients   appointments  assessments  history rows
    tiny              1       200          2,000        1,000         2,000
    standard          1   100,000      1,000,000      500,000     1,000,000
    large            50 1,000,000     10,000,000    5,000,000    10,000,000

Each of the large profile's programs holds a fiftieth of it, with its own staff.

`--scale F` multiplies every count but the number of programs by F (at least one of each), so
the large profile's code paths run on a small machine (`--profile large --scale 0.0005`: 50
programs of 10 patients and 100 appointments). `--dry-run` prints, without touching a database,
the rows each table would receive.

The database is created when missing and migrated (`manage.py migrate`). A database that already
holds patients is refused unless `--fresh` (drop and create it again) is given.

What goes through the project's services, and what is copied in bulk:
- The program, its staff (counselors, prescribers, a supervisor, a front desk) and their role
  groups are created by `program_create` and `staff_create`, like `create_staff` does.
- Patients, enrollments, care-team grants, appointments, assessments and history rows are
  written with PostgreSQL COPY, in transactions of `CHUNK` rows. Each transaction stamps its rows'
  `change_seq` with its own transaction id (`pg_current_xact_id()`), as `caseload.feed.feed_stamp`
  does for every write, so the sync feed walks them in commit order.
- The care-team grants are the rows `caseload.services.care_team.care_team_sync` would give: the
  `view_patient` object permission on each patient, for the counselor and the prescriber its
  enrollment names (an enrollment keeps granting after discharge).
- Assessment answers are random legal answers scored by `caseload.instruments.score`, stored with
  the version and bands it returns, like `assessment_record` does.
- History rows are django-simple-history creation rows (`+`) for every patient, enrollment and
  assessment, and for as many appointments as the profile's budget allows, a creation row
  (booked, version 1) and the change row of its status (version 2).
What is not written: audit events for the bulk rows (the audit log starts empty, so the hash
chain verifies), reminders and alerts (background side effects the benchmark does not read).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson
import psycopg
from psycopg import sql

CHUNK = 50_000  # rows per COPY transaction: one change number per chunk
PROGRAM_CODE = "bench"
RNG_SEED = 20261126


@dataclass(frozen=True)
class Profile:
    """Counts for the whole database; each of `programs` programs gets an equal share."""

    patients: int
    appointments: int
    assessments: int
    history: int
    counselors: int
    prescribers: int
    programs: int = 1

    def scaled(self, factor: float) -> Profile:
        def times(n: int) -> int:
            return max(1, round(n * factor))

        return Profile(*(times(getattr(self, name)) for name in COUNTED), programs=self.programs)

    def per_program(self) -> Profile:
        """One program's share (what `seed_program` writes for each)."""
        return Profile(
            *(max(1, getattr(self, name) // self.programs) for name in COUNTED), programs=1
        )


COUNTED = ("patients", "appointments", "assessments", "history", "counselors", "prescribers")
PROFILES = {
    "tiny": Profile(200, 2_000, 1_000, 2_000, counselors=4, prescribers=2),
    "standard": Profile(100_000, 1_000_000, 500_000, 1_000_000, counselors=400, prescribers=50),
    "large": Profile(
        1_000_000, 10_000_000, 5_000_000, 10_000_000, counselors=4_000, prescribers=500, programs=50
    ),
}

GIVEN = ("Avery", "Jordan", "Casey", "Morgan", "Riley", "Quinn", "Rowan", "Sage", "Emerson")
FAMILY = ("Testperson", "Samplewood", "Fictional", "Placeholder", "Mockford", "Synthetica")
KINDS = ("intake", "counseling", "group", "medication", "drug_screen", "follow_up")


# Database ------------------------------------------------------------------------------------
def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://…/<bench database>; the benchmark needs PostgreSQL.")
    return url


def _server_url(url: str) -> tuple[str, str]:
    """The maintenance database's URL on the same server, and the bench database's name."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def prepare_database(url: str, *, fresh: bool) -> None:
    server, name = _server_url(url)
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    server, name = _server_url(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    logging.disable(logging.WARNING)


# Progress ------------------------------------------------------------------------------------
def progress(total: int, label: str):
    try:
        from tqdm import tqdm
    except ImportError:  # the harness runs without it, only less chatty
        return _Quiet(label)
    return tqdm(total=total, desc=f"{label:<22}", unit=" rows", unit_scale=True, file=sys.stderr)


class _Quiet:
    def __init__(self, label: str):
        self.label, self.n = label, 0

    def update(self, n: int) -> None:
        self.n += n

    def close(self) -> None:
        print(f"{self.label}: {self.n} rows", file=sys.stderr)


def copy_in(
    conn: psycopg.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple],
    total: int,
    label: str,
) -> None:
    """COPY `total` rows into `table`, CHUNK rows per transaction. Before each chunk,
    `Stamp.value` is the transaction's id: rows built lazily during the chunk take it as their
    change number, as `caseload.feed.feed_stamp` stamps every write."""
    bar = progress(total, label)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    source = iter(rows)
    left = total
    while left > 0:
        with conn.transaction():
            Stamp.value = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0]
            with conn.cursor().copy(statement) as copy:
                for row in itertools.islice(source, min(CHUNK, left)):
                    copy.write_row(row)
        bar.update(min(CHUNK, left))
        left -= CHUNK
    bar.close()


class Stamp:
    """The change number of the transaction the current chunk is written in."""

    value = 0


# Records -------------------------------------------------------------------------------------
@dataclass
class World:
    program_id: uuid.UUID
    supervisor_id: uuid.UUID
    counselors: list[uuid.UUID]
    prescribers: list[uuid.UUID]
    permission_id: int
    patients: list[uuid.UUID]
    now: datetime


def program_code(number: int) -> str:
    """The first program is `bench` (what `bench/run.py` measures); the others `bench02`, …"""
    return PROGRAM_CODE if number == 0 else f"{PROGRAM_CODE}{number + 1:02d}"


def make_staff(profile: Profile, code: str = PROGRAM_CODE) -> World:
    """Program and staff through the services, exactly as `create_program` / `create_staff`."""
    from django.contrib.auth.models import Permission
    from django.db import transaction

    from caseload.models import Patient, Role
    from caseload.permissions import CARE_TEAM_CODENAME
    from caseload.services.programs import program_create, staff_create

    with transaction.atomic():
        program = program_create(code=code, name=f"Benchmark Recovery {code} (synthetic)")
        supervisor = staff_create(
            username=f"{code}.supervisor", program=program, role=Role.SUPERVISOR
        )
        staff_create(username=f"{code}.frontdesk", program=program, role=Role.FRONT_DESK)
        counselors = [
            staff_create(username=f"{code}.counselor{i}", program=program, role=Role.COUNSELOR).pk
            for i in range(profile.counselors)
        ]
        prescribers = [
            staff_create(username=f"{code}.prescriber{i}", program=program, role=Role.PRESCRIBER).pk
            for i in range(profile.prescribers)
        ]
    permission = Permission.objects.get(
        codename=CARE_TEAM_CODENAME,
        content_type__app_label="caseload",
        content_type__model=Patient._meta.model_name,
    )
    return World(
        program_id=program.pk,
        supervisor_id=supervisor.pk,
        counselors=counselors,
        prescribers=prescribers,
        permission_id=permission.pk,
        patients=[],
        now=datetime.now(UTC).replace(microsecond=0),
    )


def counselor_of(world: World, i: int) -> uuid.UUID:
    return world.counselors[i % len(world.counselors)]


def prescriber_of(world: World, i: int) -> uuid.UUID:
    return world.prescribers[i % len(world.prescribers)]


PATIENT_COLUMNS = (
    "id", "created_at", "updated_at", "version", "mrn", "given_name", "family_name",
    "birth_date", "phone", "email", "address_line", "city", "state", "postal_code",
    "last_use_at", "created_by_id", "updated_by_id", "program_id", "change_seq",
    "reminder_channel",
)  # fmt: skip


def patient_rows(world: World, count: int, rng: random.Random) -> Iterator[tuple]:
    start = world.now - timedelta(days=730)

    def rows() -> Iterator[tuple]:
        for i in range(count):
            pk = uuid.UUID(int=rng.getrandbits(128), version=4)
            world.patients.append(pk)
            at = start + timedelta(seconds=i * 60)
            yield (
                pk, at, at, 1, f"B{i:08d}", GIVEN[i % len(GIVEN)], FAMILY[i % len(FAMILY)],
                date(1960, 1, 1) + timedelta(days=rng.randrange(16000)), "", "", "", "", "",
                "", None, world.supervisor_id, world.supervisor_id, world.program_id,
                Stamp.value, "none",
            )  # fmt: skip

    return rows()


ENROLLMENT_COLUMNS = (
    "id", "created_at", "updated_at", "version", "status", "level_of_care", "admitted_on",
    "discharged_on", "discharge_reason", "counselor_id", "created_by_id", "prescriber_id",
    "updated_by_id", "patient_id", "discharge_reason_detail", "treatment_consent_signed_at",
    "asam_level",
)  # fmt: skip


def enrollment_rows(world: World, rng: random.Random) -> Iterator[tuple]:
    levels = ("inpatient", "intensive_outpatient", "outpatient")

    def rows() -> Iterator[tuple]:
        for i, patient in enumerate(world.patients):
            admitted = (world.now - timedelta(days=rng.randrange(30, 700))).date()
            discharged = i % 10 == 9  # one in ten episodes has ended; its team keeps access
            at = world.now - timedelta(days=700) + timedelta(seconds=i * 60 + 1)
            yield (
                uuid.UUID(int=rng.getrandbits(128), version=4), at, at, 1,
                "discharged" if discharged else "active", levels[i % 3], admitted,
                admitted + timedelta(days=20) if discharged else None,
                "completed" if discharged else "", counselor_of(world, i),
                world.supervisor_id, prescriber_of(world, i), world.supervisor_id, patient,
                "", datetime.combine(admitted, datetime.min.time(), UTC), "",
            )  # fmt: skip

    return rows()


def grant_rows(world: World) -> Iterator[tuple]:
    def rows() -> Iterator[tuple]:
        for i, patient in enumerate(world.patients):
            yield (counselor_of(world, i), world.permission_id, patient)
            yield (prescriber_of(world, i), world.permission_id, patient)

    return rows()


APPOINTMENT_COLUMNS = (
    "id", "created_at", "updated_at", "version", "kind", "status", "start", "end", "location",
    "reminder_due_at", "created_by_id", "staff_id", "updated_by_id", "patient_id",
    "cancellation_reason", "overlap_allowed", "change_seq", "program_id",
)  # fmt: skip
APPOINTMENT_HISTORY_COLUMNS = (
    *APPOINTMENT_COLUMNS, "history_date", "history_change_reason", "history_type",
    "history_user_id",
)  # fmt: skip


def appointment_status(start: datetime, now: datetime, roll: int) -> tuple[str, str]:
    """A status that fits the time: past visits took place, were missed or cancelled."""
    if roll < 10:
        return "cancelled", "Patient asked to reschedule."
    if start >= now:
        return "booked", ""
    return ("noshow", "") if roll < 20 else ("fulfilled", "")


def appointment_rows(
    world: World, count: int, with_history: int, history: list, rng: random.Random
) -> Iterator[tuple]:
    """Appointments spread over the last year and the next two months; the first
    `with_history` of them that changed status get their two history rows into `history`."""
    patients = world.patients
    span = int(timedelta(days=425).total_seconds())
    first = world.now - timedelta(days=365)
    created = world.now - timedelta(days=400)

    def rows() -> Iterator[tuple]:
        for i in range(count):
            p = i % len(patients)
            start = first + timedelta(seconds=rng.randrange(span) // 900 * 900)
            status, reason = appointment_status(start, world.now, rng.randrange(100))
            medical = rng.randrange(5) == 0  # a medication visit, with the prescriber
            staff = prescriber_of(world, p) if medical else counselor_of(world, p)
            at = created + timedelta(seconds=i * 30)
            version = 1 if status == "booked" else 2
            row = (
                uuid.UUID(int=rng.getrandbits(128), version=4), at, at, version,
                "medication" if medical else KINDS[i % len(KINDS)], status, start,
                start + timedelta(minutes=50), "Room 1", None, world.supervisor_id, staff,
                world.supervisor_id, patients[p], reason, False, Stamp.value, world.program_id,
            )  # fmt: skip
            if version == 2 and len(history) < with_history:
                booked = (*row[:3], 1, row[4], "booked", *row[6:14], "", *row[15:])
                history.append((*booked, at, None, "+", world.supervisor_id))
                history.append((*row, at, None, "~", staff))
            yield row

    return rows()


ASSESSMENT_COLUMNS = (
    "id", "created_at", "updated_at", "version", "instrument", "items", "administered_at",
    "instrument_version", "total_score", "severity", "criteria_met",
    "meets_withdrawal_criteria", "bands", "bands_label", "status", "entered_in_error_reason",
    "administered_by_id", "created_by_id", "patient_id", "updated_by_id",
)  # fmt: skip


def scored_answers(rng: random.Random, per_instrument: int = 200) -> list[tuple]:
    """Random legal answers of each instrument with what `instruments.score` makes of them."""
    from caseload import instruments

    pool = []
    for code in instruments.INSTRUMENT_CODES:
        for _ in range(per_instrument):
            if code == instruments.WITHDRAWAL_CHECKLIST:
                items = {key: rng.random() < 0.3 for key in instruments.item_keys(code)}
            else:
                items = {k: rng.choice(v) for k, v in instruments.allowed_values(code).items()}
            s = instruments.score(code, items)
            pool.append(
                (
                    code, orjson.dumps(items).decode(), s.instrument_version, s.total_score,
                    s.severity or "", s.criteria_met, s.meets_withdrawal_criteria,
                    orjson.dumps(list(s.bands)).decode(), s.bands_label,
                )
            )  # fmt: skip
    return pool


def assessment_rows(
    world: World, count: int, history: list, with_history: int, rng: random.Random
) -> Iterator[tuple]:
    pool = scored_answers(rng)
    patients = world.patients

    def rows() -> Iterator[tuple]:
        for i in range(count):
            p = i % len(patients)
            code, items, version, total, severity, met, meets, bands, label = rng.choice(pool)
            by = prescriber_of(world, p) if i % 2 else counselor_of(world, p)
            at = world.now - timedelta(days=360) + timedelta(seconds=i * 60)
            row = (
                uuid.UUID(int=rng.getrandbits(128), version=4), at, at, 1, code, items, at,
                version, total, severity, met, meets, bands, label, "final", "", by, by,
                patients[p], by,
            )  # fmt: skip
            if len(history) < with_history:
                history.append((*row, at, None, "+", by))
            yield row

    return rows()


def history_of(table_rows: list, extra: Callable[[tuple], tuple]) -> Iterator[tuple]:
    def rows() -> Iterator[tuple]:
        for row in table_rows:
            yield (*row, *extra(row))

    return rows()


# Main ----------------------------------------------------------------------------------------
def plan(profile: Profile) -> dict[str, int]:
    """The rows each table receives (what `--dry-run` prints): every program's share."""
    one = profile.per_program()
    creation_rows = min(one.history, 2 * one.patients + one.assessments)
    appointment_history = min(2 * one.appointments, max(0, one.history - creation_rows))
    assessment_history = min(one.assessments, max(0, creation_rows - 2 * one.patients))
    per_program = {
        "caseload_program": 1,
        "caseload_staff": one.counselors + one.prescribers + 2,
        "caseload_patient": one.patients,
        "caseload_enrollment": one.patients,
        "caseload_patientuserobjectpermission": 2 * one.patients,
        "caseload_appointment": one.appointments,
        "caseload_assessment": one.assessments,
        "caseload_historicalpatient": one.patients,
        "caseload_historicalenrollment": one.patients,
        "caseload_historicalassessment": assessment_history,
        "caseload_historicalappointment": appointment_history,
    }
    return {table: rows * profile.programs for table, rows in per_program.items()}


def seed(profile: Profile, name: str, *, fresh: bool) -> dict:
    url = database_url()
    prepare_database(url, fresh=fresh)
    setup_django()
    from django.core.management import call_command

    from caseload.models import Patient

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    if Patient.objects.exists():
        sys.exit("This database already holds patients; run again with --fresh to replace it.")
    rng = random.Random(RNG_SEED)
    one = profile.per_program()
    for number in range(profile.programs):
        world = make_staff(one, program_code(number))
        with psycopg.connect(url) as conn:
            seed_program(conn, world, one, rng)
            conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        counts = {table: count_rows(conn, table) for table in COUNTED_TABLES}
        counts["history"] = sum(count_rows(conn, table) for table in HISTORY_TABLES)
    return {"profile": name, "seconds": round(time.monotonic() - started, 1), **counts}


COUNTED_TABLES = (
    "caseload_program", "caseload_patient", "caseload_appointment", "caseload_assessment",
    "caseload_patientuserobjectpermission",
)  # fmt: skip


def count_rows(conn: psycopg.Connection, table: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    return conn.execute(query).fetchone()[0]


def seed_program(conn: psycopg.Connection, world: World, one: Profile, rng: random.Random) -> None:
    """One program's patients, enrollments, grants, appointments, assessments and history.

    History budget: a creation row for every patient, enrollment and assessment, then two
    rows (created booked, then its status change) per appointment while the budget lasts."""
    creation_rows = min(one.history, 2 * one.patients + one.assessments)
    appointment_history = max(0, one.history - creation_rows)
    assessment_history = max(0, creation_rows - 2 * one.patients)
    history_appt: list = []
    history_assess: list = []
    enroll_rows: list = []
    steps = (
        ("caseload_patient", PATIENT_COLUMNS, patient_rows(world, one.patients, rng),
         one.patients, "patients"),
        ("caseload_enrollment", ENROLLMENT_COLUMNS,
         _kept(enrollment_rows(world, rng), enroll_rows), one.patients, "enrollments"),
        ("caseload_patientuserobjectpermission", ("user_id", "permission_id", "content_object_id"),
         grant_rows(world), 2 * one.patients, "care-team grants"),
        ("caseload_appointment", APPOINTMENT_COLUMNS,
         appointment_rows(world, one.appointments, appointment_history, history_appt, rng),
         one.appointments, "appointments"),
        ("caseload_assessment", ASSESSMENT_COLUMNS,
         assessment_rows(world, one.assessments, history_assess, assessment_history, rng),
         one.assessments, "assessments"),
    )  # fmt: skip
    for table, columns, rows, total, label in steps:
        copy_in(conn, table, columns, rows, total, label)
    write_history(conn, world, enroll_rows, history_appt, history_assess)


HISTORY_TABLES = (
    "caseload_historicalpatient",
    "caseload_historicalenrollment",
    "caseload_historicalassessment",
    "caseload_historicalappointment",
)


def write_history(conn, world: World, enrollments: list, appts: list, assess: list) -> None:
    """Creation rows of patients (read back: their columns), enrollments and assessments, and
    the appointments' two rows each."""
    patient_cols = tuple(c for c in PATIENT_COLUMNS)
    patients = conn.execute(
        sql.SQL("SELECT {} FROM caseload_patient WHERE program_id = %s ORDER BY created_at").format(
            sql.SQL(", ").join(map(sql.Identifier, patient_cols))
        ),
        [world.program_id],
    ).fetchall()
    tail = ("history_date", "history_change_reason", "history_type", "history_user_id")
    copy_in(
        conn,
        "caseload_historicalpatient",
        (*patient_cols, *tail),
        history_of(patients, lambda r: (r[1], None, "+", world.supervisor_id)),
        len(patients),
        "patient history",
    )
    copy_in(
        conn,
        "caseload_historicalenrollment",
        (*ENROLLMENT_COLUMNS, *tail),
        history_of(enrollments, lambda r: (r[1], None, "+", world.supervisor_id)),
        len(enrollments),
        "enrollment history",
    )
    copy_in(
        conn,
        "caseload_historicalassessment",
        (*ASSESSMENT_COLUMNS, *tail),
        history_of(assess, lambda r: ()),
        len(assess),
        "assessment history",
    )
    copy_in(
        conn,
        "caseload_historicalappointment",
        APPOINTMENT_HISTORY_COLUMNS,
        history_of(appts, lambda r: ()),
        len(appts),
        "appointment history",
    )


def _kept(rows: Iterator[tuple], into: list) -> Iterator[tuple]:
    for row in rows:
        into.append(row)
        yield row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="tiny")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every count but the programs by this"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the rows per table; touch no database"
    )
    args = parser.parse_args()
    if not 0 < args.scale <= 1:
        parser.error("--scale must be above 0 and at most 1")
    profile = PROFILES[args.profile].scaled(args.scale)
    name = args.profile if args.scale == 1 else f"{args.profile} x{args.scale:g}"
    if args.dry_run:
        rows = plan(profile)
        print(orjson.dumps({"profile": name, "programs": profile.programs, **rows}).decode())
        return
    print(orjson.dumps(seed(profile, name, fresh=args.fresh)).decode())


if __name__ == "__main__":
    main()
