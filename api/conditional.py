"""Conditional requests (RFC 9110 section 13): If-Match for writes, If-None-Match for reads.

Caseload's entity tags are strong: `"v<version>"`. If-Match uses the strong comparison, so a
weak tag (`W/"v3"`) or any tag Caseload never issued matches nothing and the write answers 412;
`*` matches the (existing) record. If-None-Match uses the weak comparison. Only a header that is
not a list of entity tags at all is a 400. Empty list elements (`"v1", , "v2"`) are allowed, as
the RFC's list syntax requires.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from rest_framework import exceptions, serializers
from rest_framework.request import Request

_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')
_OWS = " \t"
_OUR_TAG = re.compile(r"v(\d{1,10})")


@dataclass(frozen=True)
class EntityTag:
    weak: bool
    opaque: str


def etag_for(instance: models.Model) -> str:
    return f'"v{instance.version}"'


def parse_entity_tags(header: str) -> list[EntityTag] | None:
    """The tags of `1#entity-tag`, or None when the header is not such a list."""
    tags: list[EntityTag] = []
    pos, end = 0, len(header)
    while True:
        while pos < end and (header[pos] in _OWS or header[pos] == ","):
            pos += 1
        if pos == end:
            return tags or None
        match = _ENTITY_TAG.match(header, pos)
        if match is None:
            return None
        tags.append(EntityTag(weak=bool(match.group(1)), opaque=match.group(2)))
        pos = match.end()
        while pos < end and header[pos] in _OWS:
            pos += 1
        if pos < end and header[pos] != ",":
            return None


def _invalid(header: str) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {
            header: [
                serializers.ErrorDetail(
                    "Send entity tags as the ETag header gave them, or *.", code="invalid_etag"
                )
            ]
        }
    )


def if_match_versions(request: Request) -> frozenset[int] | None:
    """The versions If-Match accepts; None when absent or `*`. Empty: nothing can match."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tags = parse_entity_tags(header)
    if tags is None:
        raise _invalid("If-Match")
    return frozenset(
        int(match.group(1))
        for tag in tags
        if not tag.weak and (match := _OUR_TAG.fullmatch(tag.opaque))
    )


def if_none_match_hits(request: Request, instance: models.Model) -> bool:
    """True when If-None-Match names the record's current ETag (weakly) or is `*`."""
    return if_none_match_matches(request, etag_for(instance))


def if_none_match_matches(request: Request, etag: str) -> bool:
    """True when If-None-Match names `etag` (weak comparison) or is `*`."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    tags = parse_entity_tags(header)
    if tags is None:
        raise _invalid("If-None-Match")
    current = etag.strip('"')
    return any(tag.opaque == current for tag in tags)


def list_etag(envelope: dict, rows: Iterable[tuple], audience: str) -> str:
    """A strong tag for one list page, from what decides its body and nothing serialized:
    the page's links and count, each row's id, version and time-dependent values, and who
    asks (the fields a caller sees depend on their role or scopes).
    """
    digest = hashlib.sha256(audience.encode())
    digest.update(json.dumps(envelope, sort_keys=True, default=str).encode())
    for row in rows:
        digest.update(repr(row).encode())
    return f'"l{digest.hexdigest()[:40]}"'
