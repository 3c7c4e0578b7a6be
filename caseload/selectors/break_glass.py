from django.db.models import QuerySet

from caseload.models import BreakGlass, Patient, Staff
from caseload.permissions import VIEW, has_role_permission, is_staff_member


def break_glass_list(*, user: Staff) -> QuerySet[BreakGlass]:
    """The program's break-the-glass openings, for the supervisors who review them."""
    if not has_role_permission(user, VIEW, BreakGlass):
        return BreakGlass.objects.none()
    return BreakGlass.objects.filter(program_id=user.program_id).select_related("staff")


def break_glass_candidates(*, user: Staff) -> QuerySet[Patient]:
    """Patients a clinician may break the glass for: their own program's, nobody else's."""
    if not is_staff_member(user):
        return Patient.objects.none()
    return Patient.objects.filter(program_id=user.program_id)
