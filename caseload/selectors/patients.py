from django.db.models import QuerySet

from caseload.models import Patient, Staff
from caseload.permissions import (
    VIEW,
    has_role_permission,
    integration_may_list,
    patients_visible_to,
)


def patient_list(*, user: Staff) -> QuerySet[Patient]:
    if not (has_role_permission(user, VIEW, Patient) or integration_may_list(user, Patient)):
        return Patient.objects.none()
    return patients_visible_to(user).select_related("program")
