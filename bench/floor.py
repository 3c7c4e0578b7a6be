"""The floor: the same answers as Caseload with nothing but the SQL a careful engineer writes.

    gunicorn --workers 2 bench.floor:app        (DATABASE_URL=postgres://… ; bench/run.py starts it)

A bare WSGI function, one psycopg connection per worker, orjson. It serves only what
`bench/run.py` compares:

- `GET /api/v1/appointments/?updated_since=…&page_size=N` and its `?cursor=…` links, for an
  integration client's OAuth2 token: the same fields and envelope (`next`, `previous`,
  `next_sync`, `results`) as Caseload's sync feed, one keyset range scan of the
  `(change_seq, id)` index below the horizon, no COUNT, no OFFSET. The cursor is signed (HMAC)
  like Caseload's links, but carries nothing else.
- `GET /api/v1/patients/{id}/history/` for a staff member's personal token: the same rows the
  patient history reads (each record type's rows of the patient and their history rows), in two
  UNION ALL queries, without the diffing and access rules.

The token check is one indexed lookup (the token's SHA-256 digest) joined to its owner; there is
no audit, no disclosure ledger and no permission model beyond "same program".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from datetime import datetime
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


def client_program(raw: str):
    """The program of the integration client whose live OAuth2 token this is: one lookup."""
    row = (
        db()
        .execute(
            "SELECT c.program_id FROM oauth2_provider_accesstoken t"
            " JOIN caseload_integrationclient c ON c.application_id = t.application_id"
            " WHERE t.token_checksum = %s AND t.expires > now() AND c.disabled_at IS NULL",
            [hashlib.sha256(raw.encode()).hexdigest()],
        )
        .fetchone()
    )
    return row[0] if row else None


def staff_program(raw: str):
    row = (
        db()
        .execute(
            "SELECT s.program_id FROM caseload_apitoken t"
            " JOIN caseload_staff s ON s.id = t.staff_id WHERE t.digest = %s"
            " AND t.revoked_at IS NULL AND t.expires_at > now() AND s.is_active",
            [hashlib.sha256(raw.encode()).hexdigest()],
        )
        .fetchone()
    )
    return row[0] if row else None


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


def feed(environ, start_response, program) -> list[bytes]:
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
        " JOIN caseload_patient p ON p.id = a.patient_id"
        f" WHERE {after} AND a.change_seq < %s AND a.updated_at >= %s AND p.program_id = %s"
        " ORDER BY a.change_seq, a.id LIMIT %s",
        [*params, horizon, since, program, size + 1],
    ).fetchall()
    base = f"http://{environ.get('HTTP_HOST', 'localhost')}{environ['PATH_INFO']}?"
    next_link = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        token = sign([horizon, last[-1], str(last[0]), since])
        next_link = base + urlencode({"cursor": token, "page_size": size})
    results = [dict(zip(NAMES, row[:-1], strict=True)) for row in rows]
    next_sync = None if next_link else base + urlencode({"sync": sign([horizon - 1])})
    envelope = {"next": next_link, "previous": None, "next_sync": next_sync, "results": results}
    return respond(start_response, "200 OK", envelope)


def history(start_response, program, patient_id: str) -> list[bytes]:
    conn = db()
    if not conn.execute(
        "SELECT 1 FROM caseload_patient WHERE id = %s AND program_id = %s", [patient_id, program]
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
    return respond(start_response, "200 OK", {"patient": patient_id, "results": results})


HISTORY_PATH = re.compile(r"^/api/v1/patients/([0-9a-f-]{36})/history/$")


def app(environ, start_response) -> list[bytes]:
    path, raw = environ["PATH_INFO"], bearer(environ)
    if path == "/healthz":
        return respond(start_response, "200 OK", {"status": "ok"})
    if path == "/api/v1/appointments/":
        program = client_program(raw) if raw else None
        if program is None:
            return respond(start_response, "401 Unauthorized", {"detail": "invalid_token"})
        return feed(environ, start_response, program)
    match = HISTORY_PATH.match(path)
    if match:
        program = staff_program(raw) if raw else None
        if program is None:
            return respond(start_response, "401 Unauthorized", {"detail": "invalid_token"})
        return history(start_response, program, match.group(1))
    return respond(start_response, "404 Not Found", {"detail": "Not found."})
