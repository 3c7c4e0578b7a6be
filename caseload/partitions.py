"""Monthly partitions of the audit log and the disclosure ledger on PostgreSQL.

`caseload_auditevent` is partitioned by `occurred_at` and `caseload_disclosure` by
`disclosed_at` (declarative `PARTITION BY RANGE`, one partition per calendar month in UTC, plus
a default partition for a row no month partition takes). SQLite keeps plain tables.

Keys: a primary key on a partitioned table must include the partition key, so the database's
key is `(id, occurred_at)` (`(id, disclosed_at)` for the ledger). Django keeps `id` as the
model's primary key: ids are random UUIDs the application makes, and `audit_verify` names any
second row carrying a sealed id (its MAC cannot verify under the other row's seal). No foreign
key references either table (the seal chain's `row_id` deliberately is not one,
caseload/models/audit.py); conversion refuses to run if one ever does, since the referenced
column would no longer be unique on its own.

Append-only: the row triggers refusing UPDATE and DELETE, and the one stamping each row's
writing transaction, are defined on the partitioned table, and PostgreSQL puts them on every
partition, present and future. A TRUNCATE trigger is a statement trigger, which PostgreSQL does
not pass on, so each partition is given its own as it is made.

docs/operations.md ("Audit partitions") says how partitions are made ahead, what happens to a
row that lands in the default partition, and how old months are archived (detached, never
dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

# Partitioned table -> the column it is partitioned by.
TABLES = {"caseload_auditevent": "occurred_at", "caseload_disclosure": "disclosed_at"}
# Months made ahead of the current one when the tables are converted.
AHEAD = 3
TRUNCATE_TRIGGER = """
CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name}
    FOR EACH STATEMENT EXECUTE FUNCTION caseload_refuse_change()
"""
COPY_SHAPE = (
    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS"
    " INCLUDING STATISTICS"
)


def month_of(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def month_after(month: date, months: int = 1) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _bound(month: date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'"


def _bounds(month: date) -> str:
    return f"FROM ({_bound(month)}) TO ({_bound(month_after(month))})"


def _rows(cursor, sql: str, params=()) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def _exists(cursor, name: str) -> bool:
    return _rows(cursor, "SELECT to_regclass(%s) IS NOT NULL", [name])[0][0]


def is_partitioned(cursor, table: str) -> bool:
    return bool(
        _rows(cursor, "SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [table])
    )


def partitions_of(cursor, table: str) -> list[str]:
    """The table's partitions by name, the default last."""
    rows = _rows(
        cursor,
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        [table],
    )
    return [name for name, _ in sorted(rows, key=lambda row: (row[1], row[0]))]


# Converting a plain table to a partitioned one and back --------------------------------------
@dataclass(frozen=True)
class Shape:
    """What a table has besides its columns, as SQL to make it again on the new table."""

    indexes: list[str]
    foreign_keys: list[tuple[str, str]]
    triggers: list[str]


def _shape(cursor, table: str) -> Shape:
    referencing = _rows(
        cursor,
        "SELECT conname, conrelid::regclass::text FROM pg_constraint"
        " WHERE confrelid = %s::regclass AND contype = 'f' AND conparentid = 0",
        [table],
    )
    if referencing:
        raise RuntimeError(
            f"{table} is referenced by foreign keys {referencing}: its id alone is not unique"
            " once partitioned (caseload/partitions.py)"
        )
    indexes = _rows(
        cursor,
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
        [table],
    )
    keys = _rows(
        cursor,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    triggers = _rows(
        cursor,
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass"
        " AND NOT tgisinternal ORDER BY tgname",
        [table],
    )
    # A partitioned table's own index is made ON ONLY it; made again it is made on both.
    return Shape(
        indexes=[row[0].replace(" ON ONLY ", " ON ") for row in indexes],
        foreign_keys=keys,
        triggers=[row[0] for row in triggers],
    )


def _rebuild(cursor, table: str, column: str, *, partitioned: bool) -> None:
    """Make `table` again, partitioned by month or plain, with every row, index, check and
    foreign key, and trigger it had. Runs inside the migration's transaction."""
    shape = _shape(cursor, table)
    old = f"{table}_before"
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    cursor.execute(f"ALTER TABLE {old} RENAME CONSTRAINT {table}_pkey TO {old}_pkey")
    tail = f" PARTITION BY RANGE ({column})" if partitioned else ""
    cursor.execute(f"CREATE TABLE {table} (LIKE {old} {COPY_SHAPE}){tail}")
    key = f"id, {column}" if partitioned else "id"
    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({key})")
    if partitioned:
        _partition_months(cursor, table, old, column)
    cursor.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    moved, kept = _rows(cursor, f"SELECT (SELECT count(*) FROM {table}), count(*) FROM {old}")[0]
    if moved != kept:
        raise RuntimeError(f"{table}: {moved} of {kept} rows carried over")
    cursor.execute(f"DROP TABLE {old}")
    for statement in shape.indexes:
        cursor.execute(statement)
    for name, definition in shape.foreign_keys:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for statement in shape.triggers:
        cursor.execute(statement)


def _partition_months(cursor, table: str, old: str, column: str) -> None:
    """The default partition, and one for every month from the oldest row's to AHEAD months
    after the current one."""
    cursor.execute(f"CREATE TABLE {default_name(table)} PARTITION OF {table} DEFAULT")
    cursor.execute(TRUNCATE_TRIGGER.format(name=default_name(table)))
    first = _rows(cursor, f"SELECT min({column}) FROM {old}")[0][0]
    now = month_of(datetime.now(UTC))
    month = min(month_of(first.astimezone(UTC)), now) if first else now
    while month <= month_after(now, AHEAD):
        _create_month(cursor, table, month)
        month = month_after(month)


def partition_tables(cursor) -> None:
    for table, column in TABLES.items():
        if not is_partitioned(cursor, table):
            _rebuild(cursor, table, column, partitioned=True)


def unpartition_tables(cursor) -> None:
    for table, column in TABLES.items():
        if is_partitioned(cursor, table):
            _rebuild(cursor, table, column, partitioned=False)


# Months ahead ---------------------------------------------------------------------------------
def _create_month(cursor, table: str, month: date) -> None:
    name = partition_name(table, month)
    cursor.execute(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES {_bounds(month)}")
    cursor.execute(TRUNCATE_TRIGGER.format(name=name))


def _adopt(cursor, table: str, column: str, month: date) -> int:
    """Make the month's partition when the default partition already holds rows of that month:
    the rows move into it in this transaction, ids, MACs and writing transaction unchanged (a
    new partition's bounds may not overlap rows the default holds). Returns how many moved."""
    default, name = default_name(table), partition_name(table, month)
    cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {default}")
    cursor.execute(f"CREATE TABLE {name} (LIKE {table} {COPY_SHAPE})")
    within = f"{column} >= {_bound(month)} AND {column} < {_bound(month_after(month))}"
    cursor.execute(f"INSERT INTO {name} SELECT * FROM {default} WHERE {within}")
    moved = cursor.rowcount
    # Detached, the default has no append-only triggers (they belong to the partitioned
    # table); every row deleted here was copied just above, in the same transaction.
    cursor.execute(f"DELETE FROM {default} WHERE {within}")
    cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES {_bounds(month)}")
    cursor.execute(TRUNCATE_TRIGGER.format(name=name))
    cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT")
    return moved


def create_partitions(cursor, *, months: int, today: date | None = None) -> dict[str, list]:
    """Make, where missing, both tables' partitions of the current month and the `months`
    after it, and of every month the default partition holds rows of (those rows move into
    it). Returns the partitions made and the rows moved out of the default."""
    start = month_of(today or datetime.now(UTC))
    made: list[str] = []
    adopted: list[dict] = []
    for table, column in TABLES.items():
        # Two runs at once take turns, and no row can land in the default partition between
        # looking there and making a month's partition: writes wait for the run (milliseconds
        # unless rows move; making a partition locks the table anyway).
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        wanted = {month_after(start, offset) for offset in range(months + 1)}
        for month in sorted(wanted | _months_in_default(cursor, table, column)):
            name = partition_name(table, month)
            if _exists(cursor, name):
                continue
            within = f"{column} >= {_bound(month)} AND {column} < {_bound(month_after(month))}"
            if _rows(cursor, f"SELECT 1 FROM {default_name(table)} WHERE {within} LIMIT 1"):
                adopted.append({"partition": name, "rows": _adopt(cursor, table, column, month)})
            else:
                _create_month(cursor, table, month)
            made.append(name)
    return {"created": made, "moved_from_default": adopted}


def _months_in_default(cursor, table: str, column: str) -> set[date]:
    rows = _rows(
        cursor,
        f"SELECT DISTINCT date_trunc('month', {column} AT TIME ZONE 'UTC')::date"
        f" FROM {default_name(table)}",
    )
    return {row[0] for row in rows}


def default_rows(cursor) -> dict[str, int]:
    """How many rows each table's default partition holds (rows of months with no partition)."""
    return {
        table: _rows(cursor, f"SELECT count(*) FROM {default_name(table)}")[0][0]
        for table in TABLES
        if is_partitioned(cursor, table)
    }
