from __future__ import annotations

from rest_framework import serializers

from caseload.models import CaseNote
from caseload.selectors.records import note_list
from caseload.services.notes import note_create, note_update

from .base import CORRECTION_FIELDS, RECORD_META, RecordViewSet
from .corrections import EnteredInErrorMixin
from .fields import DateTimeField, VisiblePatientField, validate_past_datetime
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin


class CaseNoteSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    written_at = DateTimeField(validators=[validate_past_datetime])

    class Meta:
        model = CaseNote
        fields = (
            "id",
            "patient",
            "author",
            "written_at",
            "body",
            *CORRECTION_FIELDS,
            *RECORD_META,
        )
        immutable_fields = ("patient",)
        read_only_fields = (
            "id",
            "author",
            *CORRECTION_FIELDS,
            *RECORD_META,
        )


class CaseNoteFilter(PatientRecordFilter):
    class Meta:
        model = CaseNote
        fields = ("patient", "status")


class CaseNoteViewSet(EnteredInErrorMixin, RecordViewSet):
    """Counselors' case notes. Only the author changes a note; corrected, never deleted."""

    model = CaseNote
    selector = staticmethod(note_list)
    serializer_class = CaseNoteSerializer
    filterset_class = CaseNoteFilter

    def create_record(self, *, actor, data):
        patient = data.pop("patient")
        return note_create(actor=actor, patient=patient, fields=data)

    def update_record(self, *, instance, actor, changes, expected_version):
        return note_update(
            note=instance, actor=actor, changes=changes, expected_version=expected_version
        )
