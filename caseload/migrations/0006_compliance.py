"""Compliance: the audit log in its contract shape (patient sets, outcome, request id, break-the-glass
flag), the seal chain, Part 2 consents, the disclosure ledger and break-the-glass access.

Existing audit rows are carried over: their action names become the contract's (details kept in
`detail`) and the patient ids their JSON held become patient sets. On PostgreSQL the audit
tables and the disclosure ledger then refuse UPDATE, DELETE and TRUNCATE, and every audit event
records the id of the transaction that wrote it (see caseload/services/audit_chain.py).
"""

import hashlib

import caseload.models.fields
import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

# Old action name -> (contract action, what goes into detail).
RENAMED_ACTIONS = {
    "read_history": ("read", {"view": "history"}),
    "read_trend": ("read", {"view": "withdrawal_trend"}),
    "referral_attending": ("transition", {"to": "attending"}),
    "referral_completed": ("transition", {"to": "completed"}),
    "referral_declined": ("transition", {"to": "declined"}),
    "token_issue": ("create", {}),
    "token_revoke": ("revoke", {}),
    "token_revoke_all": ("revoke", {}),
    "reminder_planned": ("update", {"reminder_planned": True}),
}


def carry_over_events(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Foreign keys are checked as rows are written, so the ALTERs after this step find no
        # pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    AuditEvent = apps.get_model("caseload", "AuditEvent")
    AuditPatientSet = apps.get_model("caseload", "AuditPatientSet")
    Patient = apps.get_model("caseload", "Patient")
    for event in AuditEvent.objects.iterator(chunk_size=500):
        changed = False
        detail = dict(event.detail or {})
        if event.action in RENAMED_ACTIONS:
            event.action, extra = RENAMED_ACTIONS[event.action]
            detail |= extra
            changed = True
        ids = detail.pop("patients", None)
        if ids is not None:
            changed = True
            ids = sorted(set(Patient.objects.filter(pk__in=ids).values_list("pk", flat=True)), key=str)
            if len(ids) == 1:
                event.patient_id = ids[0]
            elif len(ids) > 1:
                event.patient_id = None
                digest = hashlib.sha256("\n".join(str(i) for i in ids).encode()).hexdigest()
                event.patient_set, _ = AuditPatientSet.objects.get_or_create(
                    digest=digest, defaults={"size": len(ids), "patients": ids}
                )
        if changed:
            event.detail = detail
            event.save()


APPEND_ONLY_TABLES = (
    "caseload_auditevent",
    "caseload_auditpatientset",
    "caseload_auditseal",
    "caseload_auditsealrun",
    "caseload_disclosure",
)

APPEND_ONLY_SQL = """
CREATE FUNCTION caseload_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'caseload: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE FUNCTION caseload_audit_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := txid_current();
    RETURN NEW;
END
$$;
CREATE TRIGGER caseload_auditevent_txid BEFORE INSERT ON caseload_auditevent
    FOR EACH ROW EXECUTE FUNCTION caseload_audit_txid();
-- The audit log's `patient` filter: which list pages returned a patient. Without fastupdate
-- the index stays compact (about 2 bytes an id once a patient is known to it).
CREATE INDEX caseload_auditpatientset_patients ON caseload_auditpatientset
    USING gin (patients) WITH (fastupdate = off);
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION caseload_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION caseload_refuse_change();
"""
    for table in APPEND_ONLY_TABLES
)

APPEND_ONLY_REVERSE_SQL = "".join(
    f"DROP TRIGGER {table}_append_only ON {table};\nDROP TRIGGER {table}_no_truncate ON {table};\n"
    for table in APPEND_ONLY_TABLES
) + """
DROP INDEX caseload_auditpatientset_patients;
DROP TRIGGER caseload_auditevent_txid ON caseload_auditevent;
DROP FUNCTION caseload_audit_txid();
DROP FUNCTION caseload_refuse_change();
"""


def install_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


def remove_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_REVERSE_SQL, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('caseload', '0005_correctable_records'),
    ]

    operations = [
        migrations.RenameField(model_name='auditevent', old_name='at', new_name='occurred_at'),
        migrations.RenameField(model_name='auditevent', old_name='object_type', new_name='resource_type'),
        migrations.RenameField(model_name='auditevent', old_name='object_id', new_name='resource_id'),
        migrations.AddField(
            model_name='staff',
            name='break_glass_until',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.CreateModel(
            name='AuditPatientSet',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('digest', models.CharField(max_length=64, unique=True)),
                ('size', models.PositiveIntegerField()),
                ('patients', caseload.models.fields.UUIDListField()),
            ],
        ),
        migrations.CreateModel(
            name='AuditSeal',
            fields=[
                ('position', models.BigIntegerField(primary_key=True, serialize=False)),
                ('event_id', models.UUIDField(unique=True)),
                ('chain', models.BinaryField(max_length=32)),
            ],
            options={
                'ordering': ['position'],
            },
        ),
        migrations.CreateModel(
            name='AuditSealRun',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('sealed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('horizon', models.BigIntegerField(default=0)),
                ('first_position', models.BigIntegerField(null=True)),
                ('last_position', models.BigIntegerField(null=True)),
            ],
            options={
                'ordering': ['-id'],
            },
        ),
        migrations.CreateModel(
            name='BreakGlass',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True)),
                ('version', models.PositiveIntegerField(default=1)),
                ('reason', models.TextField(max_length=2000)),
                ('opened_at', models.DateTimeField()),
                ('expires_at', models.DateTimeField()),
                ('reviewed_at', models.DateTimeField(blank=True, null=True)),
                ('review_note', models.TextField(blank=True, max_length=2000)),
            ],
            options={
                'verbose_name_plural': 'break-glass accesses',
                'ordering': ['-opened_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Consent',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True)),
                ('version', models.PositiveIntegerField(default=1)),
                ('recipient_name', models.CharField(max_length=200)),
                ('recipient_client', models.UUIDField(blank=True, db_column='recipient_client_id', db_index=True, null=True)),
                ('purpose', models.TextField(max_length=2000)),
                ('information', models.JSONField()),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
                ('expiry_event', models.CharField(blank=True, max_length=500)),
                ('signed_by', models.CharField(max_length=200)),
                ('signed_at', models.DateTimeField()),
                ('revocation_notice', models.BooleanField()),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-signed_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Disclosure',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('disclosed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('recipient_name', models.CharField(max_length=200)),
                ('client', models.UUIDField(blank=True, db_column='client_id', db_index=True, null=True)),
                ('information', models.JSONField()),
                ('purpose', models.TextField(max_length=2000)),
                ('basis', models.CharField(choices=[('consent', 'Consent'), ('qsoa', 'Qsoa')], max_length=10)),
                ('request_id', models.CharField(blank=True, max_length=64)),
            ],
            options={
                'ordering': ['-disclosed_at', '-id'],
            },
        ),
        migrations.AlterModelOptions(
            name='auditevent',
            options={'ordering': ['-occurred_at', '-id']},
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='caseload_au_program_d3f9d0_idx',
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='caseload_au_patient_98ab87_idx',
        ),
        migrations.AddField(
            model_name='auditevent',
            name='break_glass',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='client',
            field=models.UUIDField(blank=True, db_column='client_id', db_index=True, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='outcome',
            field=models.CharField(choices=[('allowed', 'Allowed'), ('denied', 'Denied')], default='allowed', max_length=10),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='request_id',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='role',
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='status_code',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='txid',
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('list', 'List'), ('read', 'Read'), ('create', 'Create'), ('update', 'Update'), ('entered_in_error', 'Entered In Error'), ('transition', 'Transition'), ('export', 'Export'), ('disclose', 'Disclose'), ('grant', 'Grant'), ('revoke', 'Revoke'), ('break_glass', 'Break Glass'), ('login', 'Login'), ('login_failed', 'Login Failed'), ('lockout', 'Lockout')], max_length=20),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='occurred_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='resource_type',
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='patient_set',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='caseload.auditpatientset'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['program', '-occurred_at', '-id'], name='audit_program_time'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['patient', '-occurred_at'], name='audit_patient_time'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['patient_set', '-occurred_at'], name='audit_set_time'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['txid'], name='audit_txid'),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.CheckConstraint(condition=models.Q(('outcome__in', ['allowed', 'denied'])), name='audit_outcome_valid'),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.CheckConstraint(condition=models.Q(('patient__isnull', True), ('patient_set__isnull', True), _connector='OR'), name='audit_one_patient_reference'),
        ),
        migrations.AddField(
            model_name='breakglass',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='breakglass',
            name='patient',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='caseload.patient'),
        ),
        migrations.AddField(
            model_name='breakglass',
            name='program',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='caseload.program'),
        ),
        migrations.AddField(
            model_name='breakglass',
            name='reviewed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='breakglass',
            name='staff',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='breakglass',
            name='updated_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='consent',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='consent',
            name='patient',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='caseload.patient'),
        ),
        migrations.AddField(
            model_name='consent',
            name='program',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='caseload.program'),
        ),
        migrations.AddField(
            model_name='consent',
            name='revoked_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='consent',
            name='updated_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='disclosure',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='disclosure',
            name='consent',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='caseload.consent'),
        ),
        migrations.AddField(
            model_name='disclosure',
            name='patient',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='caseload.patient'),
        ),
        migrations.AddField(
            model_name='disclosure',
            name='program',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='caseload.program'),
        ),
        migrations.AddIndex(
            model_name='breakglass',
            index=models.Index(fields=['staff', 'expires_at'], name='break_glass_staff_expiry'),
        ),
        migrations.AddIndex(
            model_name='breakglass',
            index=models.Index(fields=['program', 'reviewed_at'], name='break_glass_review_queue'),
        ),
        migrations.AddConstraint(
            model_name='breakglass',
            constraint=models.CheckConstraint(condition=models.Q(('expires_at__gt', models.F('opened_at'))), name='break_glass_expires_after_opening'),
        ),
        migrations.AddConstraint(
            model_name='breakglass',
            constraint=models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='break_glass_reason_given'),
        ),
        migrations.AddConstraint(
            model_name='breakglass',
            constraint=models.CheckConstraint(condition=models.Q(('reviewed_at__isnull', True), models.Q(('reviewed_by__isnull', False), models.Q(('review_note', ''), _negated=True)), _connector='OR'), name='break_glass_review_complete'),
        ),
        migrations.AddIndex(
            model_name='consent',
            index=models.Index(fields=['patient', '-signed_at'], name='consent_patient_signed'),
        ),
        migrations.AddConstraint(
            model_name='consent',
            constraint=models.CheckConstraint(condition=models.Q(('expires_at__isnull', False), models.Q(('expiry_event', ''), _negated=True), _connector='OR'), name='consent_has_expiry'),
        ),
        migrations.AddConstraint(
            model_name='consent',
            constraint=models.CheckConstraint(condition=models.Q(('revocation_notice', True)), name='consent_revocation_notice'),
        ),
        migrations.AddConstraint(
            model_name='consent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('recipient_name', ''), _negated=True), models.Q(('purpose', ''), _negated=True), models.Q(('signed_by', ''), _negated=True)), name='consent_elements_present'),
        ),
        migrations.AddIndex(
            model_name='disclosure',
            index=models.Index(fields=['patient', '-disclosed_at'], name='disclosure_patient_time'),
        ),
        migrations.AddIndex(
            model_name='disclosure',
            index=models.Index(fields=['program', '-disclosed_at'], name='disclosure_program_time'),
        ),
        migrations.AddConstraint(
            model_name='disclosure',
            constraint=models.CheckConstraint(condition=models.Q(('basis__in', ['consent', 'qsoa'])), name='disclosure_basis_valid'),
        ),
        migrations.AddConstraint(
            model_name='disclosure',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('basis', 'consent'), _negated=True), ('consent__isnull', False), _connector='OR'), name='disclosure_consent_named'),
        ),
        migrations.RunPython(carry_over_events, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.CheckConstraint(condition=models.Q(('action__in', ['list', 'read', 'create', 'update', 'entered_in_error', 'transition', 'export', 'disclose', 'grant', 'revoke', 'break_glass', 'login', 'login_failed', 'lockout'])), name='audit_action_valid'),
        ),
        migrations.RunPython(install_append_only, remove_append_only),
    ]
