"""DRF permission classes: each asks the policy module (caseload/permissions.py), never decides.

A request whose method the view has no handler for passes every class here, so the view answers
405 whoever asks (`handles`), as it would for a record that cannot be deleted.
"""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.request import Request

from caseload.models import Patient, Role, is_integration
from caseload.permissions import (
    ADD,
    CHANGE,
    VIEW,
    can_write_patient,
    has_role_permission,
    integration_may_list,
    is_staff_member,
)


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


_METHOD_ACTIONS = {
    "GET": VIEW,
    "HEAD": VIEW,
    "OPTIONS": VIEW,
    "POST": ADD,
    "PUT": CHANGE,
    "PATCH": CHANGE,
}


class RolePermission(permissions.BasePermission):
    """The role must allow the action on the viewset's record type; otherwise 403.

    Methods with no handler (DELETE on a clinical record) pass here and answer 405.
    """

    def has_permission(self, request: Request, view) -> bool:
        if not handles(view, request):
            return True
        if is_integration(request.user):
            # Integrations read lists their scopes name; nothing else, never a write.
            return (
                view.action == "list"
                and request.method in ("GET", "HEAD")
                and integration_may_list(request.user, view.model)
            )
        action = view.action_permissions.get(view.action) or _METHOD_ACTIONS.get(request.method)
        if action is None:
            return True
        return has_role_permission(request.user, action, view.model)


class PatientWritePermission(permissions.BasePermission):
    """A record is changed only by someone who may write to its patient. A patient visible
    through break-the-glass access is readable, not writable: 403."""

    message = "Break-the-glass access is read-only."
    code = "break_glass_read_only"

    def has_object_permission(self, request: Request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        patient = obj if isinstance(obj, Patient) else getattr(obj, "patient", None)
        return patient is None or can_write_patient(request.user, patient)
