from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api.conditional import etag_for, if_none_match_matches, list_etag
from api.pagination import PageNumberPagination
from caseload.documents.accounting import accounting_csv, accounting_pdf
from caseload.documents.record_copy import record_copy_pdf
from caseload.models import AmendmentRequest, AuditAction, Disclosure, Patient
from caseload.notice import PART2_NOTICE, PART2_NOTICE_HEADER
from caseload.permissions import (
    ADD,
    VIEW,
    has_role_permission,
    hidden_patient_fields,
    require_may,
)
from caseload.selectors.accounting import patient_accounting
from caseload.selectors.break_glass import break_glass_candidates
from caseload.selectors.consents import consent_list
from caseload.selectors.disclosures import disclosure_accounting
from caseload.selectors.history import history_scope, patient_history_state
from caseload.selectors.patients import patient_list
from caseload.services.amendments import amendment_request_create
from caseload.services.audit import audit_read
from caseload.services.break_glass import break_glass_open
from caseload.services.disclosures_off_system import disclosure_record_off_system
from caseload.services.exports import patient_export
from caseload.services.patients import patient_create, patient_update
from caseload.services.record_copies import record_copy_make
from caseload.timeline import EXPECTED_COURSE_LABEL, withdrawal_phase

from ..feed import FeedPagination
from .amendments import (
    NEW_AMENDMENT_SCHEMA,
    PATIENT_AMENDMENTS_SCHEMA,
    AmendmentCreateSerializer,
    AmendmentSerializer,
    OverdueQuerySerializer,
    patient_amendments,
)
from .base import RECORD_META, RecordViewSet
from .break_glass import CanBreakGlass, OpenBreakGlassSerializer, OpenedBreakGlassSerializer
from .disclosures import (
    ACCOUNTING_SCHEMA,
    OFF_SYSTEM_SCHEMA,
    AccountingQuerySerializer,
    DisclosureSerializer,
    OffSystemDisclosureSerializer,
)
from .exports import EXPORT_SCHEMA, CanExport, ExportRequestSerializer, export_payload
from .fields import (
    DateTimeField,
    PlausibleDateTimeFilter,
    validate_past_date,
    validate_past_datetime,
)
from .patient_records import (
    HISTORY_SCHEMA,
    TREND_SCHEMA,
    history_payload,
    require_clinical_access,
    trend_payload,
    trend_svg,
)
from .record_copies import RECORD_COPY_SCHEMA, RecordCopyRequestSerializer, record_copy_payload
from .renderers import CsvRenderer, PdfRenderer, SvgRenderer
from .strict import StrictSerializerMixin


class PatientSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    program = serializers.SlugRelatedField(slug_field="code", read_only=True)
    birth_date = serializers.DateField(validators=[validate_past_date])
    last_use_at = DateTimeField(
        required=False, allow_null=True, validators=[validate_past_datetime]
    )
    withdrawal_phase = serializers.SerializerMethodField(
        help_text="Expected withdrawal phase from last_use_at: pre_onset, onset, peak, acute, "
        "protracted. The general course, not a clinical finding."
    )
    withdrawal_phase_label = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = (
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "program",
            "phone",
            "email",
            "address_line",
            "city",
            "state",
            "postal_code",
            "reminder_channel",
            "last_use_at",
            "withdrawal_phase",
            "withdrawal_phase_label",
            *RECORD_META,
        )
        read_only_fields = (
            "id",
            *RECORD_META,
        )
        validators = []  # MRN uniqueness is checked by the service, within the program

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            for name in hidden_patient_fields(request.user):
                fields.pop(name, None)
        return fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_withdrawal_phase(self, patient: Patient) -> str | None:
        return withdrawal_phase(patient.last_use_at, timezone.now())

    def get_withdrawal_phase_label(self, patient: Patient) -> str:
        return EXPECTED_COURSE_LABEL


class PatientFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="id")
    mrn = django_filters.CharFilter()
    family_name = django_filters.CharFilter(lookup_expr="iexact")
    updated_since = PlausibleDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Starts a sync walk over patients changed at or after this time: pages link "
        "by `cursor`, the last one gives `next_sync`.",
    )

    class Meta:
        model = Patient
        fields = ("patient", "mrn", "family_name", "updated_since")


class PatientViewSet(RecordViewSet):
    """Patients of the caller's program that the caller may see; demographics and contact details.

    A role that sees no clinical content (front desk) gets no `last_use_at` or withdrawal phase.
    """

    model = Patient
    selector = staticmethod(patient_list)
    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    pagination_class = FeedPagination
    # The service asks the policy who may give a copy (the patient's counselor or a supervisor).
    action_permissions = {"record_copies": VIEW, "request_amendment": VIEW}
    # Actions besides retrieve and list that answer 304 to their ETag (the schema says so).
    if_none_match_actions = ("history",)

    def etag_row(self, instance: Patient) -> tuple:
        # The expected withdrawal phase moves with the clock, not with the version.
        if "withdrawal_phase" in hidden_patient_fields(self.request.user):
            return super().etag_row(instance)
        return (*super().etag_row(instance), withdrawal_phase(instance.last_use_at, timezone.now()))

    def create_record(self, *, actor, data):
        return patient_create(actor=actor, fields=data)

    def update_record(self, *, instance, actor, changes, expected_version):
        return patient_update(
            patient=instance, actor=actor, changes=changes, expected_version=expected_version
        )

    @HISTORY_SCHEMA
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None) -> Response:
        """Everything recorded about the patient, newest first, with change history."""
        patient = self.get_object()
        require_clinical_access(request.user)
        # The tag is read before the body: a write committing in between can only make the
        # tag older than the body, so a later If-None-Match answers 200, never a stale 304.
        scope = history_scope(user=request.user, patient=patient)
        state = patient_history_state(user=request.user, patient=patient, scope=scope)
        etag = list_etag({"history": str(patient.pk)}, state, audience=self.audience())
        unchanged = if_none_match_matches(request, etag)
        audit_read(
            actor=request.user,
            model=Patient,
            objects=[patient],
            action=AuditAction.READ,
            status_code=304 if unchanged else 200,
            detail={"view": "history"},
        )
        if unchanged:
            response = Response(status=status.HTTP_304_NOT_MODIFIED)  # nothing read or built
        else:
            response = Response(
                history_payload(
                    user=request.user,
                    patient=patient,
                    context=self.get_serializer_context(),
                    scope=scope,
                )
            )
        response["ETag"] = etag
        return response

    @TREND_SCHEMA
    @action(
        detail=True,
        methods=["get"],
        url_path="withdrawal-trend",
        renderer_classes=[JSONRenderer, SvgRenderer],
        query_parameters=("format",),
    )
    def withdrawal_trend(self, request, pk=None) -> Response:
        """COWS and SOWS series as JSON, or an SVG chart (`?format=svg`)."""
        patient = self.get_object()
        require_clinical_access(request.user)
        audit_read(
            actor=request.user,
            model=Patient,
            objects=[patient],
            action=AuditAction.READ,
            detail={"view": "withdrawal_trend"},
        )
        if request.accepted_renderer.format == "svg":
            return Response(trend_svg(user=request.user, patient=patient))
        return Response(trend_payload(user=request.user, patient=patient))

    @extend_schema(request=OpenBreakGlassSerializer, responses={201: OpenedBreakGlassSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="break-glass",
        permission_classes=[permissions.IsAuthenticated, CanBreakGlass],
        audit_action=AuditAction.BREAK_GLASS,
        success_status=status.HTTP_201_CREATED,
    )
    def break_glass(self, request, pk=None) -> Response:
        """Open a patient of your program who is not on your caseload: read-only, until
        `expires_at` (CASELOAD_BREAK_GLASS_HOURS), every request audited as break-the-glass and
        queued for a supervisor's review. Counselors and prescribers only; a reason is required.
        """
        patient = get_object_or_404(break_glass_candidates(user=request.user), pk=pk)
        payload = OpenBreakGlassSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        opened = break_glass_open(
            actor=request.user, patient=patient, reason=payload.validated_data["reason"]
        )
        return Response(OpenedBreakGlassSerializer(opened).data, status=status.HTTP_201_CREATED)

    @ACCOUNTING_SCHEMA
    @action(
        detail=True,
        methods=["get"],
        query_parameters=("since", "until", "page", "page_size", "format"),
        audit_action={"GET": AuditAction.LIST, "POST": AuditAction.CREATE},
        audit_resource=Disclosure,
        success_status={"POST": status.HTTP_201_CREATED},
        pagination_class=PageNumberPagination,  # an accounting, not a sync feed
        renderer_classes=[JSONRenderer, CsvRenderer, PdfRenderer],
    )
    def disclosures(self, request, pk=None) -> Response:
        """The patient's accounting of disclosures (42 CFR 2.24, HIPAA 164.528): every
        disclosure from `since` (at most six years back, the default) to `until` (now).

        JSON pages the ledger's rows. `Accept: text/csv` or `application/pdf` gives the whole
        window as the patient reads it: one entry per series to one recipient for one purpose
        (first, last, count) and per disclosure made outside the system, each naming the
        recipient's legal name and address; the PDF carries the 42 CFR 2.32 notice on every
        page."""
        patient = self.get_object()
        if not has_role_permission(request.user, VIEW, Disclosure):
            raise exceptions.PermissionDenied()
        query = AccountingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        document = request.accepted_renderer.format
        if document in ("csv", "pdf"):
            return self._accounting_document(request, patient, document, query.validated_data)
        rows = disclosure_accounting(user=request.user, patient=patient, **query.validated_data)
        page = self.paginate_queryset(rows)
        audit_read(
            actor=request.user,
            model=Disclosure,
            objects=page,
            action=AuditAction.LIST,
            patient_ids=[patient.pk],
            detail={"view": "accounting"},
        )
        return self.get_paginated_response(DisclosureSerializer(page, many=True).data)

    def _accounting_document(self, request, patient, document: str, window: dict) -> Response:
        accounting = patient_accounting(user=request.user, patient=patient, **window)
        audit_read(
            actor=request.user,
            model=Disclosure,
            objects=[],
            action=AuditAction.LIST,
            patient_ids=[patient.pk],
            detail={"view": "accounting", "format": document, "entries": len(accounting.entries)},
        )
        if document == "csv":
            body, name = accounting_csv(accounting), "accounting-of-disclosures.csv"
        else:
            body, name = accounting_pdf(accounting), "accounting-of-disclosures.pdf"
        response = Response(body)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response[PART2_NOTICE_HEADER] = PART2_NOTICE
        return response

    @OFF_SYSTEM_SCHEMA
    @disclosures.mapping.post
    def record_disclosure(self, request, pk=None) -> Response:
        """Record a disclosure made outside the system (supervisor): the fields its legal basis
        documents, every missing one named at once. Append-only; in the accounting and the
        ledger's tamper evidence like every other disclosure."""
        patient = self.get_object()
        require_may(request.user, ADD, Disclosure, patient=patient)
        payload = OffSystemDisclosureSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        recorded = disclosure_record_off_system(
            actor=request.user, patient=patient, fields=dict(payload.validated_data)
        )
        return Response(DisclosureSerializer(recorded).data, status=status.HTTP_201_CREATED)

    @RECORD_COPY_SCHEMA
    @action(
        detail=True,
        methods=["post"],
        url_path="record-copies",
        query_parameters=("format",),
        audit_action=AuditAction.PATIENT_ACCESS,
        renderer_classes=[JSONRenderer, PdfRenderer],
    )
    def record_copies(self, request, pk=None) -> Response:
        """The patient's own copy of their designated record set, made for the patient by their
        counselor or a supervisor (42 CFR 2.23, HIPAA 164.524): no consent needed, no ledger
        entry; audited as `patient_access`. JSON, or a PDF with `Accept: application/pdf`."""
        patient = self.get_object()
        RecordCopyRequestSerializer(data=request.data).is_valid(raise_exception=True)
        document = request.accepted_renderer.format
        record_set = record_copy_make(actor=request.user, patient=patient, document=document)
        if document == "pdf":
            response = Response(record_copy_pdf(record_set))
            response["Content-Disposition"] = 'attachment; filename="record-copy.pdf"'
        else:
            response = Response(
                record_copy_payload(
                    record_set,
                    patient_data=self.get_serializer(patient).data,
                    context=self.get_serializer_context(),
                )
            )
        response[PART2_NOTICE_HEADER] = PART2_NOTICE
        return response

    @PATIENT_AMENDMENTS_SCHEMA
    @action(
        detail=True,
        methods=["get"],
        query_parameters=("overdue", "page", "page_size"),
        audit_action={"GET": AuditAction.LIST, "POST": AuditAction.CREATE},
        audit_resource=AmendmentRequest,
        success_status={"POST": status.HTTP_201_CREATED},
        pagination_class=PageNumberPagination,
    )
    def amendments(self, request, pk=None) -> Response:
        """The patient's amendment requests, newest first; `?overdue=true` for those pending
        past their 60 days."""
        patient = self.get_object()
        if not has_role_permission(request.user, VIEW, AmendmentRequest):
            raise exceptions.PermissionDenied()
        query = OverdueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = patient_amendments(
            user=request.user, patient=patient, overdue_only=query.validated_data["overdue"]
        )
        page = self.paginate_queryset(rows)
        audit_read(
            actor=request.user,
            model=AmendmentRequest,
            objects=page,
            action=AuditAction.LIST,
            patient_ids=[patient.pk],
        )
        return self.get_paginated_response(AmendmentSerializer(page, many=True).data)

    @NEW_AMENDMENT_SCHEMA
    @amendments.mapping.post
    def request_amendment(self, request, pk=None) -> Response:
        """Record the patient's request to amend one of their records (the patient's counselor
        or a supervisor): the program decides within 60 days of `requested_at`."""
        patient = self.get_object()
        require_may(request.user, ADD, AmendmentRequest, patient=patient)
        payload = AmendmentCreateSerializer(data=request.data, context={"patient": patient})
        payload.is_valid(raise_exception=True)
        made = amendment_request_create(
            actor=request.user, patient=patient, fields=dict(payload.validated_data)
        )
        response = Response(AmendmentSerializer(made).data, status=status.HTTP_201_CREATED)
        response["ETag"] = etag_for(made)
        return response

    @EXPORT_SCHEMA
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[permissions.IsAuthenticated, CanExport],
        audit_action=AuditAction.EXPORT,
    )
    def export(self, request, pk=None) -> Response:
        """The records the named consent covers, with the 42 CFR 2.32 notice. The disclosure is
        written to the ledger (and audited as an export) before the answer is sent."""
        patient = self.get_object()
        payload = ExportRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        consent = (
            consent_list(user=request.user)
            .filter(pk=payload.validated_data["consent"], patient=patient)
            .first()
        )
        if consent is None:
            raise serializers.ValidationError(
                {"consent": [serializers.ErrorDetail("No such consent.", code="does_not_exist")]}
            )
        export = patient_export(actor=request.user, patient=patient, consent=consent)
        return Response(
            export_payload(
                export,
                patient_data=self.get_serializer(patient).data,
                context=self.get_serializer_context(),
            )
        )
