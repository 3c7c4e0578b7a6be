"""Per-patient views for clinical staff: the full history and the withdrawal trend."""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers

from caseload.charts import render_withdrawal_trend_svg
from caseload.dates import iso_z
from caseload.models import Patient, Staff
from caseload.permissions import sees_clinical_content
from caseload.selectors.history import HistoryEntry, patient_history
from caseload.selectors.trend import withdrawal_trend
from caseload.timeline import EXPECTED_COURSE_LABEL, withdrawal_phase

from .appointments import AppointmentSerializer
from .assessments import AssessmentSerializer
from .drug_screens import DrugScreenSerializer
from .enrollments import EnrollmentSerializer
from .fields import DateTimeField
from .medications import MedicationSerializer
from .notes import CaseNoteSerializer
from .placements import PlacementSerializer
from .referrals import ReferralSerializer
from .treatment_plans import TreatmentPlanSerializer

RECORD_SERIALIZERS = {
    "enrollment": EnrollmentSerializer,
    "assessment": AssessmentSerializer,
    "medication": MedicationSerializer,
    "drug_screen": DrugScreenSerializer,
    "referral": ReferralSerializer,
    "appointment": AppointmentSerializer,
    "note": CaseNoteSerializer,
    "placement": PlacementSerializer,
    "treatment_plan": TreatmentPlanSerializer,
}


class ChangeSerializer(serializers.Serializer):
    at = DateTimeField()
    by = serializers.UUIDField(allow_null=True)
    type = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    fields = serializers.ListField(child=serializers.CharField())


class HistoryEntrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(RECORD_SERIALIZERS))
    at = DateTimeField()
    record = serializers.DictField()
    changes = ChangeSerializer(many=True)


class HistorySerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    count = serializers.IntegerField()
    results = HistoryEntrySerializer(many=True)


def require_clinical_access(user: Staff) -> None:
    if not sees_clinical_content(user):
        raise exceptions.PermissionDenied("Your role does not see clinical records.")


def history_payload(
    *, user: Staff, patient: Patient, context: dict, scope: dict | None = None
) -> dict:
    entries = patient_history(user=user, patient=patient, scope=scope)
    records = _serialize_by_kind(entries, context)
    return {
        "patient": str(patient.pk),
        "count": len(entries),
        "results": [
            {
                "type": entry.kind,
                "at": iso_z(entry.at),
                "record": records[entry.kind, entry.record.pk],
                "changes": ChangeSerializer(entry.changes, many=True).data,
            }
            for entry in entries
        ],
    }


def _serialize_by_kind(entries: list[HistoryEntry], context: dict) -> dict[tuple, dict]:
    """One list serializer per record type: building a serializer per record is costly."""
    by_kind: dict[str, list] = defaultdict(list)
    for entry in entries:
        by_kind[entry.kind].append(entry.record)
    serialized = {}
    for kind, records in by_kind.items():
        data = RECORD_SERIALIZERS[kind](records, many=True, context=context).data
        serialized |= {(kind, record.pk): row for record, row in zip(records, data, strict=True)}
    return serialized


def trend_payload(*, user: Staff, patient: Patient) -> dict:
    return {
        "patient": str(patient.pk),
        "last_use_at": iso_z(patient.last_use_at) if patient.last_use_at else None,
        "expected_phase": withdrawal_phase(patient.last_use_at, timezone.now()),
        "expected_phase_label": EXPECTED_COURSE_LABEL,
        "series": [
            {
                "instrument": series.instrument,
                "label": series.label,
                "max_score": series.max_score,
                "bands": list(series.bands),
                "points": [
                    {
                        "id": str(a.pk),
                        "administered_at": iso_z(a.administered_at),
                        "total_score": a.total_score,
                        "severity": a.severity,
                    }
                    for a in rows
                ],
            }
            for series, rows in withdrawal_trend(user=user, patient=patient)
        ],
    }


def trend_svg(*, user: Staff, patient: Patient) -> str:
    series = [series for series, _ in withdrawal_trend(user=user, patient=patient)]
    return render_withdrawal_trend_svg(
        series=series,
        last_use_at=patient.last_use_at,
        title=f"Withdrawal trend, MRN {patient.mrn}",
        zone=timezone.get_current_timezone(),
    )


HISTORY_SCHEMA = extend_schema(responses=HistorySerializer)
TREND_SCHEMA = extend_schema(
    parameters=[
        OpenApiParameter(
            "format",
            str,
            enum=["json", "svg"],
            description="`svg` for the chart (or send `Accept: image/svg+xml`).",
        )
    ],
    # The chart comes first, as bytes (`format: binary`): a generator that keeps one content type
    # per operation then hands back the body unparsed, where parsing the SVG as JSON would crash
    # (openapi-python-client, with openapi-python-client.yaml; docs/api.md, "Generating a client").
    responses={
        (200, "image/svg+xml"): OpenApiResponse(
            OpenApiTypes.BINARY,
            description="The chart (`?format=svg` or `Accept: image/svg+xml`): bands shaded,"
            " last use marked. Without either, the COWS and SOWS series as JSON, with bands and"
            " last use.",
        ),
        (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
    },
)
