"""Alerts: a withdrawal finding, raised in the assessment's transaction (at most one open per
patient and kind) and closed when that assessment is entered in error; and a break-the-glass
opening, one for each supervisor of the program."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from caseload import instruments
from caseload.errors import Conflict, Forbidden
from caseload.models import (
    Alert,
    AlertKind,
    AlertStatus,
    Assessment,
    AuditAction,
    BreakGlass,
    Enrollment,
    RecordStatus,
    Role,
    Staff,
)

from .audit import audit_record

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
    """The recipient acknowledges an open alert; audited."""
    with transaction.atomic():
        current = Alert.objects.select_for_update().get(pk=alert.pk)
        if current.recipient_id != getattr(actor, "pk", None):
            raise Forbidden("Only the alert's recipient acknowledges it.")
        if current.status == AlertStatus.CLOSED:
            raise Conflict(
                "This alert was closed: the finding it stood for was entered in error.",
                code="alert_closed",
                field="status",
            )
        if current.status != AlertStatus.OPEN:
            raise Conflict(
                "This alert is already acknowledged.", code="already_acknowledged", field="status"
            )
        current.status = AlertStatus.ACKNOWLEDGED
        current.acknowledged_at = timezone.now()
        current.acknowledged_by = actor
        current.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            obj=current,
            patient=current.patient,
            detail={"to": AlertStatus.ACKNOWLEDGED, "kind": current.kind},
        )
    return current


def alerts_close_for_correction(*, assessment: Assessment, actor, reason: str) -> list[Alert]:
    """The assessment was entered in error: each open alert it raised stands for a later
    valid assessment of the patient that calls for the same kind, or closes with the reason.
    Call inside the correction's transaction."""
    changed = []
    for alert in Alert.objects.select_for_update().filter(
        assessment=assessment, status=AlertStatus.OPEN
    ):
        instead = _still_standing(alert)
        if instead is not None:
            alert.assessment = instead
            alert.save(update_fields=["assessment"])
            detail = {"kind": alert.kind, "assessment": str(instead.pk)}
        else:
            alert.status = AlertStatus.CLOSED
            alert.closed_at = timezone.now()
            alert.closed_reason = f"Assessment entered in error: {reason}"[:600]
            alert.save(update_fields=["status", "closed_at", "closed_reason"])
            detail = {"to": AlertStatus.CLOSED, "kind": alert.kind}
        audit_record(
            actor=actor,
            action=AuditAction.TRANSITION
            if alert.status == AlertStatus.CLOSED
            else AuditAction.UPDATE,
            obj=alert,
            patient=assessment.patient,
            detail=detail,
        )
        changed.append(alert)
    return changed


def _still_standing(alert: Alert) -> Assessment | None:
    """The newest valid assessment of the patient that calls for the alert's kind."""
    candidates = (
        Assessment.objects.filter(patient_id=alert.patient_id)
        .exclude(pk=alert.assessment_id)
        .exclude(status=RecordStatus.ENTERED_IN_ERROR)
        .order_by("-administered_at")
    )
    return next((a for a in candidates if alert_kind_for(a) == alert.kind), None)


def alerts_for_break_glass(*, opening: BreakGlass) -> list[Alert]:
    """One alert for every active supervisor of the program. Call in the opening's
    transaction."""
    supervisors = Staff.objects.filter(
        program_id=opening.program_id, role=Role.SUPERVISOR, is_active=True
    ).order_by("username")
    return Alert.objects.bulk_create(
        Alert(
            patient_id=opening.patient_id,
            recipient=supervisor,
            kind=AlertKind.BREAK_GLASS,
            break_glass=opening,
        )
        for supervisor in supervisors
    )


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
