"""`GET /calendar/<secret>.ics`: a staff member's appointments as iCalendar (RFC 5545).

Calendar applications send no header, so the link itself is the credential. Each event carries
the kind, the time, the place and a short reference to the appointment; never the patient's
name or anything clinical.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from caseload.models import Appointment, AppointmentKind, AppointmentStatus
from caseload.services.calendar_feeds import calendar_feed_appointments, calendar_feed_for_secret

_STATUS = {AppointmentStatus.CANCELLED: "CANCELLED"}


def short_reference(appointment: Appointment) -> str:
    return f"Ref {appointment.pk.hex[:8].upper()}"


def _event(appointment: Appointment, stamp) -> Event:
    event = Event()
    event.add("uid", f"{appointment.pk}@caseload")
    event.add("dtstamp", stamp)
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    event.add("summary", AppointmentKind(appointment.kind).label)
    if appointment.location:
        event.add("location", appointment.location)
    event.add("description", short_reference(appointment))
    event.add("status", _STATUS.get(appointment.status, "CONFIRMED"))
    event.add("sequence", appointment.version)
    event.add("last-modified", appointment.updated_at)
    return event


@require_GET
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    feed = calendar_feed_for_secret(secret)
    if feed is None:
        return HttpResponseNotFound("Not found.\n", content_type="text/plain; charset=utf-8")
    calendar = Calendar()
    calendar.add("prodid", "-//Caseload//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Caseload appointments")
    stamp = timezone.now()
    for appointment in calendar_feed_appointments(feed=feed):
        calendar.add_component(_event(appointment, stamp))
    return HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
