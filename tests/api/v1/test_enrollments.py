from caseload.models import AuditEvent, Enrollment
from tests.factories import PatientFactory

URL = "/api/v1/enrollments/"


def open_enrollment(patient) -> Enrollment:
    return patient.enrollments.exclude(status="discharged").get()


def test_supervisor_opens_an_enrollment_and_the_counselor_gains_access(
    as_user, supervisor, counselor, patient
):
    new_patient = (
        as_user(supervisor)
        .post(
            "/api/v1/patients/",
            {
                "mrn": "ENR-1",
                "given_name": "Fran",
                "family_name": "Synthetic",
                "birth_date": "1992-07-08",
            },
        )
        .json()
    )
    assert as_user(counselor).get(f"/api/v1/patients/{new_patient['id']}/").status_code == 404
    response = as_user(supervisor).post(
        URL,
        {
            "patient": new_patient["id"],
            "level_of_care": "inpatient",
            "counselor": str(counselor.id),
            "admitted_on": "2026-11-20",
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "intake"
    assert as_user(counselor).get(f"/api/v1/patients/{new_patient['id']}/").status_code == 200
    assert AuditEvent.objects.filter(action="grant", patient_id=new_patient["id"]).exists()


def test_a_second_open_enrollment_is_a_conflict(as_user, supervisor, counselor, patient):
    response = as_user(supervisor).post(
        URL,
        {
            "patient": str(patient.id),
            "level_of_care": "outpatient",
            "counselor": str(counselor.id),
            "admitted_on": "2026-11-20",
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "open_enrollment_exists"


def test_the_counselor_must_have_the_counselor_role(as_user, supervisor, prescriber, patient):
    response = as_user(supervisor).patch(
        f"{URL}{open_enrollment(patient).id}/", {"counselor": str(prescriber.id)}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "counselor",
        "code": "wrong_role",
        "detail": "The counselor must have the counselor role.",
    }


def test_reassigning_the_counselor_moves_access(
    as_user, supervisor, counselor, other_counselor, patient
):
    enrollment = open_enrollment(patient)
    response = as_user(supervisor).patch(
        f"{URL}{enrollment.id}/", {"counselor": str(other_counselor.id)}
    )
    assert response.status_code == 200
    assert as_user(other_counselor).get(f"/api/v1/patients/{patient.id}/").status_code == 200
    assert as_user(counselor).get(f"/api/v1/patients/{patient.id}/").status_code == 404
    revoked = AuditEvent.objects.get(action="revoke", patient=patient)
    assert revoked.detail["staff"] == str(counselor.id)


def test_discharge_closes_the_episode_and_keeps_the_care_team(
    as_user, supervisor, counselor, patient
):
    enrollment = open_enrollment(patient)
    response = as_user(supervisor).post(
        f"{URL}{enrollment.id}/discharge/", {"discharge_reason": "Completed the program."}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "discharged"
    assert body["discharged_on"] is not None
    assert as_user(counselor).get(f"/api/v1/patients/{patient.id}/").status_code == 200


def test_discharging_twice_or_reopening_is_a_conflict(as_user, supervisor, patient):
    enrollment = open_enrollment(patient)
    api = as_user(supervisor)
    api.post(f"{URL}{enrollment.id}/discharge/", {"discharge_reason": "Moved away."})
    again = api.post(f"{URL}{enrollment.id}/discharge/", {"discharge_reason": "Again."})
    assert again.status_code == 409
    assert again.json()["code"] == "already_discharged"
    reopen = api.patch(f"{URL}{enrollment.id}/", {"status": "active"})
    assert reopen.status_code == 400
    assert reopen.json()["errors"][0]["field"] == "status"
    assert api.post(f"{URL}{enrollment.id}/activate/").json()["code"] == "illegal_transition"
    early = api.patch(f"{URL}{enrollment.id}/", {"admitted_on": "2999-01-01"})
    assert early.status_code == 400
    assert Enrollment.objects.get(pk=enrollment.pk).status == "discharged"


def test_status_moves_only_through_its_endpoints(as_user, supervisor, counselor):
    api = as_user(supervisor)
    new_patient = PatientFactory(actor=supervisor)
    created = api.post(
        URL,
        {
            "patient": str(new_patient.id),
            "level_of_care": "outpatient",
            "counselor": str(counselor.id),
            "admitted_on": "2026-11-20",
        },
    ).json()
    assert created["status"] == "intake"
    patched = api.patch(f"{URL}{created['id']}/", {"status": "active"})
    assert patched.status_code == 400
    assert patched.json()["errors"][0] == {
        "field": "status",
        "code": "read_only",
        "detail": "This field is set by the server.",
    }
    activated = api.post(f"{URL}{created['id']}/activate/")
    assert activated.status_code == 200
    assert activated.json()["status"] == "active"
    again = api.post(f"{URL}{created['id']}/activate/")
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    moves = AuditEvent.objects.filter(action="transition", resource_id=created["id"])
    assert list(moves.values_list("outcome", "status_code").order_by("occurred_at")) == [
        ("allowed", 200),
        ("denied", 409),
    ]


def test_the_counselor_cannot_change_enrollment_status(as_user, counselor, patient):
    enrollment = open_enrollment(patient)
    assert as_user(counselor).post(f"{URL}{enrollment.id}/activate/").status_code == 403


def test_discharge_needs_a_reason_and_a_date_after_admission(as_user, supervisor, patient):
    enrollment = open_enrollment(patient)
    api = as_user(supervisor)
    missing = api.post(f"{URL}{enrollment.id}/discharge/", {})
    assert missing.json()["errors"][0]["field"] == "discharge_reason"
    early = api.post(
        f"{URL}{enrollment.id}/discharge/",
        {
            "discharge_reason": "x",
            "discharged_on": "2000-01-01",
        },
    )
    assert early.status_code == 400
    assert early.json()["errors"][0]["field"] == "discharged_on"
    assert Enrollment.objects.get(pk=enrollment.pk).status == "active"
