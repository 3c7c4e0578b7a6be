"""Program reports for supervisors, as JSON or CSV (`Accept: text/csv`, or `?format=csv`); every
read audited.

The figures come from `caseload.selectors.reports`; this module parses the query, asks the
selector, writes the audit event and shapes the answer.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, ClassVar

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import AuditedViewMixin
from caseload.errors import InvalidInput
from caseload.models import AuditAction, DischargeReason
from caseload.permissions import may_read_program_reports
from caseload.selectors import reports
from caseload.services.audit import audit_event

from .fields import validate_plausible_date
from .query import StrictQueryMixin
from .renderers import CsvRenderer


class IsReportReader(permissions.IsAuthenticated):
    message = "Program reports are for the program's supervisors."

    def has_permission(self, request: Request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if not hasattr(view, request.method.lower()):
            return True  # no handler: the view answers 405
        return may_read_program_reports(request.user)


def _date(help_text: str) -> serializers.DateField:
    return serializers.DateField(
        required=False, validators=[validate_plausible_date], help_text=help_text
    )


class ReportView(AuditedViewMixin, StrictQueryMixin, APIView):
    permission_classes: ClassVar[list] = [IsReportReader]
    renderer_classes: ClassVar[list] = [JSONRenderer, CsvRenderer]
    basename = "report"  # the audit log's resource type
    report: ClassVar[str]
    csv_columns: ClassVar[tuple[str, ...]]
    params_class: ClassVar[type[serializers.Serializer]]

    def initial(self, request: Request, *args, **kwargs) -> None:
        """Unknown parameters and bad values are refused together, each named."""
        try:
            super().initial(request, *args, **kwargs)
            errors: dict = {}
        except exceptions.ValidationError as exc:
            errors = dict(exc.detail)
        if not hasattr(self, request.method.lower()):
            return  # dispatch answers 405 next
        params = self.params_class(data=request.query_params)
        if not params.is_valid():
            errors = {**params.errors, **errors}
        if errors:
            raise exceptions.ValidationError(errors)
        self.values = params.validated_data

    def get(self, request: Request) -> Response:
        values = self.values
        body, patients = self.build(request.user, values)
        audit_event(
            actor=request.user,
            action=AuditAction.READ,
            resource_type="report",
            resource_id=self.report,
            patient_ids=patients,
            program_id=request.user.program_id,
            detail={
                "report": self.report,
                "format": request.accepted_renderer.format,
                **{key: str(value) for key, value in body.items() if key not in ("rows",)},
            },
        )
        return Response({"report": self.report, "program": request.user.program.code, **body})

    def build(self, user, values: dict[str, Any]) -> tuple[dict[str, Any], list]:
        raise NotImplementedError


FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    required=False,
    description="`csv` for the rows as CSV, like `Accept: text/csv`; JSON by default.",
)


def _report_schema(parameters: list[OpenApiParameter], description: str):
    return extend_schema(
        parameters=[*parameters, FORMAT_PARAMETER],
        responses={
            (200, "application/json"): OpenApiResponse(
                response=OpenApiTypes.OBJECT, description=description
            ),
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="The same rows as CSV, with a header."
            ),
        },
    )


def _param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATE, required=False, description=description)


class CensusParams(serializers.Serializer):
    on = _date("The day counted; today by default.")


class CensusView(ReportView):
    """Enrollments in care on a day, by level of care (the ASAM level placed that day, and the
    coarse setting it falls in)."""

    report = "census"
    csv_columns = ("level_of_care", "asam_level", "count")
    params_class = CensusParams
    query_parameters = ("on", "format")

    @_report_schema(
        [_param("on", "The day counted (YYYY-MM-DD); today by default.")],
        "`on`, `total` and `rows`: `level_of_care`, `asam_level` (empty when the enrollment "
        "had no placement by that day), `count`.",
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def build(self, user, values):
        on = values.get("on") or timezone.localdate()
        rows = reports.census(user=user, on=on)
        return {"on": on, "total": sum(r["count"] for r in rows), "rows": rows}, []


class WindowParams(serializers.Serializer):
    """`from` and `to` (a Python keyword), defaulting to the twelve months to today."""

    def get_fields(self):
        return {
            "from": _date("First day; a year before `to` by default."),
            "to": _date("Last day; today by default."),
        }

    def validate(self, attrs):
        with _field_errors():
            start, end = reports.report_window(date_from=attrs.get("from"), date_to=attrs.get("to"))
        return {"from": start, "to": end}


@contextmanager
def _field_errors():
    """The selector's window check, as the serializer's error on the field it names."""
    try:
        yield
    except InvalidInput as exc:
        detail = ErrorDetail(exc.message, code=exc.code)
        raise serializers.ValidationError({exc.field: [detail]}) from exc


class AdmissionsDischargesView(ReportView):
    """Admissions and discharges per month, discharges also by reason."""

    report = "admissions-discharges"
    csv_columns = ("month", "admissions", "discharges", *DischargeReason.values)
    params_class = WindowParams
    query_parameters = ("from", "to", "format")

    @_report_schema(
        [
            _param("from", "First day (YYYY-MM-DD); the first of the month a year before `to`."),
            _param("to", "Last day (YYYY-MM-DD); today by default."),
        ],
        "`from`, `to` and `rows`, one per month: `month` (YYYY-MM), `admissions`, "
        "`discharges`, and a count per discharge reason code.",
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def build(self, user, values):
        rows = reports.admissions_discharges(
            user=user, date_from=values["from"], date_to=values["to"]
        )
        return {"from": values["from"], "to": values["to"], "rows": rows}, []


class PlanReviewParams(serializers.Serializer):
    pass


class PlanReviewsView(ReportView):
    """Signed treatment plans whose review is overdue, or due within 30 days."""

    report = "plan-reviews"
    csv_columns = ("plan", "patient", "enrollment", "counselor", "review_due_on", "state")
    params_class = PlanReviewParams
    query_parameters = ("format",)

    @_report_schema(
        [],
        "`on` (today), `overdue` and `due` counts, and `rows`: `plan`, `patient`, "
        "`enrollment`, `counselor`, `review_due_on`, `state` (`overdue` or `due`).",
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def build(self, user, values):
        on = timezone.localdate()
        rows = reports.plan_reviews(user=user, on=on)
        overdue = sum(1 for r in rows if r["state"] == "overdue")
        body = {"on": on, "overdue": overdue, "due": len(rows) - overdue, "rows": rows}
        return body, [r["patient"] for r in rows]


class CohortParams(serializers.Serializer):
    cohort_from = _date("First admission day of the cohort.")
    cohort_to = _date("Last admission day of the cohort.")

    def validate(self, attrs):
        with _field_errors():
            return reports.cohort_window(
                cohort_from=attrs.get("cohort_from"),
                cohort_to=attrs.get("cohort_to"),
                as_of=timezone.localdate(),
            )


class PharmacotherapyContinuityView(ReportView):
    """Continuity of pharmacotherapy for opioid use disorder (NQF 3175): of the adults admitted
    in the cohort window who had methadone or buprenorphine, the share with at least 180 days
    of it without a gap of more than 7 days."""

    report = "pharmacotherapy-continuity"
    csv_columns = (
        "cohort_from",
        "cohort_to",
        "as_of",
        "admitted",
        "with_pharmacotherapy",
        "continuous",
        "rate",
    )
    params_class = CohortParams
    query_parameters = ("cohort_from", "cohort_to", "format")

    @_report_schema(
        [
            _param("cohort_from", "First admission day (YYYY-MM-DD); a year before `cohort_to`."),
            _param("cohort_to", "Last admission day (YYYY-MM-DD); 180 days before today."),
        ],
        "`cohort_from`, `cohort_to`, `as_of` (today), `admitted` (adults admitted in the "
        "window), `with_pharmacotherapy` (the denominator), `continuous` (the numerator), "
        "`rate` (null when the denominator is 0), and the same as one CSV row.",
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def build(self, user, values):
        result = reports.pharmacotherapy_continuity(user=user, **values)
        row = {
            "cohort_from": result.cohort_from,
            "cohort_to": result.cohort_to,
            "as_of": result.as_of,
            "admitted": result.admitted,
            "with_pharmacotherapy": result.with_pharmacotherapy,
            "continuous": result.continuous,
            "rate": result.rate,
        }
        return {**row, "rows": [row]}, []
