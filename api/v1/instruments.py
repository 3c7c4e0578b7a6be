"""The withdrawal instruments' items, legal answers and severity bands, to build forms from."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import AuditedViewMixin
from api.permissions import IsProgramStaff
from caseload import instruments

from .query import StrictQueryMixin


class InstrumentsView(AuditedViewMixin, StrictQueryMixin, APIView):
    """Items, legal answers and severity bands of each withdrawal instrument.

    Build assessment forms from this rather than hard-coding the scales; SOWS bands reflect the
    program's configuration.
    """

    permission_classes = [IsProgramStaff]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        results = [instruments.describe(code) for code in instruments.INSTRUMENT_CODES]
        return Response({"next": None, "previous": None, "results": results})
