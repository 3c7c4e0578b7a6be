from django.core.paginator import InvalidPage
from rest_framework import exceptions, pagination

from .errors import FieldNotFound


def _in_range(raw: str, highest: int) -> bool:
    # Length first: int() of thousands of digits is slow, and past 4300 it raises.
    return raw.isdecimal() and len(raw) <= len(str(highest)) and 0 < int(raw) <= highest


class PageNumberPagination(pagination.PageNumberPagination):
    """Page numbers with `page_size` up to 1000; a malformed page or page size is named.

    A page size out of range is refused like a malformed one, never silently clamped.
    """

    page_size_query_param = "page_size"
    max_page_size = 1000
    page_query_description = "Which page, from 1. A page past the last answers 404 `invalid_page`."

    @property
    def page_size_query_description(self) -> str:
        return (
            f"How many results per page, from 1 to {self.max_page_size} (default "
            f"{self.page_size}); anything else answers 400 `invalid_page_size`."
        )

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not _in_range(raw, self.max_page_size):
            raise exceptions.ValidationError(
                {
                    "page_size": [
                        exceptions.ErrorDetail(
                            "Send a whole number from 1 to 1000.", code="invalid_page_size"
                        )
                    ]
                }
            )
        return super().get_page_size(request)

    def etag_state(self) -> dict:
        """What of the page's envelope decides its body, for the list's ETag."""
        return {
            "count": self.page.paginator.count,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
        }

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:
            if not isinstance(exc.__context__, InvalidPage):
                raise
            raise FieldNotFound(str(exc.detail), field="page", code="invalid_page") from exc
