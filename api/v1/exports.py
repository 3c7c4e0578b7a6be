"""`POST /api/v1/patients/{id}/export/ {"consent": id}`: the patient's records a consent covers,
with the 42 CFR 2.32 notice; the disclosure goes to the ledger."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request

from api.permissions import handles
from caseload.dates import iso_z
from caseload.models import Consent
from caseload.permissions import ADD, has_role_permission
from caseload.services.exports import PatientExport

from .patient_records import RECORD_SERIALIZERS
from .strict import StrictSerializerMixin

# Consent categories -> the history's record serializers.
CATEGORY_SERIALIZERS = {
    "enrollments": "enrollment",
    "appointments": "appointment",
    "assessments": "assessment",
    "medications": "medication",
    "drug_screens": "drug_screen",
    "referrals": "referral",
    "notes": "note",
}


class ExportRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    consent = serializers.UUIDField(help_text="The patient's active consent to disclose under.")


class CanExport(permissions.BasePermission):
    """Who writes consents exports under them: counselors and supervisors."""

    def has_permission(self, request: Request, view) -> bool:
        if not handles(view, request):
            return True
        return has_role_permission(request.user, ADD, Consent)


def export_payload(export: PatientExport, *, patient_data: dict, context: dict) -> dict:
    consent = export.consent
    records = {
        category: RECORD_SERIALIZERS[CATEGORY_SERIALIZERS[category]](
            rows, many=True, context=context
        ).data
        for category, rows in export.records.items()
    }
    if "demographics" in consent.information:
        records["demographics"] = patient_data
    return {
        "patient": str(export.patient.pk),
        "consent": str(consent.pk),
        "recipient_name": consent.recipient_name,
        "purpose": consent.purpose,
        "information": list(consent.information),
        "disclosed_at": iso_z(export.disclosed_at),
        "notice": export.notice,
        "records": records,
    }


EXPORT_SCHEMA = extend_schema(
    request=ExportRequestSerializer,
    responses=OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="patient, consent, recipient_name, purpose, information, disclosed_at, "
        "notice (42 CFR 2.32) and records: one list per kind of information the consent names.",
    ),
)
