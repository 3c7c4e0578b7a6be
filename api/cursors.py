"""The one cursor every paged answer uses: REST keyset lists (`cursor`), the sync feed (`cursor`
and `sync`) and FHIR searches (`_cursor`).

A cursor is the position (and, for the feed, the walk) signed with the site's key under a salt
naming what it pages, so it cannot be forged or moved to another list, then encrypted
(caseload/secret_box.py) so what it carries (a walk's filters may hold a family name) cannot be
read from the logs and browser histories links end up in. A token this server did not issue for
this list answers 400 `invalid_cursor` naming the parameter it came in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import signing
from rest_framework import exceptions

from caseload.secret_box import SecretUnreadable, open_secret, seal_secret

_SALT = "caseload.cursor"
INVALID_CURSOR = "invalid_cursor"
_DETAIL = "Not a link this server issued for this list; follow the links as given."


class CursorExpired(Exception):
    """A genuine cursor older than the age its reader allows."""


def invalid_cursor(parameter: str) -> exceptions.ValidationError:
    """The 400 every reader answers for a token it cannot honour, naming `parameter`."""
    return exceptions.ValidationError(
        {parameter: [exceptions.ErrorDetail(_DETAIL, code=INVALID_CURSOR)]}
    )


def issue_cursor(data: Any, *, scope: str) -> str:
    """`data` (JSON-able) as an opaque token valid only for `scope` (what it pages)."""
    return seal_secret(signing.dumps(data, salt=f"{_SALT}:{scope}", compress=True))


def read_cursor(token: str, *, scope: str, parameter: str, max_age: timedelta | None = None) -> Any:
    """What `issue_cursor` sealed for `scope`; `invalid_cursor` naming `parameter` otherwise.
    Raises CursorExpired when the token is genuine but older than `max_age`."""
    try:
        return signing.loads(open_secret(token), salt=f"{_SALT}:{scope}", max_age=max_age)
    except signing.SignatureExpired as exc:
        raise CursorExpired from exc
    except (SecretUnreadable, signing.BadSignature, ValueError, TypeError) as exc:
        raise invalid_cursor(parameter) from exc
