"""Tamper evidence a database administrator cannot forge (caseload/tamper.py).

Row MACs under CASELOAD_AUDIT_KEY on audit events, the disclosure ledger, consents and
break-the-glass openings; the seal chain keyed by the same key and extended to those rows; the
ledger's writing transaction recorded for the sealer; the cluster's system identifier kept with
each seal run.

Existing rows are given their MACs here, under the key configured when the migration runs
(trust on first use: what was in the database then is taken as written by the application).
The unkeyed chain of earlier versions is dropped and the whole log sealed again, under the key,
by the first run of `audit_seal`.
"""

from django.db import migrations, models
from django.utils.timezone import now as django_now

SEAL_TABLES = ("caseload_auditseal", "caseload_auditsealrun")
LEDGER_TRIGGER = """
CREATE TRIGGER caseload_disclosure_txid BEFORE INSERT ON caseload_disclosure
    FOR EACH ROW EXECUTE FUNCTION caseload_audit_txid();
"""
APPEND_ONLY = "".join(
    f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION caseload_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION caseload_refuse_change();
"""
    for table in SEAL_TABLES
)


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LEDGER_TRIGGER + APPEND_ONLY, params=None)


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER caseload_disclosure_txid ON caseload_disclosure;", params=None
        )


def backfill_macs(apps, schema_editor):
    from caseload.services.audit_chain import event_mac
    from caseload.tamper import row_mac

    postgres = schema_editor.connection.vendor == "postgresql"
    guarded = ("caseload_auditevent", "caseload_disclosure")
    if postgres:
        for table in guarded:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    AuditEvent = apps.get_model("caseload", "AuditEvent")
    AuditPatientSet = apps.get_model("caseload", "AuditPatientSet")
    members = {
        pk: sorted(str(i) for i in patients)
        for pk, patients in AuditPatientSet.objects.values_list("pk", "patients")
    }
    for event in AuditEvent.objects.iterator(chunk_size=2000):
        if event.patient_id is not None:
            patients = [str(event.patient_id)]
        else:
            patients = members.get(event.patient_set_id, [])
        AuditEvent.objects.filter(pk=event.pk).update(mac=event_mac(event, patients))
    for name in ("Disclosure", "Consent", "BreakGlass"):
        model = apps.get_model("caseload", name)
        for row in model.objects.iterator(chunk_size=2000):
            model.objects.filter(pk=row.pk).update(mac=row_mac(row))
    if postgres:
        for table in guarded:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


class Migration(migrations.Migration):
    dependencies = [("caseload", "0012_break_glass_alerts_and_closing")]

    operations = [
        migrations.DeleteModel(name="AuditSeal"),
        migrations.DeleteModel(name="AuditSealRun"),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                ("position", models.BigIntegerField(primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("auditevent", "Audit Event"),
                            ("disclosure", "Disclosure"),
                            ("consent", "Consent"),
                            ("breakglass", "Break Glass"),
                        ],
                        max_length=20,
                    ),
                ),
                ("row_id", models.UUIDField()),
                ("row_mac", models.CharField(max_length=64)),
                ("chain", models.BinaryField(max_length=32)),
            ],
            options={
                "ordering": ["position"],
                "indexes": [
                    models.Index(fields=["kind", "row_id", "-position"], name="audit_seal_row")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "row_id", "row_mac"), name="audit_seal_one_per_row_state"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AuditSealRun",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("sealed_at", models.DateTimeField(default=django_now)),
                ("horizon", models.BigIntegerField(default=0)),
                ("system_identifier", models.CharField(blank=True, max_length=40)),
                ("first_position", models.BigIntegerField(null=True)),
                ("last_position", models.BigIntegerField(null=True)),
            ],
            options={"ordering": ["-id"]},
        ),
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="disclosure",
            name="mac",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="disclosure",
            name="txid",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="consent",
            name="mac",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="breakglass",
            name="mac",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(install_triggers, remove_triggers),
        migrations.RunPython(backfill_macs, migrations.RunPython.noop),
    ]
