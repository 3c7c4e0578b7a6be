"""The base every resource viewset stands on: scoped reads, role checks, ETags, audited access.

A subclass names its `model`, a `selector` (user -> scoped queryset) and the services that
create and update records. `get_queryset` always goes through the selector, so an unscoped
list cannot be written by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any, ClassVar

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.fields import SkipField, empty, get_error_detail
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import AuditedViewMixin, as_uuid, patients_of_program
from api.conditional import etag_for, if_none_match_hits, if_none_match_matches, list_etag
from api.conditional import if_match_versions as expected_version
from api.permissions import handles
from caseload.models import AuditAction, Patient, is_integration
from caseload.permissions import (
    ADD,
    CHANGE,
    DISCLOSED_CATEGORY,
    VIEW,
    can_write_patient,
    has_role_permission,
    integration_may_list,
)
from caseload.services.audit import audit_read, patient_id_of
from caseload.services.integrations import integration_disclose

from .fields import DateTimeField
from .query import StrictQueryMixin

# Fields every record shows and no client writes.
RECORD_META = ("version", "created_at", "updated_at")
# How a clinical record is corrected: status entered_in_error, with the reason.
CORRECTION_FIELDS = ("status", "entered_in_error_reason")
# Records that are never edited, only corrected by marking them entered in error.
APPEND_ONLY_METHODS = ("get", "post", "head", "options")

_METHOD_ACTIONS = {
    "GET": VIEW,
    "HEAD": VIEW,
    "OPTIONS": VIEW,
    "POST": ADD,
    "PUT": CHANGE,
    "PATCH": CHANGE,
}


class RolePermission(permissions.BasePermission):
    """The role must allow the action on the viewset's record type; otherwise 403.

    Methods with no handler (DELETE on a clinical record) pass here and answer 405.
    """

    def has_permission(self, request: Request, view) -> bool:
        if not handles(view, request):
            return True
        if is_integration(request.user):
            # Integrations read lists their scopes name; nothing else, never a write.
            return (
                view.action == "list"
                and request.method in ("GET", "HEAD")
                and integration_may_list(request.user, view.model)
            )
        action = view.action_permissions.get(view.action) or _METHOD_ACTIONS.get(request.method)
        if action is None:
            return True
        return has_role_permission(request.user, action, view.model)


class PatientWritePermission(permissions.BasePermission):
    """A record is changed only by someone who may write to its patient. A patient visible
    through break-the-glass access is readable, not writable: 403."""

    message = "Break-the-glass access is read-only."
    code = "break_glass_read_only"

    def has_object_permission(self, request: Request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        patient = obj if isinstance(obj, Patient) else getattr(obj, "patient", None)
        return patient is None or can_write_patient(request.user, patient)


class StrictSerializerMixin:
    """Strict input: every key known, every type exact, every failing field reported at once.

    - A key the resource does not know is refused (`unknown_field`), so a typo never passes.
    - A read-only field (ids, computed values, status) is refused (`read_only`) when sent with a
      value other than the one the server holds. On create the server holds none yet, so any
      read-only field is refused; on update one sent back as it was read is ignored.
    - Text is a JSON string and an id a UUID string: nothing is coerced (`invalid`).
    - Every failing field of the body is reported in one answer, together with the problems
      `domain_problems` finds in the fields that did validate.

    `Meta.immutable_fields` are writable on create and read-only afterwards (a record never
    moves to another patient).
    """

    def get_fields(self):
        fields = super().get_fields()
        if isinstance(self.instance, models.Model):
            for name in getattr(self.Meta, "immutable_fields", ()):
                fields[name].read_only = True
        return fields

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # refuses it in DRF's words
        errors: dict[str, list] = {
            key: [serializers.ErrorDetail(_MESSAGES[code], code=code)]
            for key, code in sorted(self._refused_keys(data).items())
        }
        values: dict[str, Any] = {}
        for field in self._writable_fields:
            try:
                value = self._validated(field, data)
            except serializers.ValidationError as exc:
                errors[field.field_name] = exc.detail
            except DjangoValidationError as exc:
                errors[field.field_name] = get_error_detail(exc)
            except SkipField:
                continue
            else:
                self.set_value(values, field.source_attrs, value)
        for name, code, message in self.domain_problems(values, failed=set(errors)):
            errors.setdefault(name, []).append(serializers.ErrorDetail(message, code=code))
        if errors:
            raise serializers.ValidationError(errors)
        return values

    def to_representation(self, instance):
        """DRF's output, read the short way for plain fields (see `_reading_plan`)."""
        representation: dict[str, Any] = {}
        for name, field, read in self._reading_plan():
            if read is not None:
                value = read(instance)
                representation[name] = None if value is None else field.to_representation(value)
                continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            present = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            representation[name] = None if present is None else field.to_representation(attribute)
        return representation

    def _reading_plan(self) -> list[tuple[str, serializers.Field, Callable | None]]:
        """Per readable field: how to read its value from a record, or None for DRF's way.

        DRF reads every field of every row through `Field.get_attribute` (a generic walk of
        the source path, with callable and error checks); a model column read by one plain
        field is a single attribute, and a reference shown as its id is the `<name>_id` column.
        A list's rows share one serializer, so the plan is made once per page.
        """
        try:
            return self._plan
        except AttributeError:
            pass
        model = getattr(getattr(self, "Meta", None), "model", None)
        columns = {f.name: f for f in model._meta.concrete_fields} if model else {}
        plan = []
        for field in self._readable_fields:
            source = field.source_attrs[0] if len(field.source_attrs) == 1 else None
            column = columns.get(source)
            read = None
            if column is not None and type(field) in _PLAIN_FIELDS:
                read = attrgetter(column.attname)
            elif column is not None and _is_plain_id(field, column):
                ids = attrgetter(column.attname)
                read = ids if field.pk_field is None else _through(ids, field.pk_field)
                field = _IDENTITY
            plan.append((field.field_name or source, field, read))
        self._plan = plan
        return plan

    def domain_problems(
        self, values: dict[str, Any], failed: set[str]
    ) -> list[tuple[str, str, str]]:
        """(field, code, message) for domain rules broken by `values`, the fields that validated.

        The service checks the same rules; asking here reports them with the field errors.
        """
        return []

    def _validated(self, field: serializers.Field, data: Mapping) -> Any:
        primitive = field.get_value(data)
        problem = _type_problem(field, primitive)
        if problem is not None:
            raise serializers.ValidationError(problem)
        value = field.run_validation(primitive)
        validate_method = getattr(self, f"validate_{field.field_name}", None)
        return validate_method(value) if validate_method is not None else value

    def _refused_keys(self, data: Mapping) -> dict[str, str]:
        refused = {key: "unknown_field" for key in data if key not in self.fields}
        sent = [key for key in data if key in self.fields and self.fields[key].read_only]
        if sent and isinstance(self.instance, models.Model):
            current = self.to_representation(self.instance)
            sent = [key for key in sent if key not in current or data[key] != current[key]]
        return refused | dict.fromkeys(sent, "read_only")


# Fields whose output is `to_representation` of the model attribute itself.
_PLAIN_FIELDS = frozenset(
    {
        serializers.BooleanField,
        serializers.CharField,
        serializers.ChoiceField,
        serializers.DateField,
        serializers.DecimalField,
        serializers.EmailField,
        serializers.IntegerField,
        serializers.UUIDField,
        DateTimeField,
    }
)


class _Identity(serializers.Field):
    def to_representation(self, value):
        return value


_IDENTITY = _Identity()


def _is_plain_id(field: serializers.Field, column: models.Field) -> bool:
    """A reference shown as the id DRF would read from the `<name>_id` column."""
    return (
        isinstance(field, PrimaryKeyRelatedField)
        and type(field).to_representation is PrimaryKeyRelatedField.to_representation
        and type(field).get_attribute is PrimaryKeyRelatedField.get_attribute
        and field.use_pk_only_optimization()
        and isinstance(column, models.ForeignKey)
    )


def _through(read: Callable, pk_field: serializers.Field) -> Callable:
    def value(instance):
        raw = read(instance)
        return None if raw is None else pk_field.to_representation(raw)

    return value


_MESSAGES = {
    "unknown_field": "Unknown field.",
    "read_only": "This field is set by the server.",
}


def _type_problem(field: serializers.Field, value: Any) -> list | None:
    """The error for a value of the wrong JSON type, before the field gets to coerce it."""
    if value is empty or value is None or isinstance(value, str):
        return None
    if isinstance(field, serializers.CharField | serializers.SlugRelatedField):
        return [serializers.ErrorDetail("Not a valid string.", code="invalid")]
    if isinstance(field, serializers.UUIDField | serializers.PrimaryKeyRelatedField):
        return [serializers.ErrorDetail("Must be a valid UUID string.", code="invalid")]
    return None


class PatientRecordFilter(django_filters.FilterSet):
    """Every collection of patient records filters by `patient`."""

    patient = django_filters.UUIDFilter()


# Query parameters that shape a page rather than choose records.
PAGING_PARAMETERS = {"page", "page_size", "cursor"}


def queried_patients(request: Request, page: list) -> list:
    """A `?patient=` that named a patient of the caller's program the page did not return: the
    probe is recorded against that patient too. Another program's ids are never resolved."""
    queried = as_uuid(request.query_params.get("patient"))
    if queried is None or any(patient_id_of(row) == queried for row in page):
        return []
    return patients_of_program(request.user.program_id, [queried])


def filters_used(request: Request) -> dict[str, Any]:
    """The names of the filters a list was read with (their values may be patient data), and
    the patient id asked for, whoever's it is: a probe for another program's id is on record
    without saying whether that id exists."""
    names = sorted(set(request.query_params) - PAGING_PARAMETERS)
    used: dict[str, Any] = {"filters": names} if names else {}
    queried = as_uuid(request.query_params.get("patient"))
    if queried is not None:
        used["patient"] = str(queried)
    return used


class AuditedReadMixin:
    """`list` and `retrieve` that write the read's audit event: a list page names every patient
    it returned and the patient a `?patient=` filter asked about; a record names its patient."""

    model: ClassVar[type[models.Model]]

    def audit_list(self, request: Request, page: list) -> None:
        audit_read(
            actor=request.user,
            model=self.model,
            objects=page,
            action=AuditAction.LIST,
            patient_ids=queried_patients(request, page),
            detail=filters_used(request),
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self.audit_list(request, page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        instance = self.get_object()
        audit_read(
            actor=request.user, model=self.model, objects=[instance], action=AuditAction.READ
        )
        return Response(self.get_serializer(instance).data)


class RecordViewSet(
    AuditedReadMixin,
    AuditedViewMixin,
    StrictQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    model: ClassVar[type[models.Model]]
    selector: ClassVar[Callable[..., models.QuerySet]]
    permission_classes: ClassVar[list] = [
        permissions.IsAuthenticated,
        RolePermission,
        PatientWritePermission,
    ]
    action_permissions: ClassVar[dict[str, str]] = {}
    http_method_names: ClassVar[list[str]] = ["get", "post", "patch", "put", "head", "options"]

    def get_queryset(self) -> models.QuerySet:
        return type(self).selector(user=self.request.user)

    # Reads -------------------------------------------------------------------------------
    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        etag = self.page_etag(page)
        if if_none_match_matches(request, etag):
            self.audit_list(request, page)
            response = Response(status=status.HTTP_304_NOT_MODIFIED)  # nothing serialized
            response["ETag"] = etag
            return response
        if is_integration(request.user):
            # The ledger, the audit row and the body name the same patients: those the client
            # may still receive once the rows relied on are locked (a revocation that
            # committed after the page was read takes its patient's records out of it).
            with transaction.atomic():
                lawful = integration_disclose(
                    principal=request.user,
                    category=DISCLOSED_CATEGORY[self.model],
                    patient_ids=[patient_id_of(instance) for instance in page],
                )
                kept = [i for i in page if str(patient_id_of(i)) in lawful]
                if len(kept) != len(page):
                    page, etag = kept, self.page_etag(kept)
                self.audit_list(request, page)
        else:
            self.audit_list(request, page)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response["ETag"] = etag
        return response

    def page_etag(self, page: list) -> str:
        return list_etag(
            self.paginator.etag_state(),
            (self.etag_row(instance) for instance in page),
            audience=self.audience(),
        )

    def filter_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        """The request's filters; on a sync link, the filters of the walk it continues."""
        walk = getattr(self.paginator, "walk", None)
        if walk is None or not walk.from_link or self.filterset_class is None:
            return super().filter_queryset(queryset)
        filterset = self.filterset_class(data=walk.filters, queryset=queryset, request=self.request)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return filterset.qs

    def etag_row(self, instance: models.Model) -> tuple:
        """What of one record decides its place in a list body (values that change with time
        but not with the version belong here too)."""
        return (str(instance.pk), instance.version)

    def audience(self) -> str:
        """Who sees the body: fields depend on the role, or an integration's scopes."""
        user = self.request.user
        if is_integration(user):
            return f"integration:{user.client.pk}:{','.join(sorted(user.scopes))}"
        return f"staff:{getattr(user, 'role', '')}"

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        unchanged = self.unchanged_since_asked(request)
        if unchanged is not None:
            audit_read(
                actor=request.user,
                model=self.model,
                objects=[unchanged],
                action=AuditAction.READ,
                status_code=304,
            )
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
            response["ETag"] = etag_for(unchanged)
            return response
        instance = self.get_object()
        not_modified = if_none_match_hits(request, instance)
        audit_read(
            actor=request.user,
            model=self.model,
            objects=[instance],
            action=AuditAction.READ,
            status_code=304 if not_modified else 200,
        )
        if not_modified:
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
            response["ETag"] = etag_for(instance)
            return response
        return self.respond(instance)

    def unchanged_since_asked(self, request: Request) -> models.Model | None:
        """The record, read narrowly (id, version, patient), when If-None-Match names its
        current ETag; otherwise None and the read goes the full way.

        A 304 costs one narrow indexed read and the audit event's INSERT: the row is never read
        whole nor serialized. The record is found through the same scoped, filtered queryset
        as `get_object`, so a record the caller may not see is never answered 304; anything
        unusual (no such record, a malformed id) takes the full way, which answers it.
        """
        if "If-None-Match" not in request.headers or request.method not in ("GET", "HEAD"):
            return None
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        narrow = ["pk", "version"]
        if any(field.name == "patient" for field in self.model._meta.concrete_fields):
            narrow.append("patient_id")
        queryset = self.filter_queryset(self.get_queryset())
        try:
            instance = (
                queryset.select_related(None)
                .prefetch_related(None)
                .only(*narrow)
                .filter(**{self.lookup_field: lookup})
                .first()
            )
        except (ValueError, TypeError, DjangoValidationError):
            return None
        if instance is None or not if_none_match_hits(request, instance):
            return None
        self.check_object_permissions(request, instance)
        return instance

    def respond(self, instance: models.Model, status_code: int = status.HTTP_200_OK) -> Response:
        response = Response(self.get_serializer(instance).data, status=status_code)
        response["ETag"] = etag_for(instance)
        return response

    # Writes ------------------------------------------------------------------------------
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_record(actor=request.user, data=dict(serializer.validated_data))
        return self.respond_written(instance, status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        instance = self.get_object()
        version = expected_version(request)
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        updated = self.update_record(
            instance=instance,
            actor=request.user,
            changes=dict(serializer.validated_data),
            expected_version=version,
        )
        return self.respond_written(updated)

    def respond_written(
        self, instance: models.Model, status_code: int = status.HTTP_200_OK
    ) -> Response:
        """The answer to a committed write: the record re-read through the selector, so it
        carries what a GET would. If the writer can no longer read it (their access was taken
        away between the write and the re-read) the write still stands: the answer says so, with
        the record's id, and never a 500 that would make a client write it twice."""
        visible = self.get_queryset().filter(pk=instance.pk).first()
        if visible is None:
            return Response(
                {
                    "id": str(instance.pk),
                    "code": "written_not_readable",
                    "detail": "The change was recorded, but you can no longer read this record.",
                },
                status=status_code,
            )
        return self.respond(visible, status_code)

    def create_record(self, *, actor, data: dict[str, Any]) -> models.Model:
        raise exceptions.MethodNotAllowed("POST")

    def update_record(
        self, *, instance, actor, changes: dict[str, Any], expected_version: frozenset[int] | None
    ) -> models.Model:
        raise exceptions.MethodNotAllowed(self.request.method)
