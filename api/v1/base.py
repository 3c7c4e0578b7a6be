"""The base every resource viewset stands on: scoped reads, role checks, ETags, audited access.

A subclass names its `model`, a `selector` (user -> scoped queryset) and the services that
create and update records. `get_queryset` always goes through the selector, so an unscoped
list cannot be written by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from rest_framework import exceptions, mixins, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.conditional import etag_for, if_none_match_hits, if_none_match_matches, list_etag
from api.conditional import if_match_versions as expected_version
from api.feed import FeedPagination
from api.permissions import PatientWritePermission, RolePermission
from caseload.models import AuditAction, is_integration
from caseload.permissions import (
    DISCLOSED_CATEGORY,
)
from caseload.services.audit import audit_read, patient_id_of
from caseload.services.integrations import integration_disclose

from .fast_output import dumps_like_drf, json_columns, rows_json
from .filters import filters_used, queried_patients
from .read import ReadViewSet
from .renderers import RenderedJSON

# Fields every record shows and no client writes.
RECORD_META = ("version", "created_at", "updated_at")
# How a clinical record is corrected: status entered_in_error, with the reason.
CORRECTION_FIELDS = ("status", "entered_in_error_reason")
# Records that are never edited, only corrected by marking them entered in error.
APPEND_ONLY_METHODS = ("get", "post", "head", "options")


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
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ReadViewSet,
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
        by_row = self.walks_by_row(request)
        if by_row and "If-None-Match" in request.headers:
            # What the tag hashes (ids, versions, the next position) is read first, narrowly;
            # the page is read whole only when the tag has changed.
            unchanged = self.unchanged_page(request, queryset)
            if unchanged is not None:
                return unchanged
        keys = self.row_keys() if by_row else ()
        page = self.paginate_queryset(queryset)
        etag = self.page_etag(page)
        if if_none_match_matches(request, etag):
            return self.not_modified_page(request, page, etag)
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
        if keys:  # a sync walk's rows, straight to JSON with the serializer's bytes
            body = self.paginator.feed_envelope() | {"results": rows_json(keys, page)}
            response = Response(RenderedJSON(dumps_like_drf(body)))
        else:
            response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response["ETag"] = etag
        return response

    def not_modified_page(self, request: Request, page: list, etag: str) -> Response:
        """304 for a list page: audited like the 200, nothing serialized or disclosed."""
        self.audit_list(request, page)
        response = Response(status=status.HTTP_304_NOT_MODIFIED)
        response["ETag"] = etag
        return response

    def unchanged_page(self, request: Request, queryset: models.QuerySet) -> Response | None:
        """The 304 for a sync page whose tag If-None-Match names, from a read of each row's
        id, patient, version and change number only; None when the page has changed.

        The walk (its horizon and position) is the one the whole read that follows uses; a
        row updated in between leaves the window, and the whole read's own tag says so.
        """
        paginator = self.paginator
        columns, paginator.columns = paginator.columns, ()
        try:
            page = self.paginate_queryset(queryset)
        finally:
            paginator.columns = columns
        etag = self.page_etag(page)
        if not if_none_match_matches(request, etag):
            return None
        return self.not_modified_page(request, page, etag)

    def walks_by_row(self, request: Request) -> bool:
        """Whether this request is a sync walk whose page can be read as `FeedRow`s: a feed
        paginator, a model with a patient, version and change number, the default row tag."""
        paginator = self.paginator
        fields = {f.name for f in self.model._meta.concrete_fields}
        return (
            isinstance(paginator, FeedPagination)
            and type(self).etag_row is RecordViewSet.etag_row
            and {"patient", "version", "change_seq"} <= fields
            and paginator.walk_for(request) is not None
        )

    def row_keys(self) -> tuple[str, ...]:
        """On a sync walk (`walks_by_row`), when every field the caller sees is a column written
        as it is read (`json_columns`), have the paginator read the page as tuples of those
        columns and return the output keys; otherwise () and the page goes through the
        serializer.

        A feed page of 500 spent most of its time building and serializing model instances
        (docs/performance.md); what the body says is the same either way, and
        tests/api/v1/test_feed_rows_json.py compares the bytes of both ways.
        """
        keys, columns = json_columns(self.get_serializer())
        self.paginator.columns = columns or None
        return keys

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
