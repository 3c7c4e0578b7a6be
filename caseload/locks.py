"""Row locks a reader takes so a concurrent writer cannot change what it relies on.

A disclosure reads consents (and its client) and then writes the ledger: it holds `FOR SHARE`
on those rows until its transaction ends, so a revocation or a disablement (an UPDATE of the
same row) waits for it, and a disclosure that starts after a revocation committed no longer
finds the consent. Readers do not block one another.
"""

from __future__ import annotations

from django.db import connection, models, transaction


def share_lock(queryset: models.QuerySet) -> list:
    """The primary keys of `queryset`'s rows, locked `FOR SHARE` until the transaction ends.

    On SQLite, which has one writer at a time, the caller's transaction is lock enough.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("share_lock holds its rows until the caller's transaction ends")
    keys = queryset.values_list("pk", flat=True)
    if connection.vendor != "postgresql":
        return list(keys)
    sql, params = keys.query.sql_with_params()
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR SHARE OF {table}", params)
        return [row[0] for row in cursor.fetchall()]
