from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import AuditEvent, MedicationRecord
from tests.factories import MedicationRecordFactory, StaffFactory

URL = "/api/v1/medications/"


def detail(record) -> str:
    return f"{URL}{record.id}/"


def order(patient, **overrides) -> dict:
    return {
        "patient": str(patient.id),
        "medication": "methadone",
        "dose": "60",
        "dose_unit": "mg",
        "frequency": "once daily",
        "route": "oral",
        "start_date": (timezone.localdate() - timedelta(days=1)).isoformat(),
        **overrides,
    }


def error_fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_prescriber_records_methadone_as_ordered(as_user, prescriber, patient):
    response = as_user(prescriber).post(URL, order(patient))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["medication"] == "methadone"
    assert body["dose"] == "60.000"
    assert (body["dose_unit"], body["frequency"], body["route"]) == ("mg", "once daily", "oral")
    assert body["status"] == "active"
    assert body["prescriber"] == str(prescriber.id)
    stored = MedicationRecord.objects.get(pk=body["id"])
    assert str(stored.dose) == "60.000"
    assert stored.prescriber == prescriber
    assert stored.created_by == prescriber
    assert AuditEvent.objects.filter(
        action="create",
        resource_type="medicationrecord",
        resource_id=str(stored.pk),
        actor=prescriber,
    ).exists()


def test_a_fractional_dose_is_kept_exactly(as_user, prescriber, patient):
    body = as_user(prescriber).post(URL, order(patient, dose="0.125")).json()
    assert body["dose"] == "0.125"
    assert str(MedicationRecord.objects.get(pk=body["id"]).dose) == "0.125"


@pytest.mark.parametrize(
    ("medication", "dependence"),
    [("methadone", True), ("buprenorphine", True), ("clonidine", False), ("lofexidine", False)],
)
def test_records_carry_whether_the_drug_causes_physical_dependence(
    as_user, prescriber, patient, medication, dependence
):
    response = as_user(prescriber).post(URL, order(patient, medication=medication))
    assert response.status_code == 201, response.json()
    assert response.json()["causes_physical_dependence"] is dependence


def test_methadone_carries_its_verified_rxnorm_ingredient(as_user, prescriber, patient):
    body = as_user(prescriber).post(URL, order(patient)).json()
    assert body["rxnorm_ingredient"]["code"] == "6813"
    assert body["rxnorm_ingredient"]["verified"] is True


def test_lofexidine_has_no_rxnorm_ingredient(as_user, prescriber, patient):
    body = as_user(prescriber).post(URL, order(patient, medication="lofexidine")).json()
    assert body["rxnorm_ingredient"] is None


def test_counselor_reads_medications_but_cannot_record_or_change_them(
    as_user, counselor, prescriber, patient
):
    record = MedicationRecordFactory(actor=prescriber, patient=patient)
    api = as_user(counselor)
    listed = api.get(URL, {"patient": str(patient.id)})
    assert [row["id"] for row in listed.json()["results"]] == [str(record.id)]
    assert api.get(detail(record)).status_code == 200
    assert api.post(URL, order(patient)).status_code == 403
    assert api.patch(detail(record), {"status": "stopped"}).status_code == 403
    assert MedicationRecord.objects.count() == 1
    assert MedicationRecord.objects.get(pk=record.pk).status == "active"


def test_front_desk_cannot_read_medications(as_user, front_desk, prescriber, patient):
    record = MedicationRecordFactory(actor=prescriber, patient=patient)
    assert as_user(front_desk).get(URL).status_code == 403
    assert as_user(front_desk).get(detail(record)).status_code == 403


def test_supervisor_records_a_medication_naming_the_prescriber(
    as_user, supervisor, prescriber, patient
):
    response = as_user(supervisor).post(URL, order(patient, prescriber=str(prescriber.id)))
    assert response.status_code == 201, response.json()
    stored = MedicationRecord.objects.get(pk=response.json()["id"])
    assert stored.prescriber == prescriber
    assert stored.created_by.username == "supervisor"


def test_supervisor_must_name_a_prescriber(as_user, supervisor, patient):
    response = as_user(supervisor).post(URL, order(patient))
    assert response.status_code == 400
    assert error_fields(response) == ["prescriber"]
    assert not MedicationRecord.objects.exists()


def test_a_counselor_cannot_be_named_as_prescriber(as_user, supervisor, counselor, patient):
    response = as_user(supervisor).post(URL, order(patient, prescriber=str(counselor.id)))
    assert response.status_code == 400
    assert error_fields(response) == ["prescriber"]
    assert not MedicationRecord.objects.exists()


def test_a_prescriber_of_another_program_cannot_be_named(
    as_user, supervisor, other_program_staff, patient
):
    foreign = StaffFactory(program=other_program_staff.program, role="prescriber")
    response = as_user(supervisor).post(URL, order(patient, prescriber=str(foreign.id)))
    assert response.status_code == 400
    assert error_fields(response) == ["prescriber"]


@pytest.mark.parametrize("dose", ["0", "-5", "abc", "0.0001"])
def test_it_rejects_a_dose_that_is_not_a_positive_number(as_user, prescriber, patient, dose):
    response = as_user(prescriber).post(URL, order(patient, dose=dose))
    assert response.status_code == 400
    assert error_fields(response) == ["dose"]
    assert not MedicationRecord.objects.exists()


def test_it_rejects_an_end_date_before_the_start_date(as_user, prescriber, patient):
    today = timezone.localdate()
    response = as_user(prescriber).post(
        URL,
        order(
            patient,
            start_date=today.isoformat(),
            end_date=(today - timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 400
    assert error_fields(response) == ["end_date"]
    assert not MedicationRecord.objects.exists()


def test_it_rejects_a_patch_moving_the_end_date_before_the_start(as_user, prescriber, patient):
    record = MedicationRecordFactory(actor=prescriber, patient=patient)
    before = (record.start_date - timedelta(days=1)).isoformat()
    response = as_user(prescriber).patch(detail(record), {"end_date": before})
    assert response.status_code == 400
    assert error_fields(response) == ["end_date"]
    assert MedicationRecord.objects.get(pk=record.pk).end_date is None


def test_prescriber_stops_a_medication_and_it_shows_in_change_history(as_user, prescriber, patient):
    record = MedicationRecordFactory(actor=prescriber, patient=patient)
    api = as_user(prescriber)
    etag = api.get(detail(record))["ETag"]
    response = api.patch(detail(record), {"status": "stopped"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "stopped"
    assert MedicationRecord.objects.get(pk=record.pk).status == "stopped"
    assert AuditEvent.objects.filter(
        action="update", resource_id=str(record.pk), detail__fields=["status"]
    ).exists()

    history = api.get(f"/api/v1/patients/{patient.id}/history/").json()["results"]
    entry = next(e for e in history if e["type"] == "medication")
    assert entry["record"]["status"] == "stopped"
    assert [(c["type"], c["fields"]) for c in entry["changes"]] == [
        ("changed", ["status"]),
        ("created", []),
    ]
    assert entry["changes"][0]["by"] == str(prescriber.id)


def test_status_entered_in_error_cannot_be_set_by_patch(as_user, prescriber, patient):
    record = MedicationRecordFactory(actor=prescriber, patient=patient)
    response = as_user(prescriber).patch(detail(record), {"status": "entered_in_error"})
    assert response.status_code == 400
    assert error_fields(response) == ["status"]
    assert MedicationRecord.objects.get(pk=record.pk).status == "active"


def test_entered_in_error_endpoint_corrects_a_medication_and_freezes_it(
    as_user, prescriber, patient
):
    record = MedicationRecordFactory(actor=prescriber, patient=patient)
    api = as_user(prescriber)
    marked = api.post(f"{detail(record)}entered-in-error/", {"reason": "Wrong patient."})
    assert marked.status_code == 200, marked.json()
    assert marked.json()["status"] == "entered_in_error"
    assert api.patch(detail(record), {"frequency": "twice daily"}).status_code == 409
    assert MedicationRecord.objects.get(pk=record.pk).frequency == "once daily"


def test_delete_is_not_allowed(as_user, prescriber, patient):
    record = MedicationRecordFactory(actor=prescriber, patient=patient)
    assert as_user(prescriber).delete(detail(record)).status_code == 405
    assert MedicationRecord.objects.filter(pk=record.pk).exists()


def test_other_counselor_gets_404_on_a_medication_off_their_caseload(
    as_user, other_counselor, prescriber, patient
):
    record = MedicationRecordFactory(actor=prescriber, patient=patient)
    assert as_user(other_counselor).get(detail(record)).status_code == 404


def _property_names(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found.update(value)
            _property_names(value, found)
    elif isinstance(node, list):
        for value in node:
            _property_names(value, found)
    return found


def test_no_field_endpoint_or_schema_element_suggests_a_dose(as_user, prescriber, patient):
    schema = as_user(prescriber).get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    document = schema.json()
    names = _property_names(document, set()) | set(document["paths"])
    assert "dose" in names  # the walk really reaches the medication schema
    flagged = {n for n in names if "suggest" in n.lower() or "recommended" in n.lower()}
    # A placement's `recommended_level` is the level of care the clinician recommended, recorded
    # as given (docs/treatment-records.md); it has nothing to do with a dose.
    assert flagged == {"recommended_level"}
    operation_ids = {
        operation.get("operationId", "")
        for path in document["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)
    }
    assert not {o for o in operation_ids if "suggest" in o or "recommend" in o or "calc" in o}

    record = as_user(prescriber).post(URL, order(patient)).json()
    assert not {key for key in record if "suggest" in key or "recommend" in key}


def test_a_prescriber_cannot_record_an_order_in_another_prescribers_name(
    as_user, program, prescriber, patient
):
    colleague = StaffFactory(program=program, role="prescriber")
    response = as_user(prescriber).post(URL, order(patient, prescriber=str(colleague.id)))
    assert response.status_code == 403
    assert error_fields(response) == ["prescriber"]
    assert not MedicationRecord.objects.exists()


def test_a_prescriber_cannot_change_an_order_given_by_another(
    as_user, program, supervisor, prescriber, patient
):
    colleague = StaffFactory(program=program, role="prescriber")
    record = as_user(supervisor).post(URL, order(patient, prescriber=str(colleague.id))).json()
    response = as_user(prescriber).patch(f"{URL}{record['id']}/", {"dose": "80"})
    assert response.status_code == 403
    assert MedicationRecord.objects.get(pk=record["id"]).dose == 60


def test_a_covering_prescriber_off_the_care_team_is_accepted_and_flagged(
    as_user, program, supervisor, patient
):
    covering = StaffFactory(program=program, role="prescriber")
    response = as_user(supervisor).post(URL, order(patient, prescriber=str(covering.id)))
    assert response.status_code == 201, response.json()
    event = AuditEvent.objects.get(action="create", resource_id=response.json()["id"])
    assert event.detail == {"covering_prescriber": True}
    own = as_user(supervisor).post(
        URL, order(patient, prescriber=str(patient.enrollments.get().prescriber_id))
    )
    assert AuditEvent.objects.get(action="create", resource_id=own.json()["id"]).detail == {}


def test_an_inactive_prescriber_cannot_be_named(as_user, program, supervisor, patient):
    retired = StaffFactory(program=program, role="prescriber")
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    response = as_user(supervisor).post(URL, order(patient, prescriber=str(retired.id)))
    assert response.status_code == 400
    assert error_fields(response) == ["prescriber"]
