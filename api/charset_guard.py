"""A WSGI wrapper that refuses a request whose Content-Type names an unusable charset.

Django decodes the query string with the request's declared charset while it builds the request,
before any middleware runs; a charset that names a binary codec (`hex`, `zlib`, `base64`) makes
that raise and the server answer 500. This answers 415 with the usual error shape instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from email.message import Message

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def declared_charset(content_type: str) -> str | None:
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset if isinstance(charset, str) else None


def is_text_encoding(name: str) -> bool:
    try:
        "".encode(name)
    except LookupError:  # unknown, or a bytes-to-bytes / str-to-str codec
        return False
    return True


def refuse_unusable_charsets(app: WSGIApp) -> WSGIApp:
    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        charset = declared_charset(environ.get("CONTENT_TYPE", ""))
        if charset is None or is_text_encoding(charset):
            return app(environ, start_response)
        body = json.dumps(
            {
                "code": "unsupported_charset",
                "detail": "The declared charset is not a text encoding; send UTF-8.",
                "errors": [
                    {
                        "field": "Content-Type",
                        "code": "unsupported_charset",
                        "detail": "The declared charset is not a text encoding; send UTF-8.",
                    }
                ],
            }
        ).encode()
        start_response(
            "415 Unsupported Media Type",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    return guarded
