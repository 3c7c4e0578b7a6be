"""The audit log and the disclosure ledger partitioned by month on PostgreSQL.

Each table is made again as a partitioned table (`PARTITION BY RANGE` on `occurred_at`,
`disclosed_at`) with a default partition and one partition for every month from its oldest row
to three months ahead; every row is carried over (the migration stops if a count differs), and
every index, check and foreign-key constraint and trigger (append-only, writing transaction)
is made again on it. The database's primary key becomes `(id, <partition column>)`; Django
keeps `id` as the primary key. Reversing makes plain tables again, rows carried back.
SQLite is left as it is. See caseload/partitions.py and docs/operations.md.
"""

from django.db import migrations


def _rebuild(schema_editor, how: str) -> None:
    """Run `caseload.partitions.<how>` on PostgreSQL, in this migration's transaction."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from caseload import partitions

    with schema_editor.connection.cursor() as cursor:
        # Foreign keys are checked as rows are copied, so no trigger events are pending when
        # the old tables are dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Copying years of audit outlasts a request's statement timeout; this transaction
        # has none.
        cursor.execute("SET LOCAL statement_timeout = 0")
        getattr(partitions, how)(cursor)


def partition(apps, schema_editor):
    _rebuild(schema_editor, "partition_tables")


def unpartition(apps, schema_editor):
    _rebuild(schema_editor, "unpartition_tables")


class Migration(migrations.Migration):
    dependencies = [("caseload", "0019_patient_rights")]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
