from caseload.models import AuditEvent, Patient

URL = "/api/v1/patients/"


def detail(patient) -> str:
    return f"{URL}{patient.id}/"


def test_counselor_lists_only_their_caseload(as_user, counselor, patient, other_patient):
    response = as_user(counselor).get(URL)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(patient.id)]


def test_supervisor_lists_whole_program_but_never_another(
    as_user, supervisor, patient, other_patient, foreign_patient
):
    ids = {row["id"] for row in as_user(supervisor).get(URL).json()["results"]}
    assert ids == {str(patient.id), str(other_patient.id)}


def test_another_programs_patient_answers_404_like_a_missing_id(
    as_user, supervisor, foreign_patient
):
    foreign = as_user(supervisor).get(detail(foreign_patient))
    missing = as_user(supervisor).get(f"{URL}00000000-0000-0000-0000-000000000000/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_front_desk_sees_demographics_without_clinical_fields(as_user, front_desk, patient):
    body = as_user(front_desk).get(detail(patient)).json()
    assert body["family_name"] == "Synthetic"
    assert "last_use_at" not in body
    assert "withdrawal_phase" not in body


def test_patient_shows_expected_withdrawal_phase(as_user, counselor, patient):
    body = as_user(counselor).get(detail(patient)).json()
    assert body["withdrawal_phase"] == "peak"  # last use 30 h ago in the factory
    assert "expected course" in body["withdrawal_phase_label"].lower()


def test_front_desk_may_change_contact_details(as_user, front_desk, patient):
    response = as_user(front_desk).patch(detail(patient), {"phone": "555-0142"})
    assert response.status_code == 200
    assert Patient.objects.get(pk=patient.pk).phone == "555-0142"


def test_front_desk_may_not_change_names(as_user, front_desk, patient):
    response = as_user(front_desk).patch(detail(patient), {"given_name": "Changed"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "given_name"
    assert Patient.objects.get(pk=patient.pk).given_name == "Avery"


def test_supervisor_registers_a_patient_in_their_program(as_user, supervisor):
    response = as_user(supervisor).post(
        URL,
        {
            "mrn": "NEW-1",
            "given_name": "Drew",
            "family_name": "Synthetic",
            "birth_date": "1990-02-03",
        },
    )
    assert response.status_code == 201, response.json()
    created = Patient.objects.get(pk=response.json()["id"])
    assert created.program == supervisor.program
    assert AuditEvent.objects.filter(action="create", resource_id=str(created.pk)).exists()


def test_it_rejects_a_duplicate_mrn_naming_the_field(as_user, supervisor, patient):
    response = as_user(supervisor).post(
        URL,
        {
            "mrn": patient.mrn,
            "given_name": "Dup",
            "family_name": "Synthetic",
            "birth_date": "1990-02-03",
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "mrn",
        "code": "unique",
        "detail": "A patient with this MRN exists in the program.",
    }


def test_reading_a_patient_is_audited(as_user, counselor, patient):
    as_user(counselor).get(detail(patient))
    event = AuditEvent.objects.filter(action="read", resource_type="patient").get()
    assert event.actor == counselor
    assert event.patient_id == patient.id


def test_delete_is_not_allowed(as_user, supervisor, patient):
    assert as_user(supervisor).delete(detail(patient)).status_code == 405
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_a_counselor_cannot_probe_for_mrns_off_their_caseload(
    as_user, counselor, patient, other_patient
):
    """Whether the guessed MRN exists or not, the answer is the same and nothing is written."""
    api = as_user(counselor)
    etag = api.get(detail(patient))["ETag"]
    answers = []
    for guess in (other_patient.mrn, "NO-SUCH-MRN"):
        for if_match in (etag, '"v999"'):
            response = api.patch(detail(patient), {"mrn": guess}, HTTP_IF_MATCH=if_match)
            answers.append((response.status_code, response.json()["errors"][0]["field"]))
    assert answers == [(403, "mrn")] * 4
    assert Patient.objects.get(pk=patient.pk).version == 1


def test_a_stale_if_match_answers_412_before_the_mrn_is_checked(
    as_user, supervisor, patient, other_patient
):
    api = as_user(supervisor)
    taken = api.patch(detail(patient), {"mrn": other_patient.mrn}, HTTP_IF_MATCH='"v999"')
    free = api.patch(detail(patient), {"mrn": "FREE-1"}, HTTP_IF_MATCH='"v999"')
    assert (taken.status_code, free.status_code) == (412, 412)
    collision = api.patch(detail(patient), {"mrn": other_patient.mrn}, HTTP_IF_MATCH='"v1"')
    assert collision.status_code == 400
    assert collision.json()["errors"][0]["code"] == "unique"
    assert Patient.objects.get(pk=patient.pk).mrn == patient.mrn
