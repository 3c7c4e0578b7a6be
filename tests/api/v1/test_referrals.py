from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import AuditEvent, Referral
from tests.factories import ReferralFactory

URL = "/api/v1/referrals/"


def detail(referral) -> str:
    return f"{URL}{referral.id}/"


def referral(patient, **overrides) -> dict:
    return {
        "patient": str(patient.id),
        "group": "narcotics_anonymous",
        "referred_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        **overrides,
    }


def status_of(referral) -> str:
    return Referral.objects.get(pk=referral.pk).status


def error_fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_counselor_refers_a_patient_to_narcotics_anonymous(as_user, counselor, patient):
    response = as_user(counselor).post(URL, referral(patient))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["group"], body["status"]) == ("narcotics_anonymous", "referred")
    stored = Referral.objects.get(pk=body["id"])
    assert stored.created_by == counselor
    assert AuditEvent.objects.filter(
        action="create", resource_type="referral", resource_id=str(stored.pk), patient=patient
    ).exists()


def test_client_cannot_set_the_status_when_creating(as_user, counselor, patient):
    response = as_user(counselor).post(URL, referral(patient, status="completed"))
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("status", "read_only")]
    assert not Referral.objects.exists()


def test_an_other_group_must_be_named(as_user, counselor, patient):
    response = as_user(counselor).post(URL, referral(patient, group="other"))
    assert response.status_code == 400
    assert error_fields(response) == ["group_name"]
    assert not Referral.objects.exists()


def test_a_blank_name_for_an_other_group_is_rejected(as_user, counselor, patient):
    response = as_user(counselor).post(URL, referral(patient, group="other", group_name="   "))
    assert response.status_code == 400
    assert error_fields(response) == ["group_name"]
    assert not Referral.objects.exists()


def test_a_named_other_group_is_accepted(as_user, counselor, patient):
    response = as_user(counselor).post(
        URL, referral(patient, group="other", group_name="Harbor Peer Circle")
    )
    assert response.status_code == 201, response.json()
    assert response.json()["group_name"] == "Harbor Peer Circle"


def test_referral_moves_from_referred_to_attending_to_completed(as_user, counselor, patient):
    created = ReferralFactory(actor=counselor, patient=patient)
    api = as_user(counselor)
    attending = api.post(f"{detail(created)}attending/")
    assert attending.status_code == 200, attending.json()
    assert attending.json()["status"] == "attending"
    assert attending.json()["status_changed_at"] is not None
    assert status_of(created) == "attending"
    completed = api.post(f"{detail(created)}completed/")
    assert completed.status_code == 200, completed.json()
    assert completed.json()["status"] == "completed"
    assert status_of(created) == "completed"
    moves = [
        event.detail["to"]
        for event in AuditEvent.objects.filter(
            resource_id=str(created.pk), action="transition"
        ).order_by("occurred_at")
    ]
    assert moves == ["attending", "completed"]


@pytest.mark.parametrize("first", [None, "attending"])
def test_a_referral_may_be_declined_while_referred_or_attending(as_user, counselor, patient, first):
    created = ReferralFactory(actor=counselor, patient=patient)
    api = as_user(counselor)
    if first:
        assert api.post(f"{detail(created)}{first}/").status_code == 200
    response = api.post(f"{detail(created)}declined/")
    assert response.status_code == 200, response.json()
    assert status_of(created) == "declined"


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ((), "completed"),
        (("attending", "completed"), "attending"),
        (("attending", "completed"), "declined"),
        (("declined",), "attending"),
        (("declined",), "completed"),
        (("declined",), "declined"),
    ],
)
def test_illegal_transitions_are_conflicts_and_change_nothing(
    as_user, counselor, patient, path, to
):
    created = ReferralFactory(actor=counselor, patient=patient)
    api = as_user(counselor)
    for step in path:
        assert api.post(f"{detail(created)}{step}/").status_code == 200
    before = Referral.objects.get(pk=created.pk)
    response = api.post(f"{detail(created)}{to}/")
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    after = Referral.objects.get(pk=created.pk)
    assert (after.status, after.version) == (before.status, before.version)


def test_a_stale_if_match_on_a_transition_answers_412(as_user, counselor, patient):
    created = ReferralFactory(actor=counselor, patient=patient)
    api = as_user(counselor)
    etag = api.get(detail(created))["ETag"]
    assert api.post(f"{detail(created)}attending/", HTTP_IF_MATCH=etag).status_code == 200
    stale = api.post(f"{detail(created)}declined/", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_etag"
    assert status_of(created) == "attending"


def test_a_current_if_match_on_a_transition_succeeds(as_user, counselor, patient):
    created = ReferralFactory(actor=counselor, patient=patient)
    api = as_user(counselor)
    etag = api.get(detail(created))["ETag"]
    response = api.post(f"{detail(created)}attending/", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_prescriber_reads_referrals_but_cannot_create_or_move_them(
    as_user, counselor, prescriber, patient
):
    created = ReferralFactory(actor=counselor, patient=patient)
    api = as_user(prescriber)
    listed = api.get(URL, {"patient": str(patient.id)}).json()["results"]
    assert [row["id"] for row in listed] == [str(created.id)]
    assert api.get(detail(created)).status_code == 200
    assert api.post(URL, referral(patient)).status_code == 403
    assert api.post(f"{detail(created)}attending/").status_code == 403
    assert Referral.objects.count() == 1
    assert status_of(created) == "referred"


def test_front_desk_cannot_read_referrals(as_user, front_desk, counselor, patient):
    ReferralFactory(actor=counselor, patient=patient)
    assert as_user(front_desk).get(URL).status_code == 403


def test_other_counselor_gets_404_and_cannot_move_a_referral(
    as_user, counselor, other_counselor, patient
):
    created = ReferralFactory(actor=counselor, patient=patient)
    assert as_user(other_counselor).get(detail(created)).status_code == 404
    assert as_user(other_counselor).post(f"{detail(created)}attending/").status_code == 404
    assert status_of(created) == "referred"


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_referral_status_changes_only_through_its_endpoints(as_user, counselor, patient, method):
    created = ReferralFactory(actor=counselor, patient=patient)
    response = getattr(as_user(counselor), method)(detail(created), {"status": "completed"})
    assert response.status_code == 405
    assert status_of(created) == "referred"
