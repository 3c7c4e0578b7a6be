"""The floor: the same answers as Caseload with nothing but the SQL a careful engineer writes.

    gunicorn --workers 2 bench.floor:app        (DATABASE_URL=postgres://… ; bench/run.py starts it)

A bare WSGI function, one psycopg connection per worker, orjson. It serves only what
`bench/run.py` compares:

- `GET /api/v1/appointments/?updated_since=…&page_size=N` and its `?cursor=…` links, for an
  integration client's OAuth2 token: the same fields and envelope (`next`, `previous`,
  `next_sync`, `results`) as Caseload's sync feed, one keyset range scan of the
  `(program, change_seq, id)` index below the horizon, no COUNT, no OFFSET. The cursor is
  signed (HMAC) like Caseload's links, but carries nothing else.
- `GET /api/v1/patients/{id}/history/` for a staff member's personal token: the same rows the
  patient history reads (each record type's rows of the patient and their history rows), in two
  UNION ALL queries, without the diffing and access rules.

The token check is one indexed lookup (the token's SHA-256 digest) joined to its owner; there is
no audit, no disclosure ledger and no permission model beyond "same program".

`lawful_app` is the **lawful floor**: the same reads, plus exactly the writes the law asks of
Caseload for the same request, in one transaction per request:

- every request: its audit event (45 CFR 164.312(b)), one INSERT naming its patients as Caseload
  does (one patient in its column, several through a stored patient set, found by digest or
  stored in the same statement), with the event's MAC;
- an integration client's feed page, before the event: the disclosure ledger (42 CFR 2.24,
  45 CFR 164.528), one row per patient of the page written by one `INSERT … SELECT … FROM
  unnest(…)` as `caseload.services.disclosures` writes it, each row with its MAC.

The MACs are computed as `caseload/tamper.py` and `caseload/services/audit_chain.py` compute
them (HMAC-SHA256 under `CASELOAD_AUDIT_KEY`), so the rows verify like Caseload's. It serves
QSOA clients only (what `bench/run.py` issues); a consent-basis client is refused, since a
floor that ledgered no consent would not be lawful.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

import orjson
import psycopg

SECRET = os.environ.get("DJANGO_SECRET_KEY", "bench-floor").encode()
MAX_PAGE = 1000
FIELDS = 'a.id, a.patient_id, a.staff_id, a.kind, a.status, a.start, a."end", a.location'
FIELDS += ", a.version, a.updated_at"
NAMES = ("id", "patient", "staff", "kind", "status", "start", "end", "location", "version")
NAMES += ("updated_at",)
HISTORY_KINDS = (
    "enrollment",
    "assessment",
    "medicationrecord",
    "drugscreen",
    "referral",
    "appointment",
    "casenote",
)
QSOA_PURPOSE = "Services to the program under a qualified service organization agreement"
PAGING = {"page", "page_size", "cursor"}
_conn: psycopg.Connection | None = None


def db() -> psycopg.Connection:
    global _conn  # one connection per worker process, opened on its first request
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _conn


def respond(start_response, status: str, body: object) -> list[bytes]:
    data = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def bearer(environ) -> str:
    scheme, _, raw = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else ""


def client_of(raw: str):
    """(program, client id, name, basis) of the integration client whose live OAuth2 token this
    is: one lookup."""
    return (
        db()
        .execute(
            "SELECT c.program_id, c.id, c.name, c.basis FROM oauth2_provider_accesstoken t"
            " JOIN caseload_integrationclient c ON c.application_id = t.application_id"
            " WHERE t.token_checksum = %s AND t.expires > now() AND c.disabled_at IS NULL",
            [hashlib.sha256(raw.encode()).hexdigest()],
        )
        .fetchone()
    )


def staff_of(raw: str):
    """(program, staff id, role) of the staff member whose personal token this is."""
    return (
        db()
        .execute(
            "SELECT s.program_id, s.id, s.role FROM caseload_apitoken t"
            " JOIN caseload_staff s ON s.id = t.staff_id WHERE t.digest = %s"
            " AND t.revoked_at IS NULL AND t.expires_at > now() AND s.is_active",
            [hashlib.sha256(raw.encode()).hexdigest()],
        )
        .fetchone()
    )


def sign(data: list) -> str:
    body = base64.urlsafe_b64encode(orjson.dumps(data)).decode()
    mac = hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{body}.{mac}"


def unsign(token: str) -> list | None:
    body, _, mac = token.rpartition(".")
    good = hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(mac, good):
        return None
    return orjson.loads(base64.urlsafe_b64decode(body))


def feed(environ, start_response, client, lawful: bool) -> list[bytes]:
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    size = min(int(query.get("page_size", 100)), MAX_PAGE)
    conn = db()
    if "cursor" in query:
        walk = unsign(query["cursor"])
        if walk is None:
            return respond(start_response, "400 Bad Request", {"cursor": ["invalid"]})
        horizon, seq, last_id, since = walk
    else:
        since = datetime.fromisoformat(query["updated_since"].replace("Z", "+00:00")).isoformat()
        row = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        horizon, seq, last_id = row.fetchone()[0], -1, None
    after = "(a.change_seq, a.id) > (%s, %s)" if last_id else "a.change_seq > %s"
    params = [seq, last_id] if last_id else [seq]
    rows = conn.execute(
        f"SELECT {FIELDS}, a.change_seq FROM caseload_appointment a"  # noqa: S608 - constants
        f" WHERE a.program_id = %s AND {after} AND a.change_seq < %s AND a.updated_at >= %s"
        " ORDER BY a.change_seq, a.id LIMIT %s",
        [client[0], *params, horizon, since, size + 1],
    ).fetchall()
    base = f"http://{environ.get('HTTP_HOST', 'localhost')}{environ['PATH_INFO']}?"
    next_link = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        token = sign([horizon, last[-1], str(last[0]), since])
        next_link = base + urlencode({"cursor": token, "page_size": size})
    if lawful:
        filters = sorted(set(query) - PAGING)
        detail = {"count": len(rows)} | ({"filters": filters} if filters else {})
        patients, request_id = [row[1] for row in rows], uuid.uuid4().hex
        with conn.transaction():
            ledger(conn, client, patients, request_id)
            who = (client[0], None, client[1], "integration")
            audit(conn, who, "list", "appointment", "", patients, detail, request_id)
    results = [dict(zip(NAMES, row[:-1], strict=True)) for row in rows]
    next_sync = None if next_link else base + urlencode({"sync": sign([horizon - 1])})
    envelope = {"next": next_link, "previous": None, "next_sync": next_sync, "results": results}
    return respond(start_response, "200 OK", envelope)


def history(start_response, staff, patient_id: str, lawful: bool) -> list[bytes]:
    conn = db()
    if not conn.execute(
        "SELECT 1 FROM caseload_patient WHERE id = %s AND program_id = %s", [patient_id, staff[0]]
    ).fetchone():
        return respond(start_response, "404 Not Found", {"detail": "Not found."})
    # Table names from the constant HISTORY_KINDS, never from the request.
    records = " UNION ALL ".join(
        f"SELECT '{kind}', to_jsonb(r) FROM caseload_{kind} r WHERE patient_id = %s"  # noqa: S608
        for kind in HISTORY_KINDS
    )
    changes = " UNION ALL ".join(
        f"SELECT to_jsonb(h) FROM caseload_historical{kind} h WHERE patient_id = %s"  # noqa: S608
        for kind in HISTORY_KINDS
    )
    params = [patient_id] * len(HISTORY_KINDS)
    by_record: dict = {}
    for (change,) in conn.execute(changes, params):
        by_record.setdefault(change["id"], []).append(change)
    results = [
        {"kind": kind, "record": record, "changes": by_record.get(record["id"], [])}
        for kind, record in conn.execute(records, params)
    ]
    if lawful:
        with conn.transaction():
            who = (staff[0], staff[1], None, staff[2])
            detail = {"count": 1, "view": "history"}
            audit(conn, who, "read", "patient", patient_id, [patient_id], detail, uuid.uuid4().hex)
    return respond(start_response, "200 OK", {"patient": patient_id, "results": results})


# The lawful floor's writes ------------------------------------------------------------------
def audit_key() -> bytes:
    """The key `caseload.tamper.audit_key` uses: CASELOAD_AUDIT_KEY, else derived from
    DJANGO_SECRET_KEY."""
    configured = os.environ.get("CASELOAD_AUDIT_KEY", "")
    if configured:
        return configured.encode()
    return hashlib.sha256(b"caseload-audit-key:" + SECRET).digest()


def mac(kind: str, document: dict) -> str:
    """`caseload.tamper.document_mac`: HMAC-SHA256 of the kind and the canonical JSON."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    parts = (kind.encode(), canonical)
    message = b"".join(len(part).to_bytes(4, "big") + part for part in parts)
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


def ledger(conn: psycopg.Connection, client, patients: list, request_id: str) -> None:
    """One disclosure row per patient of the page, in one INSERT … SELECT FROM unnest()."""
    program, client_id, name, basis = client
    ids = sorted({str(p) for p in patients})
    if not ids:
        return
    shared = {
        "program_id": str(program), "disclosed_at": datetime.now(UTC).isoformat(),
        "recipient_name": name, "client": str(client_id), "information": ["appointments"],
        "purpose": QSOA_PURPOSE, "basis": basis, "consent_id": None, "actor_id": None,
        "request_id": request_id,
    }  # fmt: skip
    keys = [str(uuid.uuid4()) for _ in ids]
    macs = [
        mac("disclosure", {**shared, "id": k, "patient_id": p})
        for k, p in zip(keys, ids, strict=True)
    ]
    conn.execute(
        "INSERT INTO caseload_disclosure (id, patient_id, consent_id, mac, program_id,"
        " disclosed_at, recipient_name, client_id, information, purpose, basis, request_id)"
        " SELECT p.id, p.patient, NULL, p.mac, %s::uuid, %s::timestamptz, %s::text, %s::uuid,"
        " %s::jsonb, %s::text, %s::text, %s::text"
        " FROM unnest(%s::uuid[], %s::uuid[], %s::text[]) AS p(id, patient, mac)",
        [program, shared["disclosed_at"], name, client_id, json.dumps(shared["information"]),
         QSOA_PURPOSE, basis, shared["request_id"], keys, ids, macs],
    )  # fmt: skip


def audit(conn, who: tuple, action, kind, resource, patients, detail, request_id: str) -> None:
    """One audit event (`caseload.services.audit.audit_event`) by `who` = (program, actor,
    client, role): one patient in its column, several through the stored set of their ids,
    stored in the same statement when new."""
    program, actor, client, role = who
    ids = sorted({str(p) for p in patients})
    event = {
        "id": str(uuid.uuid4()), "occurred_at": datetime.now(UTC).isoformat(),
        "program": str(program), "actor": actor and str(actor), "client": client and str(client),
        "role": role, "action": action, "resource_type": kind, "resource_id": resource,
        "patients": ids, "outcome": "allowed", "status_code": 200,
        "request_id": request_id, "break_glass": False, "detail": detail,
    }  # fmt: skip
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest() if len(ids) > 1 else None
    conn.execute(
        "WITH stored AS (INSERT INTO caseload_auditpatientset (digest, size, patients)"
        " SELECT %(digest)s::text, %(size)s::int, %(ids)s::uuid[]"
        " WHERE %(digest)s::text IS NOT NULL"
        " ON CONFLICT (digest) DO NOTHING RETURNING id)"
        " INSERT INTO caseload_auditevent (id, occurred_at, program_id, actor_id, client_id,"
        " role, action, resource_type, resource_id, patient_id, patient_set_id, outcome,"
        " status_code, request_id, break_glass, detail, mac) VALUES (%(id)s, %(at)s,"
        " %(program)s, %(actor)s, %(client)s, %(role)s, %(action)s, %(kind)s, %(resource)s,"
        " %(patient)s, coalesce((SELECT id FROM stored), (SELECT id FROM"
        " caseload_auditpatientset WHERE digest = %(digest)s::text)), 'allowed', 200, %(request)s,"
        " false, %(detail)s, %(mac)s)",
        {
            "digest": digest, "size": len(ids), "ids": ids, "id": event["id"],
            "at": event["occurred_at"], "program": program, "actor": actor, "client": client,
            "role": role, "action": action, "kind": kind, "resource": resource,
            "patient": ids[0] if len(ids) == 1 else None, "request": event["request_id"],
            "detail": json.dumps(detail), "mac": mac("auditevent", event),
        },
    )  # fmt: skip


HISTORY_PATH = re.compile(r"^/api/v1/patients/([0-9a-f-]{36})/history/$")


def serve(environ, start_response, lawful: bool) -> list[bytes]:
    path, raw = environ["PATH_INFO"], bearer(environ)
    if path == "/healthz":
        return respond(start_response, "200 OK", {"status": "ok"})
    if path == "/api/v1/appointments/":
        client = client_of(raw) if raw else None
        if client is None:
            return respond(start_response, "401 Unauthorized", {"detail": "invalid_token"})
        if lawful and client[3] != "qsoa":
            return respond(start_response, "403 Forbidden", {"detail": "qsoa_clients_only"})
        return feed(environ, start_response, client, lawful)
    match = HISTORY_PATH.match(path)
    if match:
        staff = staff_of(raw) if raw else None
        if staff is None:
            return respond(start_response, "401 Unauthorized", {"detail": "invalid_token"})
        return history(start_response, staff, match.group(1), lawful)
    return respond(start_response, "404 Not Found", {"detail": "Not found."})


def app(environ, start_response) -> list[bytes]:
    """The bare floor: reads only."""
    return serve(environ, start_response, lawful=False)


def lawful_app(environ, start_response) -> list[bytes]:
    """The lawful floor: the same reads and the audit event and ledger rows the law asks for."""
    return serve(environ, start_response, lawful=True)
