import pytest
from django.utils import timezone

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
        f"{URL}{enrollment.id}/discharge/", {"discharge_reason": "completed"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "discharged"
    assert body["discharged_on"] is not None
    assert as_user(counselor).get(f"/api/v1/patients/{patient.id}/").status_code == 200


def test_discharging_twice_or_reopening_is_a_conflict(as_user, supervisor, patient):
    enrollment = open_enrollment(patient)
    api = as_user(supervisor)
    api.post(f"{URL}{enrollment.id}/discharge/", {"discharge_reason": "transferred"})
    again = api.post(f"{URL}{enrollment.id}/discharge/", {"discharge_reason": "completed"})
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
    unsigned = api.post(f"{URL}{created['id']}/activate/")
    assert unsigned.status_code == 409
    assert unsigned.json()["errors"][0]["field"] == "treatment_consent_signed_at"
    api.patch(f"{URL}{created['id']}/", {"treatment_consent_signed_at": "2026-11-20T15:00:00Z"})
    activated = api.post(f"{URL}{created['id']}/activate/")
    assert activated.status_code == 200
    assert activated.json()["status"] == "active"
    again = api.post(f"{URL}{created['id']}/activate/")
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    moves = AuditEvent.objects.filter(action="transition", resource_id=created["id"])
    assert list(moves.values_list("outcome", "status_code").order_by("occurred_at")) == [
        ("denied", 409),
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
            "discharge_reason": "completed",
            "discharged_on": "2000-01-01",
        },
    )
    assert early.status_code == 400
    assert early.json()["errors"][0]["field"] == "discharged_on"
    assert Enrollment.objects.get(pk=enrollment.pk).status == "active"


# Consent to treatment ---------------------------------------------------------------------------


def _intake(api, patient, counselor, **extra):
    return api.post(
        URL,
        {
            "patient": str(patient.id),
            "level_of_care": "outpatient",
            "counselor": str(counselor.id),
            "admitted_on": "2026-11-20",
            **extra,
        },
    )


def test_an_enrollment_is_activated_only_with_the_consent_to_treatment_signed(
    as_user, supervisor, counselor
):
    api = as_user(supervisor)
    created = _intake(api, PatientFactory(actor=supervisor), counselor).json()
    assert created["treatment_consent_signed_at"] is None
    refused = api.post(f"{URL}{created['id']}/activate/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "treatment_consent_missing"
    assert refused.json()["errors"] == [
        {
            "field": "treatment_consent_signed_at",
            "code": "treatment_consent_missing",
            "detail": "An enrollment becomes active only once the consent to treatment is signed.",
        }
    ]
    assert Enrollment.objects.get(pk=created["id"]).status == "intake"
    signed = api.patch(
        f"{URL}{created['id']}/", {"treatment_consent_signed_at": "2026-11-20T15:30:00Z"}
    )
    assert signed.json()["treatment_consent_signed_at"] == "2026-11-20T15:30:00Z"
    assert api.post(f"{URL}{created['id']}/activate/").json()["status"] == "active"


def test_an_enrollment_opened_active_needs_the_consent_in_the_same_body(
    as_user, supervisor, counselor
):
    api = as_user(supervisor)
    patient = PatientFactory(actor=supervisor)
    refused = _intake(api, patient, counselor, status="active")
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "treatment_consent_signed_at"
    assert not Enrollment.objects.filter(patient=patient).exists()
    opened = _intake(
        api, patient, counselor, status="active", treatment_consent_signed_at="2026-11-20T09:00Z"
    )
    assert opened.status_code == 201, opened.json()
    assert opened.json()["status"] == "active"


def test_an_active_enrollment_keeps_its_consent(as_user, supervisor, patient):
    enrollment = open_enrollment(patient)
    response = as_user(supervisor).patch(
        f"{URL}{enrollment.id}/", {"treatment_consent_signed_at": None}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "treatment_consent_missing"
    assert Enrollment.objects.get(pk=enrollment.pk).treatment_consent_signed_at is not None


def test_a_consent_signed_in_the_future_is_refused(as_user, supervisor, counselor):
    response = _intake(
        as_user(supervisor),
        PatientFactory(actor=supervisor),
        counselor,
        treatment_consent_signed_at="2999-01-01T00:00:00Z",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "treatment_consent_signed_at"


# Discharge reasons ------------------------------------------------------------------------------


def test_a_discharge_takes_a_reason_code_and_free_text_only_as_the_detail(
    as_user, supervisor, patient
):
    enrollment = open_enrollment(patient)
    response = as_user(supervisor).post(
        f"{URL}{enrollment.id}/discharge/",
        {"discharge_reason": "transferred", "discharge_reason_detail": "To a program nearer home."},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["discharge_reason"], body["discharge_reason_detail"]) == (
        "transferred",
        "To a program nearer home.",
    )
    event = AuditEvent.objects.filter(action="transition", resource_id=str(enrollment.id)).get()
    assert event.detail["to"] == "discharged"


def test_a_discharge_reason_off_the_list_and_a_bare_other_are_refused_together(
    as_user, supervisor, patient
):
    enrollment = open_enrollment(patient)
    api = as_user(supervisor)
    free = api.post(
        f"{URL}{enrollment.id}/discharge/",
        {"discharge_reason": "Moved away.", "discharged_on": "tomorrow"},
    )
    assert free.status_code == 400
    assert {e["field"] for e in free.json()["errors"]} == {"discharge_reason", "discharged_on"}
    bare = api.post(f"{URL}{enrollment.id}/discharge/", {"discharge_reason": "other"})
    assert bare.status_code == 400
    assert bare.json()["errors"][0]["field"] == "discharge_reason_detail"
    assert Enrollment.objects.get(pk=enrollment.pk).status == "active"


def test_the_discharge_service_refuses_a_reason_off_the_list(supervisor, patient):
    from caseload.errors import InvalidInput
    from caseload.services.enrollments import enrollment_discharge

    with pytest.raises(InvalidInput) as refused:
        enrollment_discharge(
            enrollment=open_enrollment(patient),
            actor=supervisor,
            discharged_on=timezone.localdate(),
            reason="Moved away.",
        )
    assert refused.value.field == "discharge_reason"
    assert open_enrollment(patient).status == "active"
