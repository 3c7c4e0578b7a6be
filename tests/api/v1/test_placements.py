"""Level-of-care placements: the clinician's ratings and choice, and the enrollment level that
follows the latest one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import AuditEvent, Enrollment, Placement

URL = "/api/v1/placements/"


def ago(**delta) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def placement_body(enrollment, **changes) -> dict:
    body = {
        "enrollment": str(enrollment.pk),
        "assessed_at": ago(hours=2),
        "dimension_1": 2,
        "dimension_2": 0,
        "dimension_3": 1,
        "dimension_4": 2,
        "dimension_5": 3,
        "dimension_6": 2,
        "recommended_level": "2.1",
        "actual_level": "2.1",
    }
    return body | changes


@pytest.fixture
def enrollment(patient) -> Enrollment:
    return patient.enrollments.get()


def test_counselor_records_a_placement_and_the_enrollment_follows_it(
    as_user, counselor, enrollment, patient
):
    response = as_user(counselor).post(URL, placement_body(enrollment))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["patient"] == str(patient.pk)
    assert (body["recommended_level"], body["actual_level"], body["status"]) == (
        "2.1",
        "2.1",
        "final",
    )
    stored = Enrollment.objects.get(pk=enrollment.pk)
    assert (stored.asam_level, stored.level_of_care) == ("2.1", "intensive_outpatient")
    assert AuditEvent.objects.filter(
        action="create", resource_type="placement", resource_id=body["id"], actor=counselor
    ).exists()
    followed = AuditEvent.objects.get(
        action="update", resource_type="enrollment", resource_id=str(enrollment.pk)
    )
    assert followed.detail["fields"] == ["asam_level", "level_of_care"]
    shown = as_user(counselor).get(f"/api/v1/enrollments/{enrollment.pk}/").json()
    assert (shown["asam_level"], shown["level_of_care"]) == ("2.1", "intensive_outpatient")


@pytest.mark.parametrize(
    ("level", "coarse"),
    [("0.5", "outpatient"), ("OTP", "outpatient"), ("1-WM", "outpatient"), ("2-WM",
     "intensive_outpatient"), ("2.5", "intensive_outpatient"), ("3.3", "inpatient"),
     ("3.2-WM", "inpatient"), ("4", "inpatient")],
)  # fmt: skip
def test_the_coarse_level_of_care_follows_the_mapping(
    as_user, counselor, enrollment, level, coarse
):
    body = placement_body(enrollment, recommended_level=level, actual_level=level)
    assert as_user(counselor).post(URL, body).status_code == 201
    assert Enrollment.objects.get(pk=enrollment.pk).level_of_care == coarse


def test_the_latest_placement_by_assessment_time_decides(as_user, counselor, enrollment):
    api = as_user(counselor)
    api.post(URL, placement_body(enrollment, recommended_level="3.7", actual_level="3.7"))
    older = placement_body(enrollment, assessed_at=ago(days=2), actual_level="1",
                           recommended_level="1")  # fmt: skip
    assert api.post(URL, older).status_code == 201
    assert Enrollment.objects.get(pk=enrollment.pk).asam_level == "3.7"


def test_a_level_given_other_than_recommended_needs_the_reason(as_user, counselor, enrollment):
    api = as_user(counselor)
    body = placement_body(enrollment, recommended_level="3.5", actual_level="2.1")
    refused = api.post(URL, body)
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {
            "field": "reason_for_difference",
            "code": "required",
            "detail": "Say why the level given differs from the one recommended.",
        }
    ]
    accepted = api.post(URL, body | {"reason_for_difference": "No residential bed available."})
    assert accepted.status_code == 201
    assert Enrollment.objects.get(pk=enrollment.pk).asam_level == "2.1"


def test_bad_ratings_and_levels_are_each_named_and_nothing_is_stored(
    as_user, counselor, enrollment
):
    body = placement_body(enrollment, dimension_1=5, recommended_level="2.2", actual_level="9")
    del body["dimension_4"]
    body["dimension_6"] = -1
    body["dimension_2"] = "3"
    body["dimension_3"] = True
    response = as_user(counselor).post(URL, body)
    assert response.status_code == 400
    errors = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert errors == {
        ("dimension_1", "max_value"),
        ("dimension_2", "invalid"),
        ("dimension_3", "invalid"),
        ("dimension_4", "required"),
        ("dimension_6", "min_value"),
        ("recommended_level", "invalid_choice"),
        ("actual_level", "invalid_choice"),
    }
    assert not Placement.objects.exists()
    assert Enrollment.objects.get(pk=enrollment.pk).asam_level == ""


def test_a_placement_assessed_in_the_future_or_with_unknown_keys_is_refused(
    as_user, counselor, enrollment
):
    body = placement_body(enrollment, assessed_at="2999-01-01T00:00:00Z", dimension_7=1)
    response = as_user(counselor).post(URL, body)
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"assessed_at", "dimension_7"}


def test_correcting_the_latest_placement_restores_the_one_before(as_user, counselor, enrollment):
    api = as_user(counselor)
    api.post(URL, placement_body(enrollment, assessed_at=ago(days=3)))
    wrong = api.post(
        URL, placement_body(enrollment, recommended_level="3.7", actual_level="3.7")
    ).json()
    assert Enrollment.objects.get(pk=enrollment.pk).level_of_care == "inpatient"
    corrected = api.post(f"{URL}{wrong['id']}/entered-in-error/", {"reason": "Wrong patient."})
    assert corrected.status_code == 200
    assert corrected.json()["status"] == "entered_in_error"
    stored = Enrollment.objects.get(pk=enrollment.pk)
    assert (stored.asam_level, stored.level_of_care) == ("2.1", "intensive_outpatient")
    again = api.post(f"{URL}{wrong['id']}/entered-in-error/", {"reason": "Twice."})
    assert again.status_code == 409


def test_a_placement_is_never_edited_or_deleted(as_user, supervisor, counselor, enrollment):
    created = as_user(counselor).post(URL, placement_body(enrollment)).json()
    for method in ("patch", "put", "delete"):
        response = getattr(as_user(supervisor), method)(f"{URL}{created['id']}/", {})
        assert response.status_code == 405, method


def test_the_coarse_level_cannot_be_set_against_the_placement(
    as_user, supervisor, counselor, enrollment
):
    as_user(counselor).post(URL, placement_body(enrollment))
    url = f"/api/v1/enrollments/{enrollment.pk}/"
    refused = as_user(supervisor).patch(url, {"level_of_care": "inpatient"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "derived_from_asam_level"
    assert (
        as_user(supervisor).patch(url, {"level_of_care": "intensive_outpatient"}).status_code == 200
    )


def test_a_discharged_enrollment_takes_no_placement(as_user, supervisor, counselor, enrollment):
    as_user(supervisor).post(
        f"/api/v1/enrollments/{enrollment.pk}/discharge/", {"discharge_reason": "completed"}
    )
    response = as_user(counselor).post(URL, placement_body(enrollment))
    assert response.status_code == 409
    assert response.json()["errors"][0] == {
        "field": "enrollment",
        "code": "enrollment_discharged",
        "detail": "A discharged enrollment takes no new placement.",
    }


def test_who_reads_and_writes_placements(
    as_user, counselor, other_counselor, prescriber, front_desk, supervisor, enrollment
):
    created = as_user(counselor).post(URL, placement_body(enrollment)).json()
    detail = f"{URL}{created['id']}/"
    assert as_user(prescriber).get(detail).status_code == 200
    assert as_user(prescriber).post(URL, placement_body(enrollment)).status_code == 403
    assert as_user(front_desk).get(detail).status_code == 403
    assert as_user(other_counselor).get(detail).status_code == 404
    assert as_user(other_counselor).get(URL).json()["results"] == []
    off_caseload = as_user(other_counselor).post(URL, placement_body(enrollment))
    assert off_caseload.status_code == 400
    assert off_caseload.json()["errors"][0] == {
        "field": "enrollment",
        "code": "does_not_exist",
        "detail": off_caseload.json()["errors"][0]["detail"],
    }
    assert as_user(supervisor).post(URL, placement_body(enrollment)).status_code == 201


def test_another_programs_placement_and_enrollment_answer_like_missing_ids(
    as_user, other_program_staff, foreign_patient, counselor, enrollment
):
    created = as_user(counselor).post(URL, placement_body(enrollment)).json()
    assert as_user(other_program_staff).get(f"{URL}{created['id']}/").status_code == 404
    assert as_user(other_program_staff).get(
        f"{URL}{created['id']}/entered-in-error/"
    ).status_code in (404, 405)
    foreign = foreign_patient.enrollments.get()
    response = as_user(counselor).post(URL, placement_body(foreign))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "does_not_exist"


def test_the_history_shows_placements_and_the_enrollment_level_changes(
    as_user, counselor, patient, enrollment
):
    created = as_user(counselor).post(URL, placement_body(enrollment)).json()
    body = as_user(counselor).get(f"/api/v1/patients/{patient.pk}/history/").json()
    kinds = {e["type"]: e for e in body["results"]}
    assert kinds["placement"]["record"]["id"] == created["id"]
    changes = kinds["enrollment"]["changes"]
    assert changes[0]["fields"] == ["asam_level", "level_of_care"]
    assert changes[0]["by"] == str(counselor.pk)


def test_placements_filter_by_patient_and_enrollment(as_user, counselor, patient, enrollment):
    created = as_user(counselor).post(URL, placement_body(enrollment)).json()
    for query in ({"patient": str(patient.pk)}, {"enrollment": str(enrollment.pk)}):
        results = as_user(counselor).get(URL, query).json()["results"]
        assert [r["id"] for r in results] == [created["id"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_placements_at_once_leave_the_enrollment_at_the_later_assessment(
    as_user, counselor, supervisor, enrollment
):
    from tests.concurrency import at_once

    later = placement_body(enrollment, assessed_at=ago(hours=1), recommended_level="3.5",
                           actual_level="3.5")  # fmt: skip
    earlier = placement_body(enrollment, assessed_at=ago(hours=5), recommended_level="1",
                             actual_level="1")  # fmt: skip
    for _ in range(3):
        statuses = at_once(
            lambda: as_user(counselor).post(URL, later).status_code,
            lambda: as_user(supervisor).post(URL, earlier).status_code,
        )
        assert statuses == [201, 201]
        stored = Enrollment.objects.get(pk=enrollment.pk)
        assert (stored.asam_level, stored.level_of_care) == ("3.5", "inpatient")
