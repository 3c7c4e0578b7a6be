"""Logging that keeps patient data out of the logs.

Caseload's own messages carry ids, never names or clinical content. What could still carry
patient data is a database error: PostgreSQL's messages quote the values of the row that failed
("Failing row contains (...)", "Key (mrn)=(...) already exists"). `RedactDatabaseErrors` keeps
the traceback of such an error (where it happened) and withholds its message.
"""

from __future__ import annotations

import logging
import traceback

from django.db import DatabaseError

WITHHELD = "[message withheld: a database error's message may quote patient data]"


class RedactDatabaseErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and _involves_database_error(record.exc_info[1]):
            error, tb = record.exc_info[1], record.exc_info[2]
            frames = "".join(traceback.format_tb(tb))
            name = f"{type(error).__module__}.{type(error).__qualname__}"
            record.exc_text = f"Traceback (most recent call last):\n{frames}{name}: {WITHHELD}"
        return True


def _involves_database_error(error: BaseException | None) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DatabaseError) or type(error).__module__.startswith("psycopg"):
            return True
        error = error.__cause__ or error.__context__
    return False
