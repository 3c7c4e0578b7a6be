"""Today (my appointments), the program's appointment board, and moving an appointment along."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from caseload.errors import DomainError
from caseload.models import Appointment, AuditAction
from caseload.permissions import sees_clinical_content
from caseload.selectors.records import appointment_list
from caseload.services.appointments import appointment_transition

from ..access import as_uuid, audit_page, refuse, refuse_domain, staff_page
from .common import back_to, day_of, version_of

UPCOMING = 5
MOVES = {"arrive": "arrived", "fulfil": "fulfilled", "noshow": "noshow", "cancel": "cancelled"}


def _day_context(request: HttpRequest, rows, day) -> dict:
    rows = list(rows.select_related("patient", "staff").order_by("start"))
    audit_page(request, model=Appointment, objects=rows, detail={"day": day.isoformat()})
    return {
        "appointments": rows,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
    }


@staff_page
def today(request: HttpRequest) -> HttpResponse:
    if not sees_clinical_content(request.user):
        return redirect("console:board")
    day = day_of(request)
    mine = appointment_list(user=request.user).filter(staff=request.user)
    rows = mine.filter(start__date=day)
    context = _day_context(request, rows, day) | {"show_staff": False}
    if day == timezone.localdate():
        # The next few bookings after today, so an empty day still shows what comes next.
        upcoming = list(
            mine.filter(start__date__gt=day, status="booked")
            .select_related("patient")
            .order_by("start")[:UPCOMING]
        )
        audit_page(request, model=Appointment, objects=upcoming, detail={"upcoming": True})
        context["upcoming"] = upcoming
    return render(request, "console/today.html", context)


@staff_page
def board(request: HttpRequest) -> HttpResponse:
    """Every appointment of the day the user may see: the program's, for front desk and
    supervisors."""
    day = day_of(request)
    rows = appointment_list(user=request.user).filter(start__date=day)
    context = _day_context(request, rows, day) | {"show_staff": True}
    return render(request, "console/board.html", context)


def _visible_appointment(request: HttpRequest, appointment_id) -> Appointment | None:
    return (
        appointment_list(user=request.user)
        .select_related("patient", "staff")
        .filter(pk=appointment_id)
        .first()
    )


@staff_page
@require_POST
def move(request: HttpRequest, pk, move: str) -> HttpResponse:
    appointment_id = as_uuid(pk)
    appointment = _visible_appointment(request, appointment_id)
    if appointment is None or move not in MOVES:
        refuse(
            request,
            action=AuditAction.TRANSITION,
            model=Appointment,
            resource_id=appointment_id or "",
        )
        raise Http404("No such appointment.")
    error = None
    try:
        appointment = appointment_transition(
            appointment=appointment,
            actor=request.user,
            to=MOVES[move],
            reason=request.POST.get("reason", ""),
            expected_version=version_of(request),
        )
    except DomainError as exc:
        error = exc
        refuse_domain(request, exc, action=AuditAction.TRANSITION, record=appointment)
        appointment = _visible_appointment(request, appointment.pk)
    if request.htmx:
        return _appointment_row(request, appointment, error)
    if error is not None:
        messages.error(request, f"{error.message} ({error.code})")
    else:
        messages.success(request, f"The appointment is {appointment.get_status_display().lower()}.")
    return redirect(back_to(request, reverse("console:today")))


def _appointment_row(request: HttpRequest, appointment, error) -> HttpResponse:
    """The row htmx swaps in: the appointment as it now stands, with the refusal if any."""
    context = {
        "a": appointment,
        "error": error,
        "show_staff": request.POST.get("show_staff") == "1",
        "next": request.POST.get("next", ""),
    }
    status = error.status if error else 200
    return render(request, "console/_appointment_row.html", context, status=status)
