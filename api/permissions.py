"""DRF permission classes: each asks the policy module (caseload/permissions.py), never decides.

A request whose method the view has no handler for passes every class here, so the view answers
405 whoever asks (`handles`), as it would for a record that cannot be deleted.
"""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.request import Request

from caseload.models import Role
from caseload.permissions import is_staff_member


def handles(view, request: Request) -> bool:
    """Does `view` have a handler for the request's method? If not, the answer is 405."""
    method = request.method.lower()
    return method in view.http_method_names and hasattr(view, method)


class IsProgramStaff(permissions.BasePermission):
    """Staff of a program; integration clients and anonymous callers are refused."""

    def has_permission(self, request: Request, view) -> bool:
        return is_staff_member(request.user)


class IsSupervisor(IsProgramStaff):
    """Supervisors of a program; other staff 403."""

    def has_permission(self, request: Request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return not handles(view, request) or request.user.role == Role.SUPERVISOR
