from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import Assessment, AuditEvent
from tests.domain_reference import (
    CHECKLIST_SIGNS,
    COWS_BANDS,
    COWS_BOUNDARIES,
    checklist_items,
    cows_items,
    sows_items,
)
from tests.factories import AssessmentFactory

URL = "/api/v1/assessments/"


def an_hour_ago() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


def post(api, patient, instrument: str, items, **extra):
    body = {
        "patient": str(patient.id),
        "instrument": instrument,
        "items": items,
        "administered_at": an_hour_ago(),
        **extra,
    }
    return api.post(URL, body, format="json")


def error_fields(response) -> list[tuple[str, str]]:
    return sorted((error["field"], error["code"]) for error in response.json()["errors"])


@pytest.mark.parametrize(
    ("total", "severity"),
    COWS_BOUNDARIES,
)
def test_server_scores_cows_at_every_band_boundary(as_user, counselor, patient, total, severity):
    response = post(as_user(counselor), patient, "cows", cows_items(total))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["total_score"], body["severity"]) == (total, severity)
    stored = Assessment.objects.get(pk=body["id"])
    assert (stored.total_score, stored.severity) == (total, severity)
    assert stored.administered_by == counselor


def test_cows_stores_instrument_version_and_bands_used(as_user, counselor, patient):
    body = post(as_user(counselor), patient, "cows", cows_items(7)).json()
    stored = Assessment.objects.get(pk=body["id"])
    assert "COWS" in stored.instrument_version
    assert body["instrument_version"] == stored.instrument_version
    assert stored.bands == list(COWS_BANDS)
    assert body["bands"] == stored.bands


@pytest.mark.parametrize(
    ("total", "severity"),
    [(0, "none"), (1, "mild"), (10, "mild"), (11, "moderate"), (20, "moderate"), (21, "severe")],
)
def test_server_scores_sows_at_every_configured_boundary(
    as_user, counselor, patient, total, severity
):
    response = post(as_user(counselor), patient, "sows", sows_items(total))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["total_score"], body["severity"]) == (total, severity)
    assert body["criteria_met"] is None


def test_sows_labels_its_bands_as_the_programs_interpretation(as_user, counselor, patient):
    body = post(as_user(counselor), patient, "sows", sows_items(3)).json()
    stored = Assessment.objects.get(pk=body["id"])
    assert body["bands_label"]
    assert stored.bands_label == body["bands_label"]
    assert "SOWS" in stored.instrument_version


def test_sows_bands_follow_settings_and_are_stored_with_the_result(
    as_user, counselor, patient, settings
):
    settings.CASELOAD_SOWS_BANDS = [
        {"severity": "none", "low": 0, "high": 5},
        {"severity": "mild", "low": 6, "high": 30},
        {"severity": "severe", "low": 31, "high": 64},
    ]
    settings.CASELOAD_SOWS_BANDS_LABEL = "Test program's own cut-offs."
    body = post(as_user(counselor), patient, "sows", sows_items(5)).json()
    assert body["severity"] == "none"  # "mild" under the default bands
    assert body["bands_label"] == "Test program's own cut-offs."
    stored = Assessment.objects.get(pk=body["id"])
    assert stored.bands == settings.CASELOAD_SOWS_BANDS
    assert stored.severity == "none"


def test_changing_sows_bands_later_never_rewrites_a_stored_result(
    as_user, counselor, patient, settings
):
    first = post(as_user(counselor), patient, "sows", sows_items(5)).json()
    settings.CASELOAD_SOWS_BANDS = [
        {"severity": "none", "low": 0, "high": 5},
        {"severity": "severe", "low": 6, "high": 64},
    ]
    reread = as_user(counselor).get(f"{URL}{first['id']}/").json()
    assert reread["severity"] == "mild"
    assert len(reread["bands"]) == 4


@pytest.mark.parametrize(
    ("present", "criteria_met", "meets"),
    [
        ((), 0, False),
        (("dilated_pupils", "piloerection", "sweating"), 1, False),
        (("dilated_pupils", "piloerection", "sweating", "fever"), 2, False),
        (("dilated_pupils", "fever", "yawning"), 3, True),
        (("fever", "diarrhea"), 2, False),
        (CHECKLIST_SIGNS, 9, True),
    ],
)
def test_checklist_counts_pupils_piloerection_and_sweating_as_one_criterion(
    as_user, prescriber, patient, present, criteria_met, meets
):
    response = post(as_user(prescriber), patient, "withdrawal_checklist", checklist_items(*present))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["criteria_met"], body["meets_withdrawal_criteria"]) == (criteria_met, meets)
    assert body["total_score"] is None
    assert body["severity"] is None
    stored = Assessment.objects.get(pk=body["id"])
    assert stored.criteria_met == criteria_met
    assert stored.bands == []
    assert "DSM-5" in stored.instrument_version


def test_client_sent_totals_are_refused_naming_each_computed_field(as_user, counselor, patient):
    response = post(
        as_user(counselor),
        patient,
        "cows",
        cows_items(13),
        total_score=2,
        severity="none",
        criteria_met=9,
        meets_withdrawal_criteria=True,
    )
    assert response.status_code == 400, response.json()
    assert error_fields(response) == [
        ("criteria_met", "read_only"),
        ("meets_withdrawal_criteria", "read_only"),
        ("severity", "read_only"),
        ("total_score", "read_only"),
    ]
    assert not Assessment.objects.exists()


def test_it_rejects_restlessness_score_of_two(as_user, counselor, patient):
    items = cows_items(0) | {"restlessness": 2}
    response = post(as_user(counselor), patient, "cows", items)
    assert response.status_code == 400
    assert error_fields(response) == [("items.restlessness", "invalid_choice")]
    assert not Assessment.objects.exists()


def test_it_rejects_a_sows_answer_of_five_naming_the_item(as_user, counselor, patient):
    response = post(as_user(counselor), patient, "sows", sows_items(0) | {"shaking": 5})
    assert response.status_code == 400
    assert error_fields(response) == [("items.shaking", "invalid_choice")]


def test_it_rejects_an_unknown_item(as_user, counselor, patient):
    response = post(as_user(counselor), patient, "cows", cows_items(0) | {"heart_rate": 1})
    assert response.status_code == 400
    assert error_fields(response) == [("items.heart_rate", "unknown_item")]


def test_a_missing_item_rejects_the_whole_assessment_and_writes_nothing(
    as_user, counselor, patient
):
    before = (
        Assessment.objects.count(),
        AuditEvent.objects.filter(resource_type="assessment").count(),
    )
    items = cows_items(20)
    del items["gooseflesh"]
    response = post(as_user(counselor), patient, "cows", items)
    assert response.status_code == 400
    assert error_fields(response) == [("items.gooseflesh", "missing_item")]
    assert "total_score" not in response.json()
    after = (
        Assessment.objects.count(),
        AuditEvent.objects.filter(resource_type="assessment").count(),
    )
    assert after == before


def test_several_bad_items_are_each_reported(as_user, counselor, patient):
    items = cows_items(0) | {"restlessness": 2, "gooseflesh": 1, "extra": 0}
    del items["tremor"]
    response = post(as_user(counselor), patient, "cows", items)
    assert response.status_code == 400
    assert error_fields(response) == [
        ("items.extra", "unknown_item"),
        ("items.gooseflesh", "invalid_choice"),
        ("items.restlessness", "invalid_choice"),
        ("items.tremor", "missing_item"),
    ]
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("items", [[0, 1, 2], "restlessness=1", 7])
def test_items_that_are_not_an_object_are_rejected_naming_items(as_user, counselor, patient, items):
    response = post(as_user(counselor), patient, "cows", items)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["items"]
    assert not Assessment.objects.exists()


def test_it_rejects_an_assessment_administered_in_the_future(as_user, counselor, patient):
    body = {
        "patient": str(patient.id),
        "instrument": "cows",
        "items": cows_items(5),
        "administered_at": (timezone.now() + timedelta(hours=2)).isoformat(),
    }
    response = as_user(counselor).post(URL, body, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["administered_at"]
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_assessments_are_append_only(as_user, counselor, patient, method):
    assessment = AssessmentFactory(actor=counselor, patient=patient, items=cows_items(13))
    response = getattr(as_user(counselor), method)(
        f"{URL}{assessment.id}/", {"items": cows_items(0)}, format="json"
    )
    assert response.status_code == 405
    stored = Assessment.objects.get(pk=assessment.pk)
    assert (stored.total_score, stored.version) == (13, 1)


def test_marking_entered_in_error_keeps_the_record_listed_and_audits_it(
    as_user, counselor, patient
):
    assessment = AssessmentFactory(actor=counselor, patient=patient)
    api = as_user(counselor)
    response = api.post(
        f"{URL}{assessment.id}/entered-in-error/", {"reason": "Wrong patient chart."}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "entered_in_error"
    assert response.json()["entered_in_error_reason"] == "Wrong patient chart."
    listed = api.get(URL, {"patient": str(patient.id)}).json()["results"]
    assert [(row["id"], row["status"]) for row in listed] == [
        (str(assessment.id), "entered_in_error")
    ]
    event = AuditEvent.objects.get(action="entered_in_error", resource_id=str(assessment.id))
    assert event.actor == counselor
    assert event.patient_id == patient.id


def test_marking_entered_in_error_twice_is_a_conflict(as_user, counselor, patient):
    assessment = AssessmentFactory(actor=counselor, patient=patient)
    url = f"{URL}{assessment.id}/entered-in-error/"
    api = as_user(counselor)
    assert api.post(url, {"reason": "Duplicate entry."}).status_code == 200
    second = api.post(url, {"reason": "Again."})
    assert second.status_code == 409
    assert Assessment.objects.get(pk=assessment.pk).entered_in_error_reason == "Duplicate entry."
    assert AuditEvent.objects.filter(action="entered_in_error", outcome="allowed").count() == 1
    refused = AuditEvent.objects.get(action="entered_in_error", outcome="denied")
    assert (refused.status_code, refused.detail["code"]) == (409, "entered_in_error")


def test_marking_entered_in_error_needs_a_reason(as_user, counselor, patient):
    assessment = AssessmentFactory(actor=counselor, patient=patient)
    response = as_user(counselor).post(f"{URL}{assessment.id}/entered-in-error/", {})
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["reason"]
    assert Assessment.objects.get(pk=assessment.pk).status == "final"


def test_front_desk_may_not_list_assessments(as_user, front_desk, counselor, patient):
    AssessmentFactory(actor=counselor, patient=patient)
    assert as_user(front_desk).get(URL).status_code == 403


def test_front_desk_may_not_record_an_assessment(as_user, front_desk, patient):
    response = post(as_user(front_desk), patient, "cows", cows_items(5))
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_counselor_of_another_caseload_gets_404_on_detail(
    as_user, counselor, other_counselor, patient
):
    assessment = AssessmentFactory(actor=counselor, patient=patient)
    response = as_user(other_counselor).get(f"{URL}{assessment.id}/")
    assert response.status_code == 404
    assert as_user(other_counselor).get(URL).json()["results"] == []


def test_another_programs_staff_gets_404_on_detail(
    as_user, counselor, other_program_staff, patient
):
    assessment = AssessmentFactory(actor=counselor, patient=patient)
    assert as_user(other_program_staff).get(f"{URL}{assessment.id}/").status_code == 404


def test_counselor_cannot_record_for_a_patient_off_their_caseload(
    as_user, counselor, other_patient
):
    response = post(as_user(counselor), other_patient, "cows", cows_items(5))
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["patient"]
    assert not Assessment.objects.exists()
