from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from caseload.models import AuditEvent, DrugScreen, DrugScreenResult
from tests.factories import DrugScreenFactory

URL = "/api/v1/drug-screens/"

RESULTS = [
    {"substance": "opiates", "result": "positive"},
    {"substance": "fentanyl", "result": "negative"},
]


def screen(patient, results=None, **overrides) -> dict:
    return {
        "patient": str(patient.id),
        "collected_at": (timezone.now() - timedelta(hours=2)).isoformat(),
        "method": "presumptive",
        "results": RESULTS if results is None else results,
        **overrides,
    }


def counts() -> tuple[int, int, int]:
    return (
        DrugScreen.objects.count(),
        DrugScreenResult.objects.count(),
        AuditEvent.objects.filter(resource_type="drugscreen", outcome="allowed").count(),
    )


def error_fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_counselor_records_a_presumptive_screen_with_its_results(as_user, counselor, patient):
    response = as_user(counselor).post(URL, screen(patient))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["method"] == "presumptive"
    assert body["collected_by"] == str(counselor.id)
    assert body["status"] == "final"
    assert sorted(body["results"], key=lambda r: r["substance"]) == [
        {"substance": "fentanyl", "result": "negative"},
        {"substance": "opiates", "result": "positive"},
    ]
    stored = DrugScreen.objects.get(pk=body["id"])
    assert sorted(stored.results.values_list("substance", "result")) == [
        ("fentanyl", "negative"),
        ("opiates", "positive"),
    ]
    assert AuditEvent.objects.filter(
        action="create", resource_id=str(stored.pk), actor=counselor, patient=patient
    ).exists()


def test_results_come_back_when_the_screen_is_read(as_user, counselor, prescriber, patient):
    created = DrugScreenFactory(actor=counselor, patient=patient)
    body = as_user(prescriber).get(f"{URL}{created.id}/").json()
    assert {(r["substance"], r["result"]) for r in body["results"]} == {
        ("opiates", "positive"),
        ("fentanyl", "negative"),
    }


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"substance": "heroin-ish", "result": "positive"}, "results.0.substance"),
        ({"substance": "opiates", "result": "maybe"}, "results.0.result"),
    ],
)
def test_it_rejects_an_unknown_substance_or_result_naming_the_row(
    as_user, counselor, patient, row, field
):
    before = counts()
    response = as_user(counselor).post(URL, screen(patient, [row, RESULTS[1]]))
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert response.json()["errors"][0]["code"] == "invalid_choice"
    assert counts() == before


def test_a_bad_second_row_is_named_by_its_index(as_user, counselor, patient):
    before = counts()
    rows = [RESULTS[0], {"substance": "fentanyl", "result": "unclear"}]
    response = as_user(counselor).post(URL, screen(patient, rows))
    assert response.status_code == 400
    assert error_fields(response) == ["results.1.result"]
    assert counts() == before


def test_it_rejects_a_substance_listed_twice_and_writes_nothing(as_user, counselor, patient):
    before = counts()
    rows = [RESULTS[0], {"substance": "opiates", "result": "negative"}]
    response = as_user(counselor).post(URL, screen(patient, rows))
    assert response.status_code == 400
    assert error_fields(response) == ["results"]
    assert counts() == before


def test_it_rejects_a_screen_without_results(as_user, counselor, patient):
    before = counts()
    response = as_user(counselor).post(URL, screen(patient, []))
    assert response.status_code == 400
    assert error_fields(response) == ["results"]
    assert counts() == before


def test_it_rejects_an_unknown_key_in_a_result_row(as_user, counselor, patient):
    before = counts()
    rows = [{"substance": "opiates", "result": "positive", "cutoff": 300}]
    response = as_user(counselor).post(URL, screen(patient, rows))
    assert response.status_code == 400
    assert error_fields(response) == ["results.0.cutoff"]
    assert counts() == before


def test_it_rejects_a_screen_collected_in_the_future(as_user, counselor, patient):
    before = counts()
    future = (timezone.now() + timedelta(hours=3)).isoformat()
    response = as_user(counselor).post(URL, screen(patient, collected_at=future))
    assert response.status_code == 400
    assert error_fields(response) == ["collected_at"]
    assert counts() == before


def test_front_desk_may_not_read_or_record_screens(as_user, front_desk, counselor, patient):
    DrugScreenFactory(actor=counselor, patient=patient)
    before = counts()
    assert as_user(front_desk).get(URL).status_code == 403
    assert as_user(front_desk).post(URL, screen(patient)).status_code == 403
    assert counts() == before
    refused = AuditEvent.objects.filter(actor=front_desk, outcome="denied")
    assert sorted(refused.values_list("action", "resource_type", "status_code")) == [
        ("create", "drugscreen", 403),
        ("list", "drugscreen", 403),
    ]
    assert refused.get(action="create").patient_id == patient.id


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_screens_are_append_only(as_user, counselor, patient, method):
    created = DrugScreenFactory(actor=counselor, patient=patient)
    response = getattr(as_user(counselor), method)(
        f"{URL}{created.id}/", {"method": "confirmatory"}
    )
    assert response.status_code == 405
    stored = DrugScreen.objects.get(pk=created.pk)
    assert (stored.method, stored.version) == ("presumptive", 1)


def test_a_screen_is_corrected_by_marking_it_entered_in_error(as_user, counselor, patient):
    created = DrugScreenFactory(actor=counselor, patient=patient)
    response = as_user(counselor).post(
        f"{URL}{created.id}/entered-in-error/", {"reason": "Sample mislabelled."}
    )
    assert response.status_code == 200, response.json()
    assert DrugScreen.objects.get(pk=created.pk).status == "entered_in_error"
    assert DrugScreenResult.objects.filter(screen=created).count() == 2


def test_other_counselor_gets_404_on_a_screen_off_their_caseload(
    as_user, counselor, other_counselor, patient
):
    created = DrugScreenFactory(actor=counselor, patient=patient)
    assert as_user(other_counselor).get(f"{URL}{created.id}/").status_code == 404


def test_a_failure_while_writing_results_leaves_no_screen_behind(
    as_user, counselor, patient, monkeypatch
):
    def failing_bulk_create(*args, **kwargs):
        raise IntegrityError("simulated failure after the screen row was inserted")

    monkeypatch.setattr(DrugScreenResult.objects, "bulk_create", failing_bulk_create)
    before = counts()
    with pytest.raises(IntegrityError):
        as_user(counselor).post(URL, screen(patient))
    assert counts() == before
