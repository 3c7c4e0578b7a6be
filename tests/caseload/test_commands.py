"""The set-up commands, run for real; each prints one JSON object as its last line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from caseload.management.commands import seed_demo
from caseload.models import ApiToken, AuditEvent, Enrollment, Patient, Program, Staff
from caseload.permissions import ROLE_PERMISSIONS, role_group_name
from tests.factories import PatientFactory, StaffFactory


def run(*args, **options) -> tuple[str, dict]:
    """Run a command; return its last stdout line and that line parsed as JSON."""
    out = StringIO()
    call_command(*args, stdout=out, **options)
    last = out.getvalue().strip().splitlines()[-1]
    return last, json.loads(last)


def me(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/v1/me/")


def get_patient(token: str, patient: Patient):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(f"/api/v1/patients/{patient.pk}/")


# create_program ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_program_prints_its_code_as_the_last_line():
    last, _ = run("create_program", "lakeside", "--name", "Lakeside Recovery")
    assert last == '{"program": "lakeside"}'
    program = Program.objects.get(code="lakeside")
    assert program.name == "Lakeside Recovery"
    assert AuditEvent.objects.filter(action="create", resource_id=str(program.pk)).exists()


@pytest.mark.django_db
def test_create_program_sets_the_reminder_wording_and_refuses_an_empty_one():
    run("create_program", "lakeside", "--name", "Lakeside", "--reminder-text", "See you soon.")
    assert Program.objects.get(code="lakeside").reminder_text == "See you soon."
    assert Program.objects.get(code="lakeside").name == "Lakeside"
    with pytest.raises(CommandError, match="reminder_text"):
        run("create_program", "hillside", "--name", "Hillside", "--reminder-text", " ")
    assert Program.objects.get(code="lakeside").reminder_text == "See you soon."
    assert not Program.objects.filter(code="hillside").exists()


@pytest.mark.django_db
def test_create_program_rejects_an_invalid_code_and_creates_nothing():
    with pytest.raises(CommandError, match="code"):
        run("create_program", "Not A Code!", "--name", "Bad")
    assert not Program.objects.exists()


@pytest.mark.django_db
def test_create_program_rejects_a_code_that_is_taken(program):
    with pytest.raises(CommandError):
        run("create_program", program.code, "--name", "Again")
    assert Program.objects.filter(code=program.code).count() == 1


# create_staff -----------------------------------------------------------------------------


def test_create_staff_prints_a_token_that_authenticates(program):
    _, payload = run(
        "create_staff", "new.counselor", "--program", "riverside", "--role", "counselor"
    )
    staff = Staff.objects.get(username="new.counselor")
    assert set(payload) == {"username", "id", "token"}
    assert payload["username"] == "new.counselor"
    assert payload["id"] == str(staff.pk)
    assert staff.program == program
    assert staff.role == "counselor"
    assert list(staff.groups.values_list("name", flat=True)) == [role_group_name("counselor")]
    assert not staff.has_usable_password()
    response = me(payload["token"])
    assert response.status_code == 200
    assert response.json()["id"] == str(staff.pk)
    assert response.json()["role"] == "counselor"


def test_create_staff_sets_a_usable_password_from_the_environment(program, monkeypatch):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "correct-horse-battery-1")
    run(
        "create_staff",
        "pw.supervisor",
        "--program",
        "riverside",
        "--role",
        "supervisor",
        "--password-from-env",
        "NEW_STAFF_PASSWORD",
    )
    staff = Staff.objects.get(username="pw.supervisor")
    assert staff.has_usable_password()
    assert staff.check_password("correct-horse-battery-1")
    client = APIClient()
    assert client.login(username="pw.supervisor", password="correct-horse-battery-1")
    assert client.get("/api/v1/me/").json()["username"] == "pw.supervisor"


def test_create_staff_refuses_an_empty_password_variable(program, monkeypatch):
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    with pytest.raises(CommandError, match="NO_SUCH_PASSWORD_VAR"):
        run(
            "create_staff",
            "nopw",
            "--program",
            "riverside",
            "--role",
            "counselor",
            "--password-from-env",
            "NO_SUCH_PASSWORD_VAR",
        )
    assert not Staff.objects.filter(username="nopw").exists()


@pytest.mark.django_db
def test_create_staff_rejects_an_unknown_program():
    with pytest.raises(CommandError, match="program"):
        run("create_staff", "lost", "--program", "nowhere", "--role", "counselor")
    assert not Staff.objects.filter(username="lost").exists()


def test_create_staff_rejects_an_unknown_role(program):
    with pytest.raises(CommandError, match="role"):
        run("create_staff", "wizard", "--program", "riverside", "--role", "wizard")
    assert not Staff.objects.filter(username="wizard").exists()


def test_create_staff_rejects_a_taken_username(counselor):
    with pytest.raises(CommandError, match="username"):
        run("create_staff", "counselor", "--program", "riverside", "--role", "prescriber")
    assert Staff.objects.get(username="counselor").role == "counselor"


# assign_care_team -------------------------------------------------------------------------


def test_assign_care_team_moves_access_to_the_new_team_and_audits_it(
    as_user, patient, counselor, other_counselor, program
):
    new_prescriber = StaffFactory(username="new.prescriber", program=program, role="prescriber")
    assert as_user(other_counselor).get(f"/api/v1/patients/{patient.pk}/").status_code == 404

    _, payload = run(
        "assign_care_team",
        str(patient.pk),
        "--counselor",
        "other_counselor",
        "--prescriber",
        "new.prescriber",
    )

    assert payload["patient"] == str(patient.pk)
    assert payload["counselor"] == "other_counselor"
    assert payload["prescriber"] == "new.prescriber"
    enrollment = Enrollment.objects.get(pk=payload["enrollment"])
    assert (enrollment.counselor, enrollment.prescriber) == (other_counselor, new_prescriber)
    for staff in (other_counselor, new_prescriber):
        response = as_user(staff).get(f"/api/v1/patients/{patient.pk}/")
        assert response.status_code == 200, staff.username
        assert response.json()["id"] == str(patient.pk)
    assert as_user(counselor).get(f"/api/v1/patients/{patient.pk}/").status_code == 404

    events = AuditEvent.objects.filter(patient=patient, action__in=["grant", "revoke"])
    granted = {e.detail["staff"] for e in events if e.action == "grant"}
    revoked = {e.detail["staff"] for e in events if e.action == "revoke"}
    assert {str(other_counselor.pk), str(new_prescriber.pk)} <= granted
    assert str(counselor.pk) in revoked


def test_assign_care_team_opens_an_enrollment_for_a_patient_without_one(
    as_user, supervisor, counselor
):
    patient = PatientFactory(actor=supervisor)
    assert as_user(counselor).get(f"/api/v1/patients/{patient.pk}/").status_code == 404
    _, payload = run("assign_care_team", str(patient.pk), "--counselor", "counselor")
    enrollment = Enrollment.objects.get(patient=patient)
    assert payload["enrollment"] == str(enrollment.pk)
    assert payload["prescriber"] is None
    assert enrollment.counselor == counselor
    assert as_user(counselor).get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    assert AuditEvent.objects.filter(
        patient=patient, action="grant", detail__staff=str(counselor.pk)
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("patient_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_assign_care_team_rejects_an_unknown_patient(patient_id, counselor):
    with pytest.raises(CommandError, match="patient"):
        run("assign_care_team", patient_id, "--counselor", "counselor")


def test_assign_care_team_rejects_an_unknown_counselor(patient, counselor):
    with pytest.raises(CommandError, match="counselor"):
        run("assign_care_team", str(patient.pk), "--counselor", "nobody")
    assert Enrollment.objects.get(patient=patient).counselor == counselor


def test_assign_care_team_rejects_a_counselor_of_another_program(
    as_user, patient, counselor, other_program
):
    StaffFactory(username="foreign.counselor", program=other_program, role="counselor")
    grants_before = AuditEvent.objects.filter(action__in=["grant", "revoke"]).count()
    with pytest.raises(CommandError, match="counselor"):
        run("assign_care_team", str(patient.pk), "--counselor", "foreign.counselor")
    assert Enrollment.objects.get(patient=patient).counselor == counselor
    assert AuditEvent.objects.filter(action__in=["grant", "revoke"]).count() == grants_before
    assert as_user(counselor).get(f"/api/v1/patients/{patient.pk}/").status_code == 200


def test_assign_care_team_rejects_a_counselor_without_the_counselor_role(
    patient, counselor, prescriber
):
    with pytest.raises(CommandError, match="counselor"):
        run("assign_care_team", str(patient.pk), "--counselor", "prescriber")
    assert Enrollment.objects.get(patient=patient).counselor == counselor


# issue_token ------------------------------------------------------------------------------


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_issue_token_prints_a_token_that_authenticates_and_is_listed(counselor):
    _, payload = run("issue_token", "counselor", "--name", "laptop")

    assert list(payload) == ["username", "name", "token", "expires_at"]
    assert (payload["username"], payload["name"]) == ("counselor", "laptop")
    assert payload["token"].startswith("cl_")
    assert me(payload["token"]).json()["username"] == "counselor"
    listed = client_with(payload["token"]).get("/api/v1/tokens/").json()["results"]
    issued = next(row for row in listed if row["name"] == "laptop")
    assert issued["expires_at"] == payload["expires_at"]
    assert issued["revoked_at"] is None
    assert AuditEvent.objects.filter(action="create", resource_id=issued["id"]).exists()


def test_issue_token_defaults_to_the_configured_lifetime(counselor, settings):
    settings.CASELOAD_TOKEN_TTL_DAYS = 30
    before = timezone.now()
    _, payload = run("issue_token", "counselor")
    expires = datetime.fromisoformat(payload["expires_at"])
    assert before + timedelta(days=30) <= expires <= timezone.now() + timedelta(days=30)
    assert payload["name"] == "issue_token"


def test_issue_token_honours_days(counselor):
    before = timezone.now()
    _, payload = run("issue_token", "counselor", "--days", "7")
    expires = datetime.fromisoformat(payload["expires_at"])
    assert before + timedelta(days=7) <= expires <= timezone.now() + timedelta(days=7)


@pytest.mark.parametrize("days", ["0", "-1", "31"])
def test_issue_token_refuses_days_outside_one_to_the_configured_lifetime(counselor, settings, days):
    settings.CASELOAD_TOKEN_TTL_DAYS = 30
    with pytest.raises(CommandError, match=r"days: must be between 1 and 30"):
        run("issue_token", "counselor", "--days", days)
    assert not ApiToken.objects.filter(staff=counselor).exists()


@pytest.mark.django_db
def test_issue_token_rejects_an_unknown_username():
    with pytest.raises(CommandError, match="username: no staff member 'nobody'"):
        run("issue_token", "nobody")
    assert not ApiToken.objects.exists()


def test_issue_token_refuses_a_deactivated_staff_member(counselor):
    counselor.is_active = False
    counselor.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="username"):
        run("issue_token", "counselor")
    assert not ApiToken.objects.filter(staff=counselor).exists()


def test_issue_token_refuses_a_name_longer_than_a_token_name_can_be(counselor):
    with pytest.raises(CommandError, match="name"):
        run("issue_token", "counselor", "--name", "x" * 101)
    assert not ApiToken.objects.filter(staff=counselor).exists()


# seed_demo --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_is_safe_to_run_twice():
    run("seed_demo")
    counts = (Patient.objects.count(), Staff.objects.count(), Enrollment.objects.count())
    assert counts[0] == len(seed_demo.PATIENTS)
    assert counts[1] == len(seed_demo.STAFF)
    run("seed_demo")
    assert (Patient.objects.count(), Staff.objects.count(), Enrollment.objects.count()) == counts


@pytest.mark.django_db
def test_seed_demo_prints_a_working_token_for_every_persona():
    _, payload = run("seed_demo")
    assert payload["program"] == "demo"
    assert [(row["username"], row["role"]) for row in payload["staff"]] == [
        (username, str(role)) for username, role, *_ in seed_demo.STAFF
    ]
    for row in payload["staff"]:
        response = me(row["token"])
        assert response.status_code == 200, row["username"]
        assert (response.json()["username"], response.json()["role"]) == (
            row["username"],
            row["role"],
        )
    tokens = {row["username"]: row["token"] for row in payload["staff"]}
    mrns = {
        row["mrn"]
        for row in client_with(tokens["demo.counselor"]).get("/api/v1/patients/").json()["results"]
    }
    assert mrns == {row[0] for row in seed_demo.PATIENTS if row[6] == "demo.counselor"}
    front_desk = client_with(tokens["demo.frontdesk"])
    page = front_desk.get("/api/v1/patients/", {"page_size": 1000}).json()
    assert len(page["results"]) == len(seed_demo.PATIENTS)
    assert front_desk.get("/api/v1/notes/").status_code == 403


@pytest.mark.django_db
def test_seed_demo_revokes_the_previous_runs_tokens_instead_of_piling_them_up():
    _, first = run("seed_demo")
    _, second = run("seed_demo")
    for old, new in zip(first["staff"], second["staff"], strict=True):
        assert old["username"] == new["username"]
        assert me(old["token"]).status_code == 401, old["username"]
        assert me(new["token"]).json()["username"] == new["username"]
        listed = client_with(new["token"]).get("/api/v1/tokens/").json()["results"]
        demo_tokens = [row for row in listed if row["name"] == seed_demo.TOKEN_NAME]
        assert len(demo_tokens) == 2
        assert len([row for row in demo_tokens if row["revoked_at"] is None]) == 1
    assert AuditEvent.objects.filter(action="revoke", resource_type="apitoken").count() == len(
        seed_demo.STAFF
    )


@pytest.mark.django_db
def test_seed_demo_leaves_other_tokens_of_a_persona_alone():
    run("seed_demo")
    _, personal = run("issue_token", "demo.counselor", "--name", "laptop")
    run("seed_demo")
    assert me(personal["token"]).json()["username"] == "demo.counselor"


@pytest.mark.django_db
def test_seed_demo_patients_are_only_the_synthetic_ones():
    run("seed_demo")
    names = set(Patient.objects.values_list("mrn", "given_name", "family_name", "birth_date"))
    assert names == {
        (mrn, given, family, born) for mrn, given, family, born, *_ in seed_demo.PATIENTS
    }


# sync_roles -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sync_roles_is_idempotent():
    _, first = run("sync_roles")
    snapshot = {
        group.name: set(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.all()
    }
    _, second = run("sync_roles")
    assert first == second
    assert {
        group.name: set(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.all()
    } == snapshot
    assert Group.objects.count() == len(ROLE_PERMISSIONS)
    for role, codenames in ROLE_PERMISSIONS.items():
        assert snapshot[role_group_name(role)] == codenames
        assert first["roles"][str(role)] == len(codenames)


@pytest.mark.django_db
def test_sync_roles_restores_a_tampered_group():
    run("sync_roles")
    group = Group.objects.get(name=role_group_name("front_desk"))
    group.permissions.clear()
    run("sync_roles")
    assert (
        set(group.permissions.values_list("codename", flat=True)) == ROLE_PERMISSIONS["front_desk"]
    )


def test_create_audit_partitions_leaves_plain_tables_alone(db):
    """SQLite keeps plain tables: nothing to make. (PostgreSQL: tests/caseload/
    test_audit_partitions.py.)"""
    if connection.vendor == "postgresql":
        _, result = run("create_audit_partitions", "--months", "1")
        assert result["default_rows"] == {"caseload_auditevent": 0, "caseload_disclosure": 0}
    else:
        assert run("create_audit_partitions", "--months", "1")[1] == {"partitioned": False}
    with pytest.raises(CommandError, match="months"):
        run("create_audit_partitions", "--months", "-1")
