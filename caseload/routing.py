"""Which database a query reads from when a streaming replica is configured
(`DATABASE_REPLICA_URL`; docs/operations.md, "Scale-out").

The primary is the default for everything. A request reads from the replica only when it opted
in (`allow_replica_reads`, called by the API once a staff member's GET is authenticated), and
then only:

- records whose staleness is harmless for a few seconds: clinical and demographic records and
  their change history (`REPLICA_READABLE`). Queries of the audit log, the disclosure ledger,
  consents, break-the-glass openings, tokens, grants and background work always go to the
  primary: what the law makes Caseload record, or what opens access, is never read stale
  there. (A list scoped by care-team grants carries them as a subquery, which runs with its
  records: a grant removed moments ago may still show its patient for up to the lag limit.);
- outside any transaction on the primary (a read inside a writing transaction, such as one
  under `select_for_update`, must see that transaction's own rows and locks);
- while the replica answers and lags at most `CASELOAD_REPLICA_MAX_LAG_SECONDS` (checked at
  most once a second per process; a replica found down is tried again after
  `RETRY_SECONDS`);
- unless the same actor wrote within `CASELOAD_READ_YOUR_WRITES_SECONDS`.

Integration clients, sync walks, commands and tasks never opt in, so everything a client
receives, including every consent a disclosure relies on, comes from the primary.

Where an actor's last write is kept: in the `routing` cache, which is Redis whenever `REDIS_URL`
is set (production requires it with a replica), so every web process of every host sees it. A
cookie would not do: API clients authenticate with bearer tokens and keep no cookies, and one
actor may write from one device and read from another. A key per actor with the window as its
expiry costs one GET per staff read and removes itself. When the cache cannot be reached the
actor is treated as having just written: the read goes to the primary.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connections

from caseload.context import current_request
from caseload.models import is_integration
from caseload.permissions import is_staff_member

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
# How long a replica's state (up, lag) is trusted before it is asked again, and how long one
# that failed is left alone.
CHECK_SECONDS = 1.0
RETRY_SECONDS = 5.0
ROUTING_CACHE = "routing"

# Models a staff read may take from the replica: the records themselves and their history.
REPLICA_READABLE = frozenset(
    {
        "caseload.program",
        "caseload.staff",
        "caseload.patient",
        "caseload.enrollment",
        "caseload.casenote",
        "caseload.appointment",
        "caseload.assessment",
        "caseload.medicationrecord",
        "caseload.drugscreen",
        "caseload.drugscreenresult",
        "caseload.referral",
        "caseload.followup",
        "caseload.alert",
    }
)

# Seconds the replica is behind: 0 when it has replayed everything it received from a live
# stream, otherwise the age of the last transaction it replayed (an idle primary sends none,
# which is why a connected, caught-up standby counts as 0).
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
        AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0
    ELSE COALESCE(
        EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 'Infinity')
END
"""


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_readable(model: type) -> bool:
    """A model (or the change history of one, from django-simple-history) whose rows a staff
    read may take from the replica."""
    model = getattr(model, "instance_type", None) or model
    return model._meta.label_lower in REPLICA_READABLE


class ReplicaRouter:
    """Registered (DATABASE_ROUTERS) only when DATABASE_REPLICA_URL is set."""

    def db_for_read(self, model, **hints) -> str:
        context = current_request()
        if (
            context is not None
            and context.replica_reads
            and replica_readable(model)
            and not connections[PRIMARY].in_atomic_block
        ):
            return REPLICA
        return PRIMARY

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, two servers

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY


# Opting in --------------------------------------------------------------------------------------
def allow_replica_reads(actor) -> bool:
    """Let the rest of this request read what it may from the replica: for a staff member who
    has not written within the read-your-writes window, while the replica is usable. Call after
    authentication, for a read (GET) only. True when the replica will be used."""
    context = current_request()
    if context is None or not replica_configured():
        return False
    if not is_staff_member(actor) or is_integration(actor) or wrote_recently(actor):
        return False
    context.replica_reads = replica_usable()
    return context.replica_reads


def replica_failed() -> None:
    """The replica failed a query: the rest of this request, and every request of this process
    for the next RETRY_SECONDS, read from the primary."""
    _remember(usable=False)
    context = current_request()
    if context is not None:
        context.replica_reads = False


# The actor's last write -----------------------------------------------------------------------
def _write_key(actor) -> str:
    return f"caseload:wrote:{actor.pk}"


def note_write(actor) -> None:
    """`actor` just wrote: their reads go to the primary for the read-your-writes window."""
    window = settings.CASELOAD_READ_YOUR_WRITES_SECONDS
    if window <= 0 or not is_staff_member(actor) or is_integration(actor):
        return
    try:
        caches[ROUTING_CACHE].set(_write_key(actor), 1, timeout=window)
    except Exception:  # a cache outage must not fail a write that committed
        logger.warning("could not record a write for read-your-writes routing", exc_info=True)


def wrote_recently(actor) -> bool:
    if settings.CASELOAD_READ_YOUR_WRITES_SECONDS <= 0:
        return False
    try:
        return caches[ROUTING_CACHE].get(_write_key(actor)) is not None
    except Exception:  # unknown: assume a recent write, and read from the primary
        logger.warning("read-your-writes cache unavailable; reading from the primary")
        return True


# The replica's state --------------------------------------------------------------------------
@dataclass(frozen=True)
class _State:
    at: float
    usable: bool


_state = _State(at=float("-inf"), usable=False)
_lock = threading.Lock()


def _remember(*, usable: bool) -> None:
    global _state  # one small state per process, replaced whole
    with _lock:
        if _state.usable and not usable:
            logger.warning("read replica skipped: reads go to the primary")
        _state = _State(at=time.monotonic(), usable=usable)


def replica_usable() -> bool:
    """Up, and at most CASELOAD_REPLICA_MAX_LAG_SECONDS behind; asked at most once per
    CHECK_SECONDS (RETRY_SECONDS after a failure) per process."""
    state = _state
    age = time.monotonic() - state.at
    if age < (CHECK_SECONDS if state.usable else RETRY_SECONDS):
        return state.usable
    try:
        lag = connections[REPLICA].replica_lag()
    except DatabaseError:
        with contextlib.suppress(DatabaseError):
            connections[REPLICA].close()
        logger.warning("read replica unreachable")
        _remember(usable=False)
        return False
    usable = lag <= settings.CASELOAD_REPLICA_MAX_LAG_SECONDS
    if not usable:
        logger.warning("read replica %.1f s behind", lag)
    _remember(usable=usable)
    return usable


def forget_replica_state() -> None:
    """Ask the replica again at the next read (tests, and after reconfiguration)."""
    global _state
    with _lock:
        _state = _State(at=float("-inf"), usable=False)
