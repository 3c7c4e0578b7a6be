"""A WSGI wrapper that refuses a request whose Content-Type names an unusable charset.

Django decodes the query string with the request's declared charset while it builds the request,
before any middleware runs; a charset that names a binary codec (`hex`, `zlib`, `base64`), a codec
that refuses everything (`undefined`), or one that fails on ordinary text (`idna`, `punycode` on a
non-ASCII query or a body) makes that raise and the server answer 500. This answers 415 with the
usual error shape instead. A charset passes only if it is a text encoding that decodes any bytes
and encodes any text with replacement, as Django asks of it.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable

from django.utils.http import parse_header_parameters

from .refusals import refuse

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class UnreadableContentType(ValueError):
    """A Content-Type whose parameters Django itself cannot parse."""


def declared_charset(content_type: str) -> str | None:
    """The charset Django will use for this Content-Type, read exactly as Django reads it.

    Django's parser lets the last `charset` win and decodes RFC 2231 forms (`charset*=utf-8''x`,
    `charset*0=`/`charset*1=`); reading the header any other way lets a charset slip past.
    """
    try:
        _, params = parse_header_parameters(content_type)
    except (ValueError, LookupError) as exc:  # e.g. an RFC 2231 value in an unknown encoding
        raise UnreadableContentType(str(exc)) from exc
    charset = params.get("charset")
    return charset if isinstance(charset, str) else None


def usable_charset(content_type: str) -> bool:
    """Whether Django can build a request with this Content-Type without failing."""
    try:
        charset = declared_charset(content_type)
    except UnreadableContentType:
        return False
    return charset is None or is_text_encoding(charset)


# Text encodings that still fail on ordinary input, whatever error handler is asked for.
UNUSABLE_CODECS = frozenset({"undefined", "idna", "punycode"})
# Bytes and text a usable charset must survive with errors="replace".
_PROBE_BYTES = bytes(range(256)) + "é€\U0001f600".encode()
_PROBE_TEXT = "aé€\U0001f600\x00 ."


def is_text_encoding(name: str) -> bool:
    try:
        codec = codecs.lookup(name)
        if codec.name in UNUSABLE_CODECS or not getattr(codec, "_is_text_encoding", True):
            return False
        "".encode(name)
        _PROBE_BYTES.decode(name, "replace")
        _PROBE_TEXT.encode(name, "replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return False
    return True


def refuse_unusable_charsets(app: WSGIApp) -> WSGIApp:
    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if usable_charset(environ.get("CONTENT_TYPE", "")):
            return app(environ, start_response)
        return refuse(
            start_response,
            "415 Unsupported Media Type",
            code="unsupported_charset",
            detail="The declared charset is not a text encoding; send UTF-8.",
            field="Content-Type",
        )

    return guarded
