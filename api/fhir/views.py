"""FHIR R4 read and search over the same selectors as the REST API.

    GET /fhir/metadata                       CapabilityStatement (no token needed)
    GET /fhir/Appointment/{id}               read
    GET /fhir/Appointment?date=&_lastUpdated=&patient=&actor=&status=&_count=
    GET /fhir/Patient/{id}                   read
    GET /fhir/Patient?identifier=[system|]value&_count=

Answers are `application/fhir+json`; every error is an OperationOutcome. A search answers a
`searchset` Bundle ordered by the appointment's start (patients: by id), whose `next` link
carries an opaque keyset position (`_cursor`), never an offset. Unknown parameters are refused
(400), as the REST API refuses them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.utils import timezone
from rest_framework import exceptions, permissions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import patients_of_program
from api.cursors import invalid_cursor, issue_cursor, read_cursor
from api.errors import exception_handler as api_exception_handler
from caseload.models import Appointment, AppointmentStatus, AuditAction, Patient, is_integration
from caseload.permissions import (
    DISCLOSED_CATEGORY,
    VIEW,
    has_role_permission,
    integration_may_list,
)
from caseload.selectors.patients import patient_list
from caseload.selectors.records import appointment_list
from caseload.services.audit import audit_read
from caseload.services.integrations import integration_disclose

from .mapping import (
    MEDIA_TYPE,
    appointment_resource,
    capability_statement,
    operation_outcome,
    patient_resource,
    search_bundle,
)

DEFAULT_COUNT, MAX_COUNT = 50, 1000
CURSOR = "_cursor"


class FhirJsonRenderer(JSONRenderer):
    media_type = MEDIA_TYPE
    format = "fhir"


class PlainJsonRenderer(JSONRenderer):
    """`Accept: application/json` gets the same FHIR JSON."""


def fhir_exception_handler(exc, context):
    """Caseload's error answer, reshaped as an OperationOutcome."""
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    body = response.data if isinstance(response.data, dict) else {}
    errors = body.get("errors") or []
    if errors:
        issues = [
            operation_outcome(
                response.status_code,
                error.get("detail", ""),
                code=error.get("code", "invalid"),
                expression=[error["field"]] if error.get("field") else None,
            )["issue"][0]
            for error in errors
        ]
        response.data = {"resourceType": "OperationOutcome", "issue": issues}
    else:
        response.data = operation_outcome(
            response.status_code, body.get("detail", ""), code=body.get("code", "error")
        )
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = FhirJsonRenderer()
        request.accepted_media_type = MEDIA_TYPE
    return response


class FhirView(APIView):
    schema = None  # FHIR describes itself: GET /fhir/metadata (a CapabilityStatement)
    renderer_classes = [FhirJsonRenderer, PlainJsonRenderer]
    permission_classes = [permissions.IsAuthenticated]
    model: type | None = None
    parameters: frozenset[str] = frozenset()
    repeatable: frozenset[str] = frozenset()

    def get_exception_handler(self):
        return fhir_exception_handler

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if self.model is not None and not _may_read(request.user, self.model):
            raise exceptions.PermissionDenied()
        errors = {}
        for name in request.query_params:
            if name not in self.parameters:
                errors[name] = [
                    exceptions.ErrorDetail("Unknown search parameter.", code="unknown_parameter")
                ]
            elif name not in self.repeatable and len(request.query_params.getlist(name)) > 1:
                errors[name] = [
                    exceptions.ErrorDetail("Send this parameter once.", code="repeated_parameter")
                ]
        if errors:
            raise exceptions.ValidationError(errors)

    def base_url(self, request: Request) -> str:
        return request.build_absolute_uri("/fhir/")

    def disclose(self, request: Request, records: list) -> list:
        """The audit row and, for an integration, the disclosure ledger, in one transaction;
        returns the records the caller may send (for an integration, those of the patients the
        ledger names once the consents relied on are locked)."""
        with transaction.atomic():
            if is_integration(request.user):
                lawful = integration_disclose(
                    principal=request.user,
                    category=DISCLOSED_CATEGORY[self.model],
                    patient_ids=[_patient_id(r) for r in records],
                )
                records = [r for r in records if str(_patient_id(r)) in lawful]
            audit_read(
                actor=request.user,
                model=self.model,
                objects=records,
                action=AuditAction.READ if self.kwargs.get("pk") else "list",
                patient_ids=_searched_patients(request),
            )
        return records


def _patient_id(record):
    return getattr(record, "patient_id", None) or record.pk


def _searched_patients(request: Request) -> list[uuid.UUID]:
    """The patient a search named (`patient=<id>` or `patient=Patient/<id>`), if of the
    caller's program, so the audit event names it even when the search found nothing."""
    named = []
    for value in request.query_params.getlist("patient"):
        try:
            named.append(uuid.UUID(value.rsplit("/", 1)[-1]))
        except ValueError:
            continue
    return patients_of_program(request.user.program_id, named)


def _may_read(user, model) -> bool:
    return integration_may_list(user, model) or has_role_permission(user, VIEW, model)


class MetadataView(FhirView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    def get(self, request: Request) -> Response:
        return Response(capability_statement(base=self.base_url(request), now=timezone.now()))


class NotFoundView(FhirView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    def get(self, request: Request, *args, **kwargs) -> Response:
        raise exceptions.NotFound("This server serves metadata, Appointment and Patient.")

    post = put = patch = delete = get


class _ReadView(FhirView):
    http_method_names = ["get", "head", "options"]
    to_resource = None

    def scoped(self, request: Request) -> QuerySet:
        raise NotImplementedError

    def get(self, request: Request, pk: str) -> Response:
        try:
            key = uuid.UUID(pk)
        except ValueError as exc:
            raise exceptions.NotFound() from exc
        record = self.scoped(request).filter(pk=key).first()
        if record is None:
            raise exceptions.NotFound()
        if not self.disclose(request, [record]):
            raise exceptions.NotFound()
        response = Response(type(self).to_resource(record))
        response["ETag"] = f'W/"{record.version}"'
        return response


class AppointmentRead(_ReadView):
    model = Appointment
    to_resource = staticmethod(appointment_resource)

    def scoped(self, request: Request) -> QuerySet:
        return appointment_list(user=request.user)


class PatientRead(_ReadView):
    model = Patient
    to_resource = staticmethod(patient_resource)

    def scoped(self, request: Request) -> QuerySet:
        return patient_list(user=request.user)


# Searching ----------------------------------------------------------------------------------

_DATE = re.compile(
    r"(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<value>\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?)"
)


@dataclass(frozen=True)
class _Range:
    lower: datetime
    upper: datetime  # exclusive


def _invalid(name: str, detail: str, code: str = "invalid") -> exceptions.ValidationError:
    return exceptions.ValidationError({name: [exceptions.ErrorDetail(detail, code=code)]})


def _date_range(name: str, value: str) -> _Range:
    text = value.replace(" ", "+")  # a `+` offset sent unencoded arrives as a space
    tz = timezone.get_current_timezone()
    if len(text) == 4:
        lower = datetime(int(text), 1, 1, tzinfo=tz)
        return _Range(lower, lower.replace(year=lower.year + 1))
    if len(text) == 7:
        year, month = int(text[:4]), int(text[5:7])
        lower = datetime(year, month, 1, tzinfo=tz)
        upper = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
        return _Range(lower, upper)
    if len(text) == 10:
        day = date.fromisoformat(text)
        lower = datetime.combine(day, time(), tzinfo=tz)
        return _Range(lower, lower + timedelta(days=1))
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, tz)
    clock = re.match(r"\d{2}:\d{2}(?P<seconds>:\d{2})?(?P<fraction>\.\d+)?", text.split("T", 1)[1])
    if clock["fraction"]:
        step = timedelta(microseconds=1)
    elif clock["seconds"]:
        step = timedelta(seconds=1)
    else:
        step = timedelta(minutes=1)
    return _Range(moment, moment + step)


def _date_filter(name: str, field: str, raw: str) -> Q:
    match = _DATE.fullmatch(raw.replace(" ", "+"))
    if match is None:
        raise _invalid(name, "Send a FHIR date, e.g. ge2026-11-01 or lt2026-11-02T09:00:00Z.")
    prefix = match.group("prefix") or "eq"
    if prefix not in {"eq", "gt", "lt", "ge", "le"}:
        raise _invalid(name, f"The prefix {prefix} is not supported here.", "not_supported")
    try:
        span = _date_range(name, match.group("value"))
        # Both bounds must exist as UTC instants too: the query compares in UTC.
        span.lower.astimezone(UTC), span.upper.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # e.g. 9999-12-31 has no next day
        raise _invalid(name, "Not a valid date, or out of range.") from exc
    return {
        "eq": Q(**{f"{field}__gte": span.lower, f"{field}__lt": span.upper}),
        "ge": Q(**{f"{field}__gte": span.lower}),
        "gt": Q(**{f"{field}__gte": span.upper}),
        "le": Q(**{f"{field}__lt": span.upper}),
        "lt": Q(**{f"{field}__lt": span.lower}),
    }[prefix]


def _reference(name: str, raw: str, kinds: tuple[str, ...]) -> tuple[str | None, uuid.UUID]:
    kind, _, ident = raw.rpartition("/")
    if kind and kind not in kinds:
        raise _invalid(name, f"Refer to {' or '.join(kinds)}.", "invalid_reference")
    try:
        return kind or None, uuid.UUID(ident)
    except ValueError as exc:
        raise _invalid(name, "Not a valid id.", "invalid_reference") from exc


def _count(request: Request) -> int:
    raw = request.query_params.get("_count")
    if raw is None:
        return DEFAULT_COUNT
    if not (raw.isdecimal() and len(raw) <= 4 and 1 <= int(raw) <= MAX_COUNT):
        raise _invalid("_count", f"Send a whole number from 1 to {MAX_COUNT}.")
    return int(raw)


class _SearchView(FhirView):
    http_method_names = ["get", "head", "options"]
    to_resource = None

    def search(self, request: Request) -> QuerySet:
        raise NotImplementedError

    def order(self) -> tuple[str, ...]:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        count = _count(request)
        queryset = self.search(request).order_by(*self.order())
        after = self._cursor(request)
        if after is not None:
            queryset = queryset.filter(
                TupleGreaterThan(Tuple(*(F(name) for name in self.order())), after)
            )
        records = list(queryset[: count + 1])
        next_url = None
        if len(records) > count:
            records = records[:count]
            next_url = self._next_url(request, records[-1])
        records = self.disclose(request, records)
        bundle = search_bundle(
            self_url=request.build_absolute_uri(),
            next_url=next_url,
            base=self.base_url(request),
            resources=[type(self).to_resource(record) for record in records],
        )
        return Response(bundle)

    def _cursor(self, request: Request) -> tuple | None:
        raw = request.query_params.get(CURSOR)
        if raw is None:
            return None
        values = read_cursor(raw, scope=self._cursor_scope(), parameter=CURSOR)
        try:
            return tuple(
                datetime.fromisoformat(value) if name == "start" else uuid.UUID(value)
                for name, value in zip(self.order(), values, strict=True)
            )
        except (ValueError, TypeError) as exc:
            raise invalid_cursor(CURSOR) from exc

    def _cursor_scope(self) -> str:
        return f"fhir:{self.model._meta.model_name}"

    def _next_url(self, request: Request, last) -> str:
        position = [
            getattr(last, name).isoformat() if name == "start" else str(getattr(last, name))
            for name in self.order()
        ]
        token = issue_cursor(position, scope=self._cursor_scope())
        query = [(k, v) for k, vs in request.query_params.lists() for v in vs if k != CURSOR]
        query.append((CURSOR, token))
        return request.build_absolute_uri(request.path) + "?" + urlencode(query)


class AppointmentSearch(_SearchView):
    model = Appointment
    to_resource = staticmethod(appointment_resource)
    parameters = frozenset({"date", "_lastUpdated", "patient", "actor", "status", "_count", CURSOR})
    repeatable = frozenset({"date", "_lastUpdated"})

    def order(self) -> tuple[str, ...]:
        return ("start", "id")

    def search(self, request: Request) -> QuerySet:
        params = request.query_params
        queryset = appointment_list(user=request.user)
        for raw in params.getlist("date"):
            queryset = queryset.filter(_date_filter("date", "start", raw))
        for raw in params.getlist("_lastUpdated"):
            queryset = queryset.filter(_date_filter("_lastUpdated", "updated_at", raw))
        if "patient" in params:
            _, patient_id = _reference("patient", params["patient"], ("Patient",))
            queryset = queryset.filter(patient_id=patient_id)
        if "actor" in params:
            kind, actor_id = _reference("actor", params["actor"], ("Patient", "Practitioner"))
            if kind == "Patient":
                queryset = queryset.filter(patient_id=actor_id)
            elif kind == "Practitioner":
                queryset = queryset.filter(staff_id=actor_id)
            else:
                queryset = queryset.filter(Q(patient_id=actor_id) | Q(staff_id=actor_id))
        if "status" in params:
            statuses = params["status"].split(",")
            unknown = [s for s in statuses if s not in AppointmentStatus.values]
            if unknown:
                allowed = ", ".join(AppointmentStatus.values)
                raise _invalid("status", f"Allowed values: {allowed}.", "invalid_choice")
            queryset = queryset.filter(status__in=statuses)
        return queryset


class PatientSearch(_SearchView):
    model = Patient
    to_resource = staticmethod(patient_resource)
    parameters = frozenset({"identifier", "_count", CURSOR})

    def order(self) -> tuple[str, ...]:
        return ("id",)

    def search(self, request: Request) -> QuerySet:
        queryset = patient_list(user=request.user)
        raw = request.query_params.get("identifier")
        if raw is None:
            return queryset
        system, bar, value = raw.rpartition("|")
        if not value:
            raise _invalid("identifier", "Send [system|]value, e.g. an MRN.")
        queryset = queryset.filter(mrn=value)
        if bar and system:
            match = re.fullmatch(r"urn:caseload:program:([a-z0-9-]+):mrn", system)
            if match is None:
                return queryset.none()
            queryset = queryset.filter(program__code=match.group(1))
        return queryset
