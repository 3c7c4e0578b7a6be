"""What the console's frame shows: the navigation the policy allows, and the idle limit."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from caseload.models import AuditEvent, BreakGlass, Enrollment, Program, Staff
from caseload.permissions import (
    CHANGE,
    VIEW,
    has_role_permission,
    is_staff_member,
    may_manage_program,
    may_read_program_reports,
    sees_clinical_content,
)


def console(request: HttpRequest) -> dict:
    if not request.path.startswith("/console/"):
        return {}
    user = getattr(request, "user", None)
    context = {"idle_seconds": settings.SESSION_COOKIE_AGE}
    if user is None or not user.is_authenticated or not is_staff_member(user):
        return context
    if sees_clinical_content(user):
        nav = [("console:today", "Today"), ("console:caseload", "Caseload")]
    else:
        nav = [("console:board", "Appointment board"), ("console:caseload", "Patients")]
    if user.role == "supervisor":
        nav.append(("console:board", "Appointment board"))
    nav.append(("console:alerts", "Alerts"))
    if has_role_permission(user, VIEW, AuditEvent):
        nav.append(("console:audit", "Audit log"))
    if has_role_permission(user, VIEW, BreakGlass):
        nav.append(("console:break-glass", "Break-glass reviews"))
    if may_manage_program(user, user.program_id, model=Staff):
        nav.append(("console:locks", "Sign-in locks"))
    return context | {"nav": nav + _program_nav(user)}


def _program_nav(user) -> list[tuple[str, str]]:
    """The program's own pages, each where the policy lets the user open it."""
    nav = []
    if may_read_program_reports(user):
        nav.append(("console:reports", "Reports"))
    if may_manage_program(user, user.program_id, model=Staff):
        nav.append(("console:staff", "Staff"))
    if has_role_permission(user, CHANGE, Enrollment):
        nav.append(("console:care-team", "Care teams"))
    if may_manage_program(user, user.program_id, model=Program):
        nav.append(("console:reminder-wording", "Reminder wording"))
    return nav
