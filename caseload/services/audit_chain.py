"""Tamper evidence for the audit log, the disclosure ledger, consents and break-the-glass
openings: row MACs, a keyed seal chain, and seals exported outside the database.

Every protected row carries a MAC under the application's key (caseload/tamper.py): an audit
event over its fields and its patients' ids, the other rows over their columns. Requests write
rows without touching the chain, so they never queue behind one another for its head
(bench/audit_chain.py). Every minute `audit_seal` appends what committed since its last run:

    chain = HMAC(key, previous chain || kind || row id || row MAC)

audit events and ledger rows once each (they never change), consents and openings once per
state (a revocation or a review is a new state). `audit_verify` recomputes every MAC and the
chain and names each row that was inserted, changed, replayed or deleted behind the
application's back; `audit_verify(seals=...)` also checks the seals exported earlier
(`export_audit_seals`), which catches a chain the application itself rebuilt after rows and
seals were deleted. Someone with database access but not the key can forge none of these.

Which rows to seal: on PostgreSQL each event and ledger row carries the id of the transaction
that wrote it (`txid`, set by trigger). The sealer's snapshot lists the transactions still
running; a row of any other transaction that began before the snapshot is visible now or never
will be, so it is sealed; rows of running transactions wait for a later run. Every transaction
older than the snapshot's `xmin` has ended, so each run starts from the previous run's `xmin`,
unless the database now runs on another cluster (a restore: its system identifier differs, and
transaction ids start again), when every unsealed row is looked at. SQLite runs one writer at a
time, so there every committed row is sealable. Consents and openings are few: a state is
pending when no seal holds its MAC.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from caseload.models import (
    AuditEvent,
    AuditPatientSet,
    AuditSeal,
    AuditSealRun,
    BreakGlass,
    Consent,
    Disclosure,
    SealKind,
)
from caseload.tamper import keyed_digest, macs_match, row_mac

logger = logging.getLogger(__name__)
GENESIS = bytes(32)
BATCH = 2000
# Serializes sealers (beat and a manual verify) on PostgreSQL.
SEAL_LOCK = 0x6361_7365_6C6F_6164  # "caseload"
# How many broken rows a verification lists (the first is always named).
MAX_NAMED = 1000
# Rows sealed once (append-only) and rows sealed per state.
ONCE: dict[str, type[models.Model]] = {
    SealKind.AUDIT_EVENT: AuditEvent,
    SealKind.DISCLOSURE: Disclosure,
}
PER_STATE: dict[str, type[models.Model]] = {
    SealKind.CONSENT: Consent,
    SealKind.BREAK_GLASS: BreakGlass,
}
MODELS = ONCE | PER_STATE


@dataclass
class Verification:
    ok: bool
    events: int
    broken: list[dict[str, str]] = field(default_factory=list)

    @property
    def first_broken(self) -> str | None:
        return self.broken[0]["id"] if self.broken else None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"ok": self.ok, "events": self.events}
        if not self.ok:
            result["first_broken"] = self.first_broken
            result["broken"] = self.broken
        return result


# MACs -----------------------------------------------------------------------------------------
def canonical(event: AuditEvent, patient_ids: list[str]) -> bytes:
    """The bytes of an event its MAC covers: every field, and its patients' ids."""
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


def event_mac(event: AuditEvent, patient_ids: Iterable[str]) -> str:
    return keyed_digest(SealKind.AUDIT_EVENT.encode(), canonical(event, sorted(patient_ids))).hex()


def expected_mac(kind: str, row: models.Model, members: dict[int, list[str]]) -> str:
    if kind == SealKind.AUDIT_EVENT:
        return event_mac(row, _patients_of(row, members))
    return row_mac(row)


def _link(previous: bytes, kind: str, row_id: Any, mac: str) -> bytes:
    return keyed_digest(previous, kind.encode(), str(row_id).encode(), mac.encode())


# Sealing --------------------------------------------------------------------------------------
def audit_seal() -> int:
    """Append every sealable row (and row state) to the chain; returns how many were sealed.

    A row whose MAC does not verify is never sealed: it stays pending, and the verifier names it.
    Nor does the sealer extend a chain whose recorded seals are gone (it would rebuild them).
    """
    with transaction.atomic():
        horizon, snapshot, system = _lock_and_snapshot()
        last_run = AuditSealRun.objects.order_by("-id").first()
        last = AuditSeal.objects.order_by("-position").first()
        if _recorded_end() > (last.position if last else 0):
            logger.error("audit_seal: sealed positions are missing; run verify_audit_chain")
            return 0
        chain = bytes(last.chain) if last else GENESIS
        position = last.position if last else 0
        first = position + 1
        since = _since(last_run, snapshot, system)
        for kind, batch in _pending(since=since, snapshot=snapshot):
            members = _members(batch) if kind == SealKind.AUDIT_EVENT else {}
            seals = []
            for row in batch:
                mac = expected_mac(kind, row, members)
                if not macs_match(row.mac, mac):
                    continue
                chain = _link(chain, kind, row.pk, mac)
                position += 1
                seals.append(
                    AuditSeal(position=position, kind=kind, row_id=row.pk, row_mac=mac, chain=chain)
                )
            AuditSeal.objects.bulk_create(seals)
        if position >= first or (last_run and last_run.system_identifier != system):
            AuditSealRun.objects.create(
                horizon=horizon or 0,
                system_identifier=system,
                first_position=first if position >= first else None,
                last_position=position if position >= first else None,
            )
        return position - first + 1


def _pending(*, since: int, snapshot: Snapshot | None) -> Iterator[tuple[str, list]]:
    """(kind, batch) of every row or row state not sealed yet, in a fixed order."""
    for kind, model in ONCE.items():
        sealed = AuditSeal.objects.filter(kind=kind, row_id=models.OuterRef("pk"))
        pending = model.objects.filter(txid__gte=since).exclude(models.Exists(sealed))
        if snapshot is not None:
            ended = models.Q(txid__lt=snapshot.xmax) & ~models.Q(txid__in=snapshot.running)
            pending = pending.filter(ended | models.Q(txid=snapshot.own))
        time = "occurred_at" if model is AuditEvent else "disclosed_at"
        rows = pending.order_by("txid", time, "id").iterator(chunk_size=BATCH)
        for batch in _batches(rows):
            yield kind, batch
    for kind, model in PER_STATE.items():
        sealed = AuditSeal.objects.filter(
            kind=kind, row_id=models.OuterRef("pk"), row_mac=models.OuterRef("mac")
        )
        rows = model.objects.exclude(models.Exists(sealed)).order_by("created_at", "id")
        for batch in _batches(rows.iterator(chunk_size=BATCH)):
            yield kind, batch


# Verifying ------------------------------------------------------------------------------------
def audit_verify(*, seals: Path | None = None) -> Verification:
    """Seal what is pending, then check every row's MAC, the whole chain, each consent's and
    opening's latest sealed state, and (with `seals`) the seals exported before."""
    audit_seal()
    broken: list[dict[str, str]] = []

    def name(kind: str, row_id: Any, problem: str) -> None:
        if len(broken) < MAX_NAMED:
            broken.append({"kind": kind, "id": str(row_id), "problem": problem})

    chain, events, latest, states = GENESIS, 0, {}, set()
    checkpoints = _exported(seals, name) if seals is not None else {}
    rows = AuditSeal.objects.order_by("position").values_list(
        "position", "kind", "row_id", "row_mac", "chain"
    )
    expected_position, chain_intact = 1, True
    for batch in _batches(rows.iterator(chunk_size=BATCH)):
        found = _rows_of(batch)
        members = _members(found.get(SealKind.AUDIT_EVENT, {}).values())
        for position, kind, row_id, sealed_mac, stored in batch:
            events += kind == SealKind.AUDIT_EVENT
            if position != expected_position and chain_intact:
                name(kind, row_id, "seal_missing")
                chain_intact = False
            expected_position = position + 1
            chain = _link(chain, kind, row_id, sealed_mac)
            if chain_intact and chain != bytes(stored):
                name(kind, row_id, "chain_rebuilt")
                chain_intact = False
            checkpoint = checkpoints.pop(position, None)
            if checkpoint is not None and checkpoint != bytes(stored).hex():
                name(kind, row_id, "exported_seal_mismatch")
            if kind in PER_STATE:
                latest[(kind, str(row_id))] = sealed_mac
                states.add((kind, str(row_id), sealed_mac))
                continue
            row = found.get(kind, {}).get(row_id)
            if row is None:
                name(kind, row_id, "deleted")
            elif not macs_match(row.mac, sealed_mac) or not macs_match(
                sealed_mac, expected_mac(kind, row, members)
            ):
                name(kind, row_id, "changed")
    for position in sorted(checkpoints):
        name("seal", str(position), "exported_seal_missing")
    recorded = _recorded_end()
    if recorded >= expected_position:
        name("seal", str(recorded), "seal_missing")
    _check_states(latest, states, name)
    _check_unsealed(name)
    return Verification(ok=not broken, events=events, broken=broken)


def _check_states(
    latest: dict[tuple[str, str], str], states: set[tuple[str, str, str]], name
) -> None:
    """Each consent and opening carries a MAC that verifies, and is not an earlier sealed
    state put back (a revocation undone by restoring the row as it was). A valid state not
    sealed yet was committed after the seal run, and is sealed by the next."""
    present: set[tuple[str, str]] = set()
    for kind, model in PER_STATE.items():
        for row in model.objects.order_by("pk").iterator(chunk_size=BATCH):
            key = (kind, str(row.pk))
            present.add(key)
            if not macs_match(row.mac, row_mac(row)):
                name(kind, row.pk, "changed")
            elif latest.get(key, row.mac) != row.mac and (*key, row.mac) in states:
                name(kind, row.pk, "replayed")
    for kind, row_id in sorted(set(latest) - present):
        name(kind, row_id, "deleted")


def _check_unsealed(name) -> None:
    """Events and ledger rows the sealer left: a bad MAC means written around the application."""
    for kind, model in ONCE.items():
        sealed = AuditSeal.objects.filter(kind=kind, row_id=models.OuterRef("pk"))
        unsealed = model.objects.exclude(models.Exists(sealed)).order_by("pk")
        for batch in _batches(unsealed.iterator(chunk_size=BATCH)):
            members = _members(batch) if kind == SealKind.AUDIT_EVENT else {}
            for row in batch:
                if not macs_match(row.mac, expected_mac(kind, row, members)):
                    name(kind, row.pk, "inserted")


# Exported seals -------------------------------------------------------------------------------
def audit_export_seals(path: Path) -> dict[str, Any]:
    """Seal what is pending and append the chain's head to `path`, a file kept outside the
    database (write-once storage, another host): one JSON line per export."""
    audit_seal()
    last = AuditSeal.objects.order_by("-position").first()
    with transaction.atomic():
        _, _, system = _lock_and_snapshot()
    line = {
        "position": last.position if last else 0,
        "chain": bytes(last.chain).hex() if last else GENESIS.hex(),
        "exported_at": timezone.now().isoformat(),
        "system_identifier": system,
    }
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(line, sort_keys=True) + "\n")
    return {"file": str(path), "position": line["position"]}


def _exported(path: Path, name) -> dict[int, str]:
    """Position -> chain of every seal exported to `path`."""
    checkpoints: dict[int, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        name("seal", str(path), "exported_seals_unreadable")
        return checkpoints
    for number, text in enumerate(lines, 1):
        try:
            line = json.loads(text)
            if line["position"] > 0:
                checkpoints[int(line["position"])] = str(line["chain"])
        except (ValueError, KeyError, TypeError):
            name("seal", f"{path}:{number}", "exported_seals_unreadable")
    return checkpoints


# Helpers --------------------------------------------------------------------------------------
def _rows_of(batch: list[tuple]) -> dict[str, dict[Any, models.Model]]:
    wanted: dict[str, list] = {}
    for _, kind, row_id, _, _ in batch:
        if kind in ONCE:
            wanted.setdefault(kind, []).append(row_id)
    return {kind: ONCE[kind].objects.in_bulk(ids) for kind, ids in wanted.items()}


def _recorded_end() -> int:
    """The last position any seal run recorded sealing."""
    return AuditSealRun.objects.aggregate(end=models.Max("last_position"))["end"] or 0


def _patients_of(event: AuditEvent, members: dict[int, list[str]]) -> list[str]:
    if event.patient_id is not None:
        return [str(event.patient_id)]
    if event.patient_set_id is not None:
        return members.get(event.patient_set_id, [])
    return []


def _members(events: Iterable[AuditEvent]) -> dict[int, list[str]]:
    wanted = {e.patient_set_id for e in events if e.patient_set_id is not None}
    rows = AuditPatientSet.objects.filter(pk__in=wanted).values_list("pk", "patients")
    return {set_id: sorted(str(i) for i in patients) for set_id, patients in rows}


def _since(last_run: AuditSealRun | None, snapshot: Snapshot | None, system: str) -> int:
    """Where this run starts: the last run's horizon, unless the database now runs on another
    cluster than that run did (a restore, docs/operations.md "Backup and restore":
    transaction ids start again there), or the transaction counter is below the horizon.
    Then every unsealed row is looked at until one is sealed."""
    if last_run is None or last_run.system_identifier != system:
        return 0
    if snapshot is not None and last_run.horizon > snapshot.xmax:
        return 0
    return last_run.horizon


@dataclass(frozen=True)
class Snapshot:
    xmax: int  # transactions from here on had not begun
    running: list[int]  # transactions below xmax still running
    own: int | None  # this transaction: its rows commit together with their seals


def _lock_and_snapshot() -> tuple[int | None, Snapshot | None, str]:
    """(every transaction below this id has ended, the snapshot, the cluster's system
    identifier) on PostgreSQL; (None, None, "") elsewhere."""
    if connection.vendor != "postgresql":
        return None, None, ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])
        cursor.execute(
            "SELECT txid_snapshot_xmin(s), txid_snapshot_xmax(s),"
            " ARRAY(SELECT txid_snapshot_xip(s)), txid_current_if_assigned(),"
            " (SELECT system_identifier::text FROM pg_control_system())"
            " FROM (SELECT txid_current_snapshot() AS s) AS snapshot"
        )
        xmin, xmax, running, own, system = cursor.fetchone()
    snapshot = Snapshot(xmax=xmax, running=[x for x in running if x != own], own=own)
    return xmin, snapshot, system or ""


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
