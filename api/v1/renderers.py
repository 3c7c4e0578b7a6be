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
