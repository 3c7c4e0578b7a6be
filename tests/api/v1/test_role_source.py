"""A role's permissions are the policy's (`caseload/permissions.py`), not its Django group's.

`sync_roles` copies each role into a group for Django's own tools; the checks every request,
command and task makes read the policy, so a group edited by hand (in the admin, or in the
database by someone without the code) grants and takes away nothing.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from caseload.permissions import role_group_name
from tests.factories import CaseNoteFactory


def test_a_role_group_emptied_by_hand_takes_nothing_away(as_user, counselor, patient):
    CaseNoteFactory(actor=counselor, patient=patient)
    Group.objects.get(name=role_group_name("counselor")).permissions.clear()
    api = as_user(counselor)
    assert len(api.get("/api/v1/notes/").json()["results"]) == 1
    created = api.post(
        "/api/v1/notes/",
        {
            "patient": str(patient.pk),
            "body": "Synthetic follow-up note.",
            "written_at": "2026-12-01T10:00:00Z",
        },
    )
    assert created.status_code == 201, created.json()


def test_a_permission_added_to_a_role_group_by_hand_grants_nothing(
    as_user, front_desk, counselor, patient
):
    CaseNoteFactory(actor=counselor, patient=patient)
    group, _ = Group.objects.get_or_create(name=role_group_name("front_desk"))
    group.permissions.add(
        *Permission.objects.filter(codename__in=["view_casenote", "view_assessment"])
    )
    front_desk.groups.add(group)
    response = as_user(front_desk).get("/api/v1/notes/")
    assert response.status_code in (403, 404) or response.json()["results"] == []
