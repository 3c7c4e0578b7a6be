"""Withdrawal alerts: raised in the assessment's transaction, at most one open per kind."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from caseload import instruments
from caseload.errors import Conflict
from caseload.models import Alert, AlertKind, AlertStatus, Assessment, Enrollment, Staff

COWS_ALERT_BANDS = {"moderately_severe", "severe"}


def alert_kind_for(assessment: Assessment) -> str | None:
    if assessment.instrument == instruments.COWS and assessment.severity in COWS_ALERT_BANDS:
        return AlertKind.COWS_SEVERE
    if assessment.meets_withdrawal_criteria:
        return AlertKind.WITHDRAWAL_CRITERIA
    return None


def alert_raise_for(*, assessment: Assessment) -> Alert | None:
    """Alert the prescriber (or a supervisor) when the assessment calls for it.

    Call inside the assessment's transaction. An open alert of the same kind for the patient
    stands for this one too (one open per patient and kind, a database constraint).
    """
    kind = alert_kind_for(assessment)
    if kind is None:
        return None
    open_alert = Alert.objects.filter(
        patient_id=assessment.patient_id, kind=kind, status=AlertStatus.OPEN
    ).first()
    if open_alert is not None:
        return open_alert
    recipient = _recipient(assessment)
    if recipient is None:
        return None
    try:
        with transaction.atomic():
            return Alert.objects.create(
                patient_id=assessment.patient_id,
                recipient=recipient,
                kind=kind,
                assessment=assessment,
            )
    except IntegrityError:  # a concurrent assessment raised it first
        return Alert.objects.get(
            patient_id=assessment.patient_id, kind=kind, status=AlertStatus.OPEN
        )


def alert_acknowledge(*, alert: Alert, actor: Staff) -> Alert:
    with transaction.atomic():
        current = Alert.objects.select_for_update().get(pk=alert.pk)
        if current.status != AlertStatus.OPEN:
            raise Conflict(
                "This alert is already acknowledged.", code="already_acknowledged", field="status"
            )
        current.status = AlertStatus.ACKNOWLEDGED
        current.acknowledged_at = timezone.now()
        current.acknowledged_by = actor
        current.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    return current


def _recipient(assessment: Assessment) -> Staff | None:
    enrollment = (
        Enrollment.objects.filter(patient_id=assessment.patient_id, prescriber__isnull=False)
        .exclude(status="discharged")
        .select_related("prescriber")
        .order_by("-admitted_on")
        .first()
    )
    if enrollment is not None and enrollment.prescriber.is_active:
        return enrollment.prescriber
    return (
        Staff.objects.filter(
            program_id=assessment.patient.program_id, role="supervisor", is_active=True
        )
        .order_by("username")
        .first()
    )
