"""What someone with database access but not the application's key (CASELOAD_AUDIT_KEY) can do
to the audit log, the disclosure ledger, consents and break-the-glass openings, and how
`verify_audit_chain` names each: a backdated event inserted, a ledger row forged, a consent
un-revoked (by UPDATE, or by putting back the row as it was), an opening's reason rewritten,
the seal chain rebuilt, and rows deleted with the chain rebuilt by the application itself."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from caseload.models import AuditEvent, AuditSeal, AuditSealRun, BreakGlass, Consent, Disclosure
from caseload.services.audit_chain import audit_seal, canonical
from caseload.services.consents import consent_revoke
from tests.api.v1.test_break_glass import REASON
from tests.api.v1.test_disclosures import consent
from tests.caseload.test_audit_chain import activity, as_superuser, verify

__all__ = ["activity"]  # the fixture of test_audit_chain: reads, a write, a refusal, a disclosure


def db(value) -> object:
    """A UUID as the database takes it in raw SQL."""
    return value.hex if connection.vendor == "sqlite" else value


def problems(result: dict) -> set[tuple[str, str, str]]:
    return {(b["kind"], b["id"], b["problem"]) for b in result.get("broken", [])}


def copy_row(model, pk, **changes) -> None:
    """INSERT a copy of a row with some columns changed, as a DBA with psql would."""
    fields = model._meta.concrete_fields
    values = model.objects.filter(pk=pk).values_list(*(f.attname for f in fields)).get()
    row = {f.column: value for f, value in zip(fields, values, strict=True)} | changes
    values = [db(v) if isinstance(v, uuid.UUID) else v for v in row.values()]
    if connection.vendor == "sqlite":
        values = [json.dumps(v) if isinstance(v, dict | list) else v for v in values]
    else:
        from psycopg.types.json import Jsonb

        values = [Jsonb(v) if isinstance(v, dict | list) else v for v in values]
    table = model._meta.db_table
    as_superuser(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",  # noqa: S608
        values,
    )


def test_a_backdated_event_inserted_is_named(activity, supervisor):
    audit_seal()
    original = AuditEvent.objects.filter(actor=supervisor, action="read").first()
    forged = uuid.uuid4()
    copy_row(
        AuditEvent,
        original.pk,
        id=forged,
        occurred_at=timezone.now() - timedelta(days=400),
        action="list",
    )
    code, result = verify()
    assert code == 1
    assert problems(result) == {("auditevent", str(forged), "inserted")}
    assert result["first_broken"] == str(forged)
    assert not AuditSeal.objects.filter(row_id=forged).exists()  # the sealer never took it


def test_a_backdated_event_with_a_mac_made_without_the_key_is_named(activity, supervisor):
    """The attacker knows the scheme (it is open source) but not the key."""
    import hashlib
    import hmac

    original = AuditEvent.objects.filter(actor=supervisor).first()
    forged = uuid.uuid4()
    copy_row(AuditEvent, original.pk, id=forged)
    event = AuditEvent.objects.get(pk=forged)
    guessed = hmac.new(b"not-the-key", canonical(event, []), hashlib.sha256).hexdigest()
    as_superuser("UPDATE caseload_auditevent SET mac = %s WHERE id = %s", [guessed, db(forged)])
    assert ("auditevent", str(forged), "inserted") in problems(verify()[1])


def test_a_forged_ledger_row_is_named(activity):
    audit_seal()
    real = Disclosure.objects.get()
    forged = uuid.uuid4()
    copy_row(Disclosure, real.pk, id=forged, recipient_name="Someone else")
    code, result = verify()
    assert (code, problems(result)) == (1, {("disclosure", str(forged), "inserted")})


def test_a_changed_or_deleted_ledger_row_is_named(activity):
    audit_seal()
    real = Disclosure.objects.get()
    as_superuser("UPDATE caseload_disclosure SET purpose = 'Research' WHERE id = %s", [db(real.pk)])
    assert problems(verify()[1]) == {("disclosure", str(real.pk), "changed")}
    as_superuser("DELETE FROM caseload_disclosure WHERE id = %s", [db(real.pk)])
    assert problems(verify()[1]) == {("disclosure", str(real.pk), "deleted")}


@pytest.fixture
def revoked(counselor, patient):
    given = consent(counselor, patient, ["appointments"])
    audit_seal()  # the consent as signed is sealed
    as_signed = (
        Consent.objects.filter(pk=given.pk)
        .values("revoked_at", "revoked_by", "version", "mac")
        .get()
    )
    consent_revoke(consent=given, actor=counselor)
    audit_seal()  # and as revoked
    return given, as_signed


def test_a_consent_unrevoked_by_update_is_named(revoked):
    given, _ = revoked
    as_superuser(
        "UPDATE caseload_consent SET revoked_at = NULL, revoked_by_id = NULL WHERE id = %s",
        [db(given.pk)],
    )
    code, result = verify()
    assert (code, problems(result)) == (1, {("consent", str(given.pk), "changed")})


def test_a_consent_put_back_as_it_was_signed_is_named(revoked):
    """The row restored exactly, MAC and all, from a backup taken before the revocation."""
    given, as_signed = revoked
    as_superuser(
        "UPDATE caseload_consent SET revoked_at = NULL, revoked_by_id = NULL, version = %s,"
        " mac = %s WHERE id = %s",
        [as_signed["version"], as_signed["mac"], db(given.pk)],
    )
    code, result = verify()
    assert (code, problems(result)) == (1, {("consent", str(given.pk), "replayed")})


def test_a_consent_deleted_or_inserted_is_named(revoked, counselor, patient):
    given, _ = revoked
    forged = uuid.uuid4()
    copy_row(Consent, given.pk, id=forged, revoked_at=None, revoked_by_id=None)
    assert ("consent", str(forged), "changed") in problems(verify()[1])
    as_superuser("DELETE FROM caseload_consent WHERE id = %s", [db(given.pk)])
    assert ("consent", str(given.pk), "deleted") in problems(verify()[1])


def test_an_openings_reason_rewritten_is_named(as_user, other_counselor, patient):
    opened = as_user(other_counselor).post(f"/api/v1/patients/{patient.pk}/break-glass/", REASON)
    assert opened.status_code == 201
    audit_seal()
    access = opened.json()["id"]
    as_superuser(
        "UPDATE caseload_breakglass SET reason = 'Routine care.' WHERE id = %s",
        [db(uuid.UUID(access))],
    )
    assert problems(verify()[1]) == {("breakglass", access, "changed")}
    assert BreakGlass.objects.get(pk=access).reason == "Routine care."


def test_a_chain_rebuilt_without_the_key_is_named(activity):
    """Every seal deleted and the chain rebuilt by the old, unkeyed rule."""
    import hashlib

    audit_seal()
    first = AuditSeal.objects.order_by("position").first()
    chain = bytes(32)
    for seal in AuditSeal.objects.order_by("position"):
        chain = hashlib.sha256(chain + seal.row_mac.encode()).digest()
        as_superuser(
            "UPDATE caseload_auditseal SET chain = %s WHERE position = %s",
            [chain, seal.position],
        )
    code, result = verify()
    assert code == 1
    assert result["broken"][0] == {
        "kind": first.kind,
        "id": str(first.row_id),
        "problem": "chain_rebuilt",
    }


def test_rows_deleted_and_the_chain_resealed_are_named_by_the_exported_seals(
    activity, supervisor, tmp_path
):
    seals = tmp_path / "seals.jsonl"
    out = StringIO()
    call_command("export_audit_seals", str(seals), stdout=out)
    exported = json.loads(out.getvalue().strip().splitlines()[-1])
    assert exported == {"file": str(seals), "position": AuditSeal.objects.count()}
    assert verify_with(seals) == (0, {"ok": True, "events": activity})

    # A DBA deletes an event, every seal and every seal run, and lets the sealer rebuild.
    victim = AuditEvent.objects.filter(actor=supervisor, action="update").get()
    as_superuser("DELETE FROM caseload_auditevent WHERE id = %s", [db(victim.pk)])
    as_superuser("DELETE FROM caseload_auditseal", [])
    as_superuser("DELETE FROM caseload_auditsealrun", [])
    assert verify()[0] == 0  # inside the database alone nothing is left to see
    code, result = verify_with(seals)
    assert code == 1
    assert {b["problem"] for b in result["broken"]} <= {
        "exported_seal_mismatch",
        "exported_seal_missing",
    }


def test_seals_deleted_behind_a_recorded_run_are_named(activity):
    audit_seal()
    last = AuditSeal.objects.order_by("-position").first()
    as_superuser("DELETE FROM caseload_auditseal WHERE position = %s", [last.position])
    code, result = verify()
    assert code == 1
    assert ("seal", str(last.position), "seal_missing") in problems(result)


@pytest.mark.postgres
def test_each_seal_run_records_the_clusters_system_identifier(activity):
    audit_seal()
    with connection.cursor() as cursor:
        cursor.execute("SELECT system_identifier::text FROM pg_control_system()")
        (system,) = cursor.fetchone()
    assert AuditSealRun.objects.order_by("-id").first().system_identifier == system


def verify_with(seals) -> tuple[int, dict]:
    out = StringIO()
    try:
        call_command("verify_audit_chain", "--seals", str(seals), stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.parametrize(
    "name",
    ['Clinic "North" \\ reminders', "Dr. Ōtsuka 受付 🙂", "\x000\x00", "line\u2028break\nnew"],
)
def test_a_pages_ledger_macs_are_each_rows_own_mac(name):
    """`template_macs` writes each row's canonical JSON from one cut template; every MAC must
    be the one `row_mac` gives the row built whole, whatever the shared text holds."""
    from caseload.tamper import row_mac, template_macs

    shared = {
        "program_id": uuid.uuid4(),
        "disclosed_at": timezone.now(),
        "recipient_name": name,
        "client": uuid.uuid4(),
        "information": ["appointments", name],
        "purpose": name,
        "basis": "qsoa",
        "request_id": "r-1",
    }
    varying = [
        {"id": uuid.uuid4(), "patient_id": uuid.uuid4(), "consent_id": consent}
        for consent in (None, uuid.uuid4(), None)
    ]
    template = Disclosure(patient_id=varying[0]["patient_id"], **shared)
    whole = [row_mac(Disclosure(**shared, **values)) for values in varying]
    assert template_macs(template, varying) == whole
