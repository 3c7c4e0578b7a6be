"""What every list of patient records filters by, and what its audit event says of the query."""

from __future__ import annotations

from typing import Any

import django_filters
from rest_framework.request import Request

from api.audit import as_uuid, patients_of_program
from caseload.services.audit import patient_id_of


class PatientRecordFilter(django_filters.FilterSet):
    """Every collection of patient records filters by `patient`."""

    patient = django_filters.UUIDFilter()


# Query parameters that shape a page rather than choose records.
PAGING_PARAMETERS = {"page", "page_size", "cursor"}


def queried_patients(request: Request, page: list) -> list:
    """A `?patient=` that named a patient of the caller's program the page did not return: the
    probe is recorded against that patient too. Another program's ids are never resolved."""
    queried = as_uuid(request.query_params.get("patient"))
    if queried is None or any(patient_id_of(row) == queried for row in page):
        return []
    return patients_of_program(request.user.program_id, [queried])


def filters_used(request: Request) -> dict[str, Any]:
    """The names of the filters a list was read with (their values may be patient data), and
    the patient id asked for, whoever's it is: a probe for another program's id is on record
    without saying whether that id exists."""
    names = sorted(set(request.query_params) - PAGING_PARAMETERS)
    used: dict[str, Any] = {"filters": names} if names else {}
    queried = as_uuid(request.query_params.get("patient"))
    if queried is not None:
        used["patient"] = str(queried)
    return used
