"""A staff list of appointments reads its own program's rows in list order (docs/performance.md,
"The large profile"): on 50 programs the `(start, id)` order across every program made a
counselor's page of 20 scan 166,000 index entries. `(start, id)` stays for the reminders, which
look at every program's next hours."""

from django.db import migrations, models


def lift_statement_timeout(apps, schema_editor) -> None:
    """Indexing every appointment outlasts a request's statement timeout: this migration's own
    transaction has none."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET LOCAL statement_timeout = 0")


class Migration(migrations.Migration):
    dependencies = [
        ("caseload", "0021_program_id_for_scale_out"),
    ]

    operations = [
        migrations.RunPython(lift_statement_timeout, lift_statement_timeout),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                fields=["program", "start", "id"], name="appointment_program_list"
            ),
        ),
    ]
