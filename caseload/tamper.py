"""Row MACs: what makes the audit log, the disclosure ledger, consents and break-the-glass
openings tamper-evident against someone with database access but not the application's key.

Each protected row carries `mac` = HMAC-SHA256(CASELOAD_AUDIT_KEY, kind || canonical JSON of
the row). The key lives in the environment, never in the database, so a row inserted, changed
or replayed by hand cannot carry a MAC that verifies. The seal chain
(caseload/services/audit_chain.py) links the rows' MACs in order under the same key, so a row
deleted, or a chain rebuilt, is named too; the seals exported outside the database
(`export_audit_seals`) catch a chain rebuilt by the application itself after a deletion.

Outside production, where the key is optional, it is derived from SECRET_KEY so the default run
needs nothing set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import models

# Columns a MAC never covers: the MAC itself, the writing transaction's id (set by the
# database), and bookkeeping times the ORM stamps while saving.
UNCOVERED = frozenset({"mac", "txid"})


def audit_key() -> bytes:
    configured = settings.CASELOAD_AUDIT_KEY
    if configured:
        return configured.encode()
    return hashlib.sha256(b"caseload-audit-key:" + settings.SECRET_KEY.encode()).digest()


def keyed_digest(*parts: bytes) -> bytes:
    """HMAC-SHA256 under the audit key of the parts, each length-prefixed."""
    message = b"".join(len(part).to_bytes(4, "big") + part for part in parts)
    return hmac.new(audit_key(), message, hashlib.sha256).digest()


def document_mac(kind: str, document: dict[str, Any]) -> str:
    """The MAC of one row's canonical document."""
    return keyed_digest(kind.encode(), _canonical(document).encode()).hex()


def row_document(instance: models.Model) -> dict[str, Any]:
    """Every column of the row a MAC covers, by column name, as plain JSON values.

    A column named in the model's `MAC_WHEN_SET` was added after rows were first MACed: it is
    covered once it holds a value (not None, not ""), so the rows written before it keep the
    MAC they were sealed with, and a value put into one by hand still breaks it.
    """
    when_set = getattr(type(instance), "MAC_WHEN_SET", ())
    document = {}
    for name in _covered(type(instance)):
        value = getattr(instance, name)
        if name in when_set and value in (None, ""):
            continue
        document[name] = _plain(value)
    return document


@cache
def _covered(model: type[models.Model]) -> tuple[str, ...]:
    """The attribute names a MAC covers, worked out once per model (a feed page MACs 500 rows)."""
    return tuple(
        field.attname
        for field in model._meta.concrete_fields
        if field.attname not in UNCOVERED
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
    )


def row_mac(instance: models.Model) -> str:
    return document_mac(instance._meta.model_name, row_document(instance))


def sibling_macs(rows: list[models.Model], varying: tuple[str, ...]) -> list[str]:
    """MACs of rows of one model that share every covered column but `varying`: the shared part
    is read once (a feed page's 500 ledger rows differ only in id, patient and consent)."""
    if not rows:
        return []
    values = ({name: getattr(row, name) for name in varying} for row in rows)
    return template_macs(rows[0], values)


def template_macs(template: models.Model, varying: Iterable[dict[str, Any]]) -> list[str]:
    """MACs of rows that are `template` with the columns of each of `varying` (attname ->
    value) put in: what `row_mac` gives for each such row, without building the rows (a feed
    page's 500 ledger rows differ only in id, patient and consent).

    The canonical JSON is written once with a marker where each varying value goes, then each
    row's values are written into it: JSON is written value by value, so the text is the one
    `json.dumps` of the whole row gives (a row whose columns differ from the first's is written
    whole).
    """
    document = row_document(template)
    kind = template._meta.model_name
    when_set = set(getattr(type(template), "MAC_WHEN_SET", ()))
    cut: _Cut | None = None
    macs = []
    for values in varying:
        if when_set & values.keys():
            raise ValueError("template_macs: a varying column cannot be one covered only when set")
        if cut is None or cut.names != tuple(values):
            cut = _Cut.of(document, tuple(values))
        macs.append(keyed_digest(kind.encode(), cut.text(values).encode()).hex())
    return macs


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)


def _value_json(value: Any) -> str:
    """One value as `_canonical` writes it; ids and nulls (a ledger row's) without the encoder."""
    if value is None:
        return "null"
    if isinstance(value, uuid.UUID):
        return f'"{value}"'
    return _canonical(_plain(value))


class _Cut:
    """A row's canonical JSON cut where its varying values go: `parts[0]`, the first value's
    JSON (in text order), `parts[1]`, … ."""

    def __init__(self, names: tuple[str, ...], order: tuple[str, ...], parts: list[str]):
        self.names, self.order, self.parts = names, order, parts

    @classmethod
    def of(cls, document: dict[str, Any], names: tuple[str, ...]) -> _Cut:
        marker = secrets.token_hex(8)  # no value can be a marker it has never seen
        marked = dict(document) | {name: f"\x00{marker}{i}\x00" for i, name in enumerate(names)}
        text = _canonical(marked)
        found = []
        for name in names:
            needle = _canonical(marked[name])
            at = text.find(needle)
            if at < 0 or text.find(needle, at + 1) >= 0:
                raise ValueError(f"template_macs: cannot place {name}")
            found.append((at, len(needle), name))
        found.sort()
        parts, start = [], 0
        for at, length, _ in found:
            parts.append(text[start:at])
            start = at + length
        parts.append(text[start:])
        return cls(names, tuple(name for _, _, name in found), parts)

    def text(self, values: dict[str, Any]) -> str:
        pieces = [self.parts[0]]
        for name, part in zip(self.order, self.parts[1:], strict=True):
            pieces.append(_value_json(values[name]))
            pieces.append(part)
        return "".join(pieces)


def macs_match(stored: str, expected: str) -> bool:
    return bool(stored) and hmac.compare_digest(stored, expected)


class TamperEvident(models.Model):
    """A row that carries its MAC; `save()` computes it from what is saved."""

    # Columns added after rows of the model were first MACed (see `row_document`).
    MAC_WHEN_SET: tuple[str, ...] = ()

    mac = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.mac = row_mac(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "mac"}
        super().save(*args, **kwargs)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value
