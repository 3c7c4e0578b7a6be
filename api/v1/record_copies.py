"""The patient's own copy of their record: `POST /api/v1/patients/{id}/record-copies/` answers
the designated record set as JSON, or as a PDF with `Accept: application/pdf`."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from caseload.dates import iso_z
from caseload.notice import PART2_NOTICE
from caseload.selectors.record_set import EXCLUDED, RecordSet

from .amendments import AmendmentSerializer
from .consents import ConsentSerializer
from .patient_records import RECORD_SERIALIZERS
from .strict import StrictSerializerMixin

# The record set's kinds, as the history names them.
SERIALIZED_AS = {
    "enrollments": "enrollment",
    "assessments": "assessment",
    "medications": "medication",
    "drug_screens": "drug_screen",
    "referrals": "referral",
    "appointments": "appointment",
}


class RecordCopyRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    """Nothing to send: the copy is of the patient named in the path."""


def record_copy_payload(record_set: RecordSet, *, patient_data: dict, context: dict) -> dict:
    records = {
        kind: RECORD_SERIALIZERS[SERIALIZED_AS[kind]](rows, many=True, context=context).data
        for kind, rows in record_set.kinds.items()
    }
    return {
        "patient": patient_data,
        "program": record_set.program_name,
        "generated_at": iso_z(record_set.generated_at),
        "notice": PART2_NOTICE,
        "records": records,
        "consents": ConsentSerializer(record_set.consents, many=True, context=context).data,
        "amendments": AmendmentSerializer(record_set.amendments, many=True, context=context).data,
        "excluded": EXCLUDED,
    }


RECORD_COPY_SCHEMA = extend_schema(
    request=RecordCopyRequestSerializer,
    parameters=[
        OpenApiParameter(
            "format",
            str,
            enum=["json", "pdf"],
            description="`pdf` for the copy to hand to the patient (or send "
            "`Accept: application/pdf`).",
        )
    ],
    responses={
        (200, "application/json"): OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="`patient`, `program`, `generated_at`, `notice`, `records` (one list per "
            "kind), `consents`, `amendments` (with any statement of disagreement), and `excluded` "
            "(what is left out, and why).",
        ),
        (200, "application/pdf"): OpenApiResponse(
            OpenApiTypes.BINARY, description="The copy, the 42 CFR 2.32 notice on every page."
        ),
    },
)
