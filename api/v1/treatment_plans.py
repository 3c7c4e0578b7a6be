"""Treatment plans: a draft, signed by the enrollment's counselor, then changed only by reviews."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from caseload.models import PlanStatus, TreatmentPlan
from caseload.permissions import CHANGE
from caseload.selectors.records import treatment_plan_list
from caseload.services.treatment_plans import (
    plan_content_problems,
    treatment_plan_create,
    treatment_plan_review,
    treatment_plan_sign,
    treatment_plan_update,
)

from .base import CORRECTION_FIELDS, RECORD_META, RecordViewSet, expected_version
from .corrections import EnteredInErrorMixin
from .fields import (
    DateTimeField,
    StrictIntegerField,
    VisibleEnrollmentField,
    validate_past_datetime,
    validate_plausible_date,
)
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin


class ProblemSerializer(StrictSerializerMixin, serializers.Serializer):
    """A problem from the assessment; it may name the ASAM dimension it belongs to."""

    description = serializers.CharField(max_length=1000)
    asam_dimension = StrictIntegerField(min_value=1, max_value=6, required=False, allow_null=True)


class ObjectiveSerializer(StrictSerializerMixin, serializers.Serializer):
    """A measurable objective with its target date (on or after the plan's start)."""

    description = serializers.CharField(max_length=1000)
    target_date = serializers.DateField(validators=[validate_plausible_date])
    status = serializers.ChoiceField(
        choices=["open", "met", "revised", "discontinued"], required=False, default="open"
    )


class GoalSerializer(StrictSerializerMixin, serializers.Serializer):
    """A goal, in the patient's words, with its measurable objectives."""

    description = serializers.CharField(max_length=1000)
    objectives = ObjectiveSerializer(many=True)


class InterventionSerializer(StrictSerializerMixin, serializers.Serializer):
    """What is done, how often, and who is responsible (a staff member of the program)."""

    kind = serializers.CharField(max_length=200)
    frequency = serializers.CharField(max_length=200)
    responsible = serializers.UUIDField()


class PlanContentMixin(serializers.Serializer):
    problems = ProblemSerializer(many=True, required=False)
    goals = GoalSerializer(many=True, required=False)
    interventions = InterventionSerializer(many=True, required=False)
    signed_by_patient_at = DateTimeField(
        required=False,
        allow_null=True,
        validators=[validate_past_datetime],
        help_text="When the patient signed the plan.",
    )


class TreatmentPlanSerializer(StrictSerializerMixin, PlanContentMixin, serializers.ModelSerializer):
    enrollment = VisibleEnrollmentField()
    starts_on = serializers.DateField(
        required=False, validators=[validate_plausible_date], help_text="Defaults to today."
    )
    status = serializers.ChoiceField(choices=PlanStatus.choices, read_only=True)

    class Meta:
        model = TreatmentPlan
        fields = (
            "id",
            "patient",
            "enrollment",
            "starts_on",
            "problems",
            "goals",
            "interventions",
            "status",
            "signed_by_patient_at",
            "signed_by",
            "signed_at",
            "review_due_on",
            "reviewed_at",
            "reviewed_by",
            "review_note",
            "entered_in_error_reason",
            *RECORD_META,
        )
        immutable_fields = ("enrollment",)
        read_only_fields = (
            "id",
            "patient",
            "signed_by",
            "signed_at",
            "review_due_on",
            "reviewed_at",
            "reviewed_by",
            "review_note",
            *CORRECTION_FIELDS,
            *RECORD_META,
        )

    def domain_problems(self, values, failed):
        if failed or isinstance(self.instance, TreatmentPlan):
            return []  # on an edit the service checks against the stored plan
        enrollment = values.get("enrollment")
        if enrollment is None:
            return []
        starts_on = values.get("starts_on", timezone.localdate())
        return plan_content_problems(
            values, program_id=enrollment.patient.program_id, starts_on=starts_on
        )


class SignSerializer(StrictSerializerMixin, serializers.Serializer):
    signed_by_patient_at = DateTimeField(
        required=False,
        validators=[validate_past_datetime],
        help_text="When the patient signed the plan, unless already recorded on it.",
    )


class PlanReviewSerializer(StrictSerializerMixin, PlanContentMixin):
    note = serializers.CharField(max_length=5000, help_text="What the review found and changed.")


class TreatmentPlanFilter(PatientRecordFilter):
    enrollment = django_filters.UUIDFilter()
    review_overdue = django_filters.BooleanFilter(
        method="filter_review_overdue",
        help_text="true: signed plans whose review date has passed; false: all others.",
    )

    class Meta:
        model = TreatmentPlan
        fields = ("patient", "enrollment", "status", "review_overdue")

    def filter_review_overdue(self, queryset, name, value):
        overdue = {"status": PlanStatus.SIGNED, "review_due_on__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class TreatmentPlanViewSet(EnteredInErrorMixin, RecordViewSet):
    """Treatment plans, one current (draft or signed) per enrollment. A draft is edited; a
    signed plan changes only by a review, which sets the next `review_due_on`; every earlier
    version stays in the plan's history (`/patients/{id}/history/`)."""

    model = TreatmentPlan
    selector = staticmethod(treatment_plan_list)
    serializer_class = TreatmentPlanSerializer
    filterset_class = TreatmentPlanFilter
    action_permissions = {"entered_in_error": CHANGE, "sign": CHANGE, "review": CHANGE}

    @extend_schema(request=SignSerializer, responses=TreatmentPlanSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk=None) -> Response:
        """The enrollment's counselor signs the draft (409 `not_on_care_team` for anyone else,
        409 `plan_incomplete` or `patient_signature_missing` naming what is missing); the first
        review falls due `CASELOAD_PLAN_REVIEW_DAYS` later."""
        plan = self.get_object()
        version = expected_version(request)
        payload = SignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        updated = treatment_plan_sign(
            plan=plan,
            actor=request.user,
            signed_by_patient_at=payload.validated_data.get("signed_by_patient_at"),
            expected_version=version,
        )
        return self.respond_written(updated)

    @extend_schema(request=PlanReviewSerializer, responses=TreatmentPlanSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk=None) -> Response:
        """Review a signed plan (409 `illegal_transition` for a draft): the note, any new
        problems, goals or interventions, and the next `review_due_on`."""
        plan = self.get_object()
        version = expected_version(request)
        payload = PlanReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        note = changes.pop("note")
        updated = treatment_plan_review(
            plan=plan, actor=request.user, note=note, changes=changes, expected_version=version
        )
        return self.respond_written(updated)

    def create_record(self, *, actor, data):
        enrollment = data.pop("enrollment")
        return treatment_plan_create(actor=actor, enrollment=enrollment, fields=data)

    def update_record(self, *, instance, actor, changes, expected_version):
        return treatment_plan_update(
            plan=instance, actor=actor, changes=changes, expected_version=expected_version
        )
