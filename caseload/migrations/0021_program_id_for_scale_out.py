"""Each appointment carries its patient's program (docs/performance.md, "A 50-program,
10-million-appointment deployment" and "Past one primary").

The column is added empty, filled from the patients (the history rows too), then made NOT NULL;
an index `(program, change_seq, id)` lets an integration's feed walk its own program's rows in
change order, whatever the number of programs. On PostgreSQL a foreign key on
`(patient_id, program_id)` to the patient's `(id, program_id)` (a key of its own, the unique
constraint `patient_id_program`) keeps every row's program its patient's: a write that named
another program is refused by the database, whatever code wrote it.

The fill is one UPDATE per table: on a large table run it in a maintenance window (it rewrites
every appointment row once).
"""

import django.db.models.deletion
from django.db import migrations, models

FILL = {
    "postgresql": (
        "UPDATE {table} t SET program_id = p.program_id FROM caseload_patient p"
        " WHERE p.id = t.patient_id AND t.program_id IS NULL"
    ),
    "other": (
        "UPDATE {table} SET program_id = (SELECT p.program_id FROM caseload_patient p"
        " WHERE p.id = {table}.patient_id) WHERE program_id IS NULL"
    ),
}
TABLES = ("caseload_appointment", "caseload_historicalappointment")
PATIENT_PROGRAM_FK = (
    "ALTER TABLE caseload_appointment ADD CONSTRAINT appointment_patient_program"
    " FOREIGN KEY (patient_id, program_id) REFERENCES caseload_patient (id, program_id)"
    " DEFERRABLE INITIALLY DEFERRED"
)


def appointment_program(**extra) -> models.ForeignKey:
    """The column as the model declares it (added nullable, NOT NULL once filled)."""
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="caseload.program",
        **extra,
    )


def lift_statement_timeout(apps, schema_editor) -> None:
    """Filling, checking and indexing every appointment outlasts the statement timeout a
    request has (`CASELOAD_STATEMENT_TIMEOUT_MS`): this migration's own transaction has none."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET LOCAL statement_timeout = 0")


def fill_program(apps, schema_editor) -> None:
    connection = schema_editor.connection
    statement = FILL.get(connection.vendor, FILL["other"])
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(statement.format(table=table))


def add_patient_program_key(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PATIENT_PROGRAM_FK)


def drop_patient_program_key(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE caseload_appointment DROP CONSTRAINT appointment_patient_program"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("caseload", "0020_partition_audit_and_ledger"),
    ]

    operations = [
        migrations.RunPython(lift_statement_timeout, lift_statement_timeout),
        migrations.AddField(
            model_name="appointment", name="program", field=appointment_program(null=True)
        ),
        migrations.AddField(
            model_name="historicalappointment",
            name="program",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="caseload.program",
            ),
        ),
        migrations.RunPython(fill_program, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="appointment", name="program", field=appointment_program()
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                fields=["program", "change_seq", "id"], name="appointment_program_feed"
            ),
        ),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.UniqueConstraint(fields=("id", "program"), name="patient_id_program"),
        ),
        migrations.RunPython(add_patient_program_key, drop_patient_program_key),
    ]
