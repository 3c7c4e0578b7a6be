"""Tamper evidence for the audit log: a hash chain sealed by a periodic task.

Requests write events without touching the chain, so they never queue behind one another for
its head (bench/audit_chain.py measures what a chain written by each request costs). Every
minute `audit_seal` appends the events that committed since its last run, in a fixed order, each
as `AuditSeal(position, event_id, chain)` with

    chain = SHA-256(previous chain || canonical JSON of the event and its patient ids)

`audit_verify` recomputes the chain from the events as they are now and names the first event
whose content, patients, order or presence no longer matches.

Which events to seal: on PostgreSQL each event carries the id of the transaction that wrote it
(`txid`, set by trigger). The sealer's snapshot lists the transactions still running; an event
of any other transaction that began before the snapshot is visible now or never will be, so it
is sealed; events of running transactions wait for a later run. Every transaction older than the
snapshot's `xmin` has ended, so each run starts from the previous run's `xmin` (the events above
it not sealed yet are found by an anti-join on that range). No event is missed because its
transaction committed late, and none is sealed twice. SQLite runs one writer at a time, so
there every committed event is sealable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, models, transaction

from caseload.models import AuditEvent, AuditPatientSet, AuditSeal, AuditSealRun

GENESIS = bytes(32)
BATCH = 2000
# Serializes sealers (beat and a manual verify) on PostgreSQL.
SEAL_LOCK = 0x6361_7365_6C6F_6164  # "caseload"


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    first_broken: str | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"ok": self.ok, "events": self.events}
        if not self.ok:
            result["first_broken"] = self.first_broken
        return result


def audit_seal() -> int:
    """Append every sealable event to the chain; returns how many were sealed."""
    with transaction.atomic():
        horizon, running = _lock_and_snapshot()
        last_run = AuditSealRun.objects.order_by("-id").first()
        last = AuditSeal.objects.order_by("-position").first()
        chain = bytes(last.chain) if last else GENESIS
        position = last.position if last else 0
        first = position + 1
        pending = _pending(since=_since(last_run, running), snapshot=running)
        for batch in _batches(pending):
            members = _members([e.patient_set_id for e in batch])
            seals = []
            for event in batch:
                chain = _link(chain, event, members)
                position += 1
                seals.append(AuditSeal(position=position, event_id=event.pk, chain=chain))
            AuditSeal.objects.bulk_create(seals)
        if position >= first:
            AuditSealRun.objects.create(
                horizon=horizon or 0, first_position=first, last_position=position
            )
        return position - first + 1


def audit_verify() -> Verification:
    """Seal what is pending, then recompute the whole chain from the events as they are."""
    audit_seal()
    chain, count, broken = GENESIS, 0, None
    seals = AuditSeal.objects.order_by("position").values_list("position", "event_id", "chain")
    for batch in _batches(seals.iterator(chunk_size=BATCH)):
        count += len(batch)
        if broken is not None:
            continue
        events = AuditEvent.objects.in_bulk([event_id for _, event_id, _ in batch])
        members = _members([e.patient_set_id for e in events.values()])
        for expected_position, (position, event_id, stored) in enumerate(
            batch, count - len(batch) + 1
        ):
            event = events.get(event_id)
            if event is None or position != expected_position:
                broken = str(event_id)
                break
            chain = _link(chain, event, members)
            if chain != bytes(stored):
                broken = str(event_id)
                break
    return Verification(ok=broken is None, events=count, first_broken=broken)


def canonical(event: AuditEvent, patient_ids: list[str]) -> bytes:
    """The bytes of an event the chain covers: every field, and its patients' ids."""
    return json.dumps(
        {
            "id": str(event.pk),
            "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
            "program": _text(event.program_id),
            "actor": _text(event.actor_id),
            "client": _text(event.client),
            "role": event.role,
            "action": event.action,
            "resource_type": event.resource_type,
            "resource_id": event.resource_id,
            "patients": patient_ids,
            "outcome": event.outcome,
            "status_code": event.status_code,
            "request_id": event.request_id,
            "break_glass": event.break_glass,
            "detail": event.detail,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def _link(previous: bytes, event: AuditEvent, members: dict[int, list[str]]) -> bytes:
    if event.patient_id is not None:
        patients = [str(event.patient_id)]
    elif event.patient_set_id is not None:
        patients = members.get(event.patient_set_id, [])
    else:
        patients = []
    return hashlib.sha256(previous + canonical(event, patients)).digest()


def _members(set_ids: list[int | None]) -> dict[int, list[str]]:
    wanted = {i for i in set_ids if i is not None}
    rows = AuditPatientSet.objects.filter(pk__in=wanted).values_list("pk", "patients")
    return {set_id: sorted(str(i) for i in patients) for set_id, patients in rows}


def _since(last_run: AuditSealRun | None, snapshot: Snapshot | None) -> int:
    """Where this run starts: the last run's horizon, unless the transaction counter is now below
    it. That happens when the database was restored on another cluster (README, "Backup and
    restore"): transaction ids start again from low numbers there, and the events written since
    would sit below the horizon for ever. Every unsealed event is looked at until one is sealed."""
    if last_run is None or (snapshot is not None and last_run.horizon > snapshot.xmax):
        return 0
    return last_run.horizon


def _pending(*, since: int, snapshot: Snapshot | None) -> Iterator[AuditEvent]:
    sealed = AuditSeal.objects.filter(event_id=models.OuterRef("pk"))
    pending = AuditEvent.objects.filter(txid__gte=since).exclude(models.Exists(sealed))
    if snapshot is not None:
        ended = models.Q(txid__lt=snapshot.xmax) & ~models.Q(txid__in=snapshot.running)
        pending = pending.filter(ended | models.Q(txid=snapshot.own))
    return pending.order_by("txid", "occurred_at", "id").iterator(chunk_size=BATCH)


@dataclass(frozen=True)
class Snapshot:
    xmax: int  # transactions from here on had not begun
    running: list[int]  # transactions below xmax still running
    own: int | None  # this transaction: its events commit together with their seals


def _lock_and_snapshot() -> tuple[int | None, Snapshot | None]:
    """(every transaction below this id has ended, the snapshot) on PostgreSQL; (None, None)
    elsewhere."""
    if connection.vendor != "postgresql":
        return None, None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])
        cursor.execute(
            "SELECT txid_snapshot_xmin(s), txid_snapshot_xmax(s),"
            " ARRAY(SELECT txid_snapshot_xip(s)), txid_current_if_assigned()"
            " FROM (SELECT txid_current_snapshot() AS s) AS snapshot"
        )
        xmin, xmax, running, own = cursor.fetchone()
    return xmin, Snapshot(xmax=xmax, running=[x for x in running if x != own], own=own)


def _batches(rows) -> Iterator[list]:
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
