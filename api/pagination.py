from django.core.paginator import InvalidPage
from rest_framework import exceptions, pagination

from .errors import FieldNotFound


class PageNumberPagination(pagination.PageNumberPagination):
    """Page numbers with `page_size` up to 1000; a malformed page or page size is named."""

    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isdecimal() and int(raw) > 0):
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

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:
            if not isinstance(exc.__context__, InvalidPage):
                raise
            raise FieldNotFound(str(exc.detail), field="page", code="invalid_page") from exc
