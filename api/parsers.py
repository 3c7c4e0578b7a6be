from rest_framework import exceptions, parsers

from .charset_guard import UnreadableContentType, declared_charset

UTF8_NAMES = {"utf-8", "utf8"}


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, strict about what JSON is.

    JSON is UTF-8 (RFC 8259): another declared charset answers 415 rather than being decoded
    with whatever codec it names (some of which decompress or fail in odd ways). Absurdly deep
    nesting answers 400 instead of exhausting the stack.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            charset = declared_charset(media_type or "") or "utf-8"
        except UnreadableContentType:
            charset = "unreadable"
        if charset.strip().lower() not in UTF8_NAMES:
            raise exceptions.UnsupportedMediaType(
                media_type, detail="JSON must be sent as UTF-8.", code="unsupported_charset"
            )
        parser_context = dict(parser_context or {}, encoding="utf-8")
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON nested too deeply.", code="parse_error") from exc
