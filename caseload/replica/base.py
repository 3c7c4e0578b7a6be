"""PostgreSQL for the read replica: a query the replica cannot answer is answered by the primary.

The router (caseload/routing.py) sends a read here only while the replica was last seen up and
close enough behind. Between two checks it can still stop, restart, or cancel a query that
conflicts with the WAL it replays (SQLSTATE 40001). A replica read is only ever a read outside
any transaction, so running the same statement on the primary instead gives the same answer,
only fresher: the connection (or the statement) fails over, the replica is marked down for
a few seconds, and the request never sees the failure. A statement cancelled by the statement
timeout is not retried: it would only take as long again on the primary.
"""

from __future__ import annotations

import contextlib

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.backends.postgresql import base
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

FAILOVER_ERRORS = (OperationalError, InterfaceError)


def _is_timeout(exc: Exception) -> bool:
    return type(exc.__cause__).__name__ == "QueryCanceled"


def _primary():
    from caseload.routing import PRIMARY

    return connections[PRIMARY]


def _failed() -> None:
    from caseload.routing import replica_failed

    replica_failed()


class _Failover:
    """Mixed into Django's cursor wrappers: on a connection failure, run on the primary."""

    def execute(self, sql, params=None):
        try:
            return super().execute(sql, params)
        except FAILOVER_ERRORS as exc:
            if _is_timeout(exc):
                raise
            self._to_primary()
            return super().execute(sql, params)

    def executemany(self, sql, param_list):
        raise DatabaseError("the read replica takes no writes")

    def _to_primary(self) -> None:
        replica = self.db
        _failed()
        with contextlib.suppress(DatabaseError):
            self.cursor.close()
        with contextlib.suppress(DatabaseError):
            replica.close()
        primary = _primary().cursor()
        self.cursor, self.db = primary.cursor, primary.db


class FailoverCursorWrapper(_Failover, CursorWrapper):
    pass


class FailoverCursorDebugWrapper(_Failover, CursorDebugWrapper):
    pass


class DatabaseWrapper(base.DatabaseWrapper):
    def _cursor(self, name=None):
        try:
            return super()._cursor(name)
        except FAILOVER_ERRORS:
            _failed()
            with contextlib.suppress(DatabaseError):
                self.close()
            return _primary()._cursor(name)

    def make_cursor(self, cursor):
        return FailoverCursorWrapper(cursor, self)

    def make_debug_cursor(self, cursor):
        return FailoverCursorDebugWrapper(cursor, self)

    def replica_lag(self) -> float:
        """Seconds behind the primary (0 when caught up); raises DatabaseError when the replica
        cannot be reached. Never fails over: this is how the router learns it is down."""
        from caseload.routing import LAG_SQL

        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors, self.connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            return float(cursor.fetchone()[0])
