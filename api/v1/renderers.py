import csv
import io
import json

from rest_framework.renderers import BaseRenderer


class SvgRenderer(BaseRenderer):
    """Serves an SVG document as is; anything else (an error body) as JSON text."""

    media_type = "image/svg+xml"
    format = "svg"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, str):
            return data.encode(self.charset)
        return json.dumps(data).encode(self.charset)


class CsvRenderer(BaseRenderer):
    """A report's `rows` as CSV, one header line of the view's `csv_columns` and one line per
    row. A cell that a spreadsheet would read as a formula is written as text (a leading `'`).
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if not isinstance(data, dict) or "rows" not in data:
            return json.dumps(data).encode(self.charset)
        view = (renderer_context or {}).get("view")
        rows = data["rows"]
        columns = list(getattr(view, "csv_columns", ()) or (rows[0] if rows else ()))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in columns])
        return out.getvalue().encode(self.charset)


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
