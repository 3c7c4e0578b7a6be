import csv
import io
import json

import orjson
from rest_framework import renderers
from rest_framework.renderers import BaseRenderer

from caseload.documents.accounting import spreadsheet_safe


class RenderedJSON(bytes):
    """A body a view already wrote as `JSONRenderer` would (api/v1/fast_output.py)."""


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, passing through a body the view wrote itself (`RenderedJSON`).

    The view writes it compact and unescaped, as this renderer does with the project's
    settings; a client asking for indentation (`Accept: application/json; indent=2`), or
    settings that ask for ASCII or spaced output, get the body rewritten DRF's way.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, RenderedJSON):
            indent = self.get_indent(accepted_media_type, renderer_context or {})
            if indent is None and not self.ensure_ascii and self.compact:
                return bytes(data)
            data = orjson.loads(bytes(data))
        return super().render(data, accepted_media_type, renderer_context)


class SvgRenderer(BaseRenderer):
    """Serves an SVG document as is; anything else (an error body) as JSON text."""

    media_type = "image/svg+xml"
    format = "svg"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, str):
            return data.encode(self.charset)
        return json.dumps(data).encode(self.charset)


class _DocumentRenderer(BaseRenderer):
    """Serves a document built by the view as is; an error body as JSON, labelled so."""

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode(self.charset or "utf-8")
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode("utf-8")


class CsvRenderer(_DocumentRenderer):
    """A document the view built (the accounting), or a report's `rows`: one header line of the
    view's `csv_columns` and one line per row. A cell that a spreadsheet would read as a formula
    is written as text (a leading `'`)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if not isinstance(data, dict) or "rows" not in data:
            return super().render(data, accepted_media_type, renderer_context)
        view = (renderer_context or {}).get("view")
        rows = data["rows"]
        columns = list(getattr(view, "csv_columns", ()) or (rows[0] if rows else ()))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([spreadsheet_safe(row.get(column)) for column in columns])
        return out.getvalue().encode(self.charset)


class PdfRenderer(_DocumentRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
