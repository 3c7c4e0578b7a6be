"""Sending tasks by name, so services never import the task module (no import cycle).

A task sent here is a nudge, never the only record of work: every task re-reads state from the
database, and beat re-scans for anything a lost message would have done. So a broker that is
down when a change commits delays the work; it does not lose it.
"""

from __future__ import annotations

import logging
from importlib import import_module

from django.db import transaction

from config.celery import app

logger = logging.getLogger(__name__)


def enqueue(name: str, *args: str, fail_fast: bool = False) -> None:
    """Send task `name` with id arguments; a broker failure is logged, not raised.

    `fail_fast`: try the broker once, at once (a request must not wait for a broker that is
    down; the work is in the database anyway). Otherwise the pooled connection's retries apply.
    """
    try:
        if app.conf.task_always_eager:
            import_module("caseload.tasks")
            app.tasks[name].apply(args=args, throw=True)
        elif fail_fast:
            options = app.conf.broker_transport_options | {"max_retries": 0}
            with app.connection_for_write(transport_options=options) as connection:
                app.send_task(name, args=args, retry=False, connection=connection)
        else:
            app.send_task(name, args=args, retry=False)
    except Exception:
        if app.conf.task_always_eager:
            raise
        logger.warning("could not send %s; beat will pick the work up", name, exc_info=True)


def enqueue_on_commit(name: str, *args: str) -> None:
    """`enqueue` once the current transaction commits; nothing if it rolls back."""
    transaction.on_commit(lambda: enqueue(name, *args, fail_fast=True))
