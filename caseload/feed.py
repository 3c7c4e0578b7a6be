"""The sync feed's change order: a change number stamped in each writing transaction.

Why not `updated_at` or an auto-increment id: both are taken when a row is written, not when it
commits. A transaction that stamps 10:00:00 and commits at 10:00:05 becomes visible after rows
stamped 10:00:03 have been served, so a reader that already moved past 10:00:03 never sees it.

The mechanism:
- Every write of a served record (`FeedRecord`) sets `change_seq` in the writing transaction
  (`feed_stamp`): on PostgreSQL the transaction's own id (`pg_current_xact_id()`), elsewhere
  (SQLite, whose writers run one at a time) the next value of a one-row counter.
- A walk serves only rows with `change_seq` below its *horizon* (`feed_horizon`): on PostgreSQL
  `pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction still running. Every
  transaction below it has finished, and every later writer gets a larger id, so the set of
  rows below the horizon can no longer grow: a walk over it, in (change_seq, id) order with a
  keyset cursor, sees each row exactly once. The next walk starts at the horizon, so a row
  whose transaction committed late is served then, never lost.
- The price: one long transaction holds the horizon back, and the feed pauses (nothing newer is
  served) until it ends. `feed_lag` measures that for /healthz.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, models
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.utils import timezone
from psycopg.types.datetime import TimestamptzLoader


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def feed_stamp() -> int:
    """The change number for this transaction's writes. Call inside the writing transaction."""
    with connection.cursor() as cursor:
        if _is_postgres():
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            return int(cursor.fetchone()[0])
        # Taking the write lock and the number in one statement: writers are serialized.
        tick = "UPDATE caseload_feedclock SET value = value + 1 WHERE id = 1 RETURNING value"
        cursor.execute(tick)
        row = cursor.fetchone()
        if row is None:  # an emptied database (the migration starts the clock)
            cursor.execute(
                "INSERT INTO caseload_feedclock (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING"
            )
            cursor.execute(tick)
            row = cursor.fetchone()
    return int(row[0])


def feed_horizon() -> int:
    """Rows with a change number below this are final: no transaction can add one there."""
    with connection.cursor() as cursor:
        if _is_postgres():
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        else:
            cursor.execute("SELECT value + 1 FROM caseload_feedclock WHERE id = 1")
        row = cursor.fetchone()
    return int(row[0]) if row else 1


@dataclass(frozen=True)
class Position:
    """A place in the change order: rows strictly after (seq, id); id None: after all of seq."""

    seq: int
    id: str | None = None


class FeedRow:
    """One record of a page read as column values (`feed_page(columns=…)`), no model instance:
    `values` in the order asked, and what the walk, the ETag, the ledger and the audit read of
    a record (its id, patient, version and change number)."""

    __slots__ = ("change_seq", "patient_id", "pk", "values", "version")

    def __init__(self, values: tuple, pk, patient_id, version: int, change_seq: int):
        self.values, self.pk, self.patient_id = values, pk, patient_id
        self.version, self.change_seq = version, change_seq


_ROW_KEYS = ("id", "patient_id", "version", "change_seq")


def _feed_rows(window: models.QuerySet, columns: tuple[str, ...], limit: int) -> list[FeedRow]:
    """The window's first `limit` rows as `FeedRow`s of `columns` (model attnames)."""
    extra = [key for key in _ROW_KEYS if key not in columns]
    names = [*columns, *extra]
    at = [names.index(key) for key in _ROW_KEYS]
    width = len(columns)
    return [
        FeedRow(row[:width], row[at[0]], row[at[1]], row[at[2]], row[at[3]])
        for row in _tuples(window.values_list(*names)[:limit])
    ]


def _tuples(query: models.QuerySet) -> list[tuple]:
    """The rows of a `values_list` query. On PostgreSQL read with psycopg's own (compiled)
    timestamptz loader rather than Django's Python subclass of it, which parsed a feed page's
    1,500 date-times in Python: the same aware UTC values (the session's zone is UTC), when the
    query needs no converter of Django's."""
    db = connections[query.db]
    if db.vendor != "postgresql" or not settings.USE_TZ:
        return list(query)
    compiler = query.query.get_compiler(using=query.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a window that can hold no row (no consented patient): no query
        return []
    if compiler.get_converters([column for column, _, _ in compiler.select]):
        return list(query)
    with db.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(sql, params)
        return cursor.fetchall()


def feed_page(
    queryset: models.QuerySet,
    *,
    after: Position,
    horizon: int,
    size: int,
    columns: tuple[str, ...] | None = None,
) -> tuple[list, Position | None]:
    """One page of the walk (at most `size` rows) and the position after it (None: the end).

    One query, a range scan of the (change_seq, id) index: never OFFSET. The rows are model
    instances, or with `columns` (attnames of a model with a patient and a version) `FeedRow`s
    of those columns, read as tuples.
    """
    if after.id is None:
        window = queryset.filter(change_seq__gt=after.seq)
    else:
        window = queryset.filter(
            TupleGreaterThan(Tuple(F("change_seq"), F("id")), (after.seq, after.id))
        )
    window = window.filter(change_seq__lt=horizon).order_by("change_seq", "id")
    rows = list(window[: size + 1]) if columns is None else _feed_rows(window, columns, size + 1)
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    last = rows[-1]
    return rows, Position(seq=last.change_seq, id=str(last.pk))


def feed_start(horizon: int) -> Position:
    """Where the walk after one bounded by `horizon` starts: every row at or above it."""
    return Position(seq=horizon - 1)


@dataclass(frozen=True)
class FeedLag:
    seconds: float
    waiting_transactions: int | None


def feed_lag(models_served: list[type[models.Model]], now: datetime | None = None) -> FeedLag:
    """How far the feed is behind: the age of the oldest committed change it cannot serve yet.

    On PostgreSQL also how many transactions started since the oldest one still running (the
    one holding the horizon back).
    """
    now = now or timezone.now()
    horizon = feed_horizon()
    oldest = None
    for model in models_served:
        first = (
            model._default_manager.filter(change_seq__gte=horizon)
            .aggregate(oldest=models.Min("updated_at"))
            .get("oldest")
        )
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    waiting = None
    if _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (pg_snapshot_xmax(s)::text::bigint - pg_snapshot_xmin(s)::text::bigint)"
                " FROM pg_current_snapshot() AS s"
            )
            waiting = int(cursor.fetchone()[0])
    seconds = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    return FeedLag(seconds=round(seconds, 3), waiting_transactions=waiting)
