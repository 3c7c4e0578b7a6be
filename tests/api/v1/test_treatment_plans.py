"""Treatment plans: drafted, signed by the enrollment's counselor, changed only by reviews."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from caseload.models import AuditEvent, FollowUp, TreatmentPlan
from caseload.services.treatment_plans import treatment_plans_follow_up_due
from tests.concurrency import at_once

URL = "/api/v1/treatment-plans/"


def days(n: int) -> str:
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def plan_body(enrollment, responsible, **changes) -> dict:
    body = {
        "enrollment": str(enrollment.pk),
        "problems": [
            {"description": "Daily opioid use; withdrawal when stopping.", "asam_dimension": 1},
            {"description": "Unstable housing."},
        ],
        "goals": [
            {
                "description": "I want to stop using and keep my job.",
                "objectives": [
                    {"description": "Attend every dosing visit for 30 days.",
                     "target_date": days(30)},
                ],
            }
        ],
        "interventions": [
            {"kind": "Individual counseling", "frequency": "weekly",
             "responsible": str(responsible.pk)},
        ],
    }  # fmt: skip
    return body | changes


@pytest.fixture
def enrollment(patient):
    return patient.enrollments.get()


@pytest.fixture
def draft(as_user, counselor, enrollment):
    response = as_user(counselor).post(URL, plan_body(enrollment, counselor))
    assert response.status_code == 201, response.json()
    return response.json()


def sign(api, plan, **body):
    return api.post(f"{URL}{plan['id']}/sign/", body or {"signed_by_patient_at": ago(1)})


def ago(hours: int) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat()


def test_a_counselor_drafts_and_signs_a_plan_and_its_review_falls_due(
    as_user, counselor, draft, patient
):
    assert (draft["status"], draft["patient"], draft["review_due_on"]) == (
        "draft",
        str(patient.pk),
        None,
    )
    assert draft["goals"][0]["objectives"][0]["status"] == "open"
    with override_settings(CASELOAD_PLAN_REVIEW_DAYS=30):
        signed = sign(as_user(counselor), draft)
    assert signed.status_code == 200, signed.json()
    body = signed.json()
    assert (body["status"], body["signed_by"], body["review_due_on"]) == (
        "signed",
        str(counselor.pk),
        days(30),
    )
    assert AuditEvent.objects.filter(
        action="transition", resource_id=draft["id"], detail__to="signed"
    ).exists()


def test_a_signed_plan_changes_only_by_a_review_and_keeps_the_earlier_version(
    as_user, counselor, supervisor, draft, patient
):
    api = as_user(counselor)
    sign(api, draft)
    edited = api.patch(f"{URL}{draft['id']}/", {"problems": []})
    assert edited.status_code == 409
    assert edited.json()["code"] == "plan_signed"
    reviewed = as_user(supervisor).post(
        f"{URL}{draft['id']}/review/",
        {"note": "Housing found; problem resolved.", "problems": [{"description": "Cravings."}]},
    )
    assert reviewed.status_code == 200, reviewed.json()
    body = reviewed.json()
    assert body["problems"] == [{"description": "Cravings.", "asam_dimension": None}]
    assert (body["review_note"], body["reviewed_by"], body["review_due_on"]) == (
        "Housing found; problem resolved.",
        str(supervisor.pk),
        days(90),
    )
    plan = TreatmentPlan.objects.get(pk=draft["id"])
    earlier = plan.history.order_by("history_date")
    assert [len(row.problems) for row in earlier] == [2, 2, 1]
    history = api.get(f"/api/v1/patients/{patient.pk}/history/").json()
    entry = next(e for e in history["results"] if e["type"] == "treatment_plan")
    assert [c["type"] for c in entry["changes"]] == ["changed", "changed", "created"]
    assert "problems" in entry["changes"][0]["fields"]


def test_a_draft_is_not_reviewed_and_a_plan_is_signed_once(as_user, counselor, draft):
    api = as_user(counselor)
    review = api.post(f"{URL}{draft['id']}/review/", {"note": "Too early."})
    assert review.status_code == 409
    assert review.json()["errors"][0]["field"] == "status"
    sign(api, draft)
    again = sign(api, draft)
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"


def test_only_the_enrollments_counselor_signs(as_user, supervisor, prescriber, draft):
    refused = sign(as_user(supervisor), draft)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "signed_by"
    assert refused.json()["code"] == "not_on_care_team"
    assert sign(as_user(prescriber), draft).status_code == 403
    assert TreatmentPlan.objects.get(pk=draft["id"]).status == "draft"


def test_signing_names_everything_missing_at_once(as_user, counselor, enrollment):
    api = as_user(counselor)
    empty = api.post(URL, {"enrollment": str(enrollment.pk)}).json()
    response = api.post(f"{URL}{empty['id']}/sign/", {})
    assert response.status_code == 409
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("problems", "plan_incomplete"),
        ("goals", "plan_incomplete"),
        ("interventions", "plan_incomplete"),
        ("signed_by_patient_at", "patient_signature_missing"),
    }


def test_bad_plan_content_is_each_named_and_nothing_is_stored(
    as_user, counselor, enrollment, foreign_patient
):
    body = plan_body(enrollment, counselor, starts_on=days(0))
    body["goals"][0]["objectives"].append({"description": "Earlier.", "target_date": days(-1)})
    body["goals"][0]["objectives"][0]["status"] = "achieved"
    body["problems"][0]["asam_dimension"] = 7
    body["interventions"].append(
        {"kind": "Group", "frequency": "weekly", "responsible": str(foreign_patient.pk)}
    )
    body["colour"] = "blue"
    response = as_user(counselor).post(URL, body)
    assert response.status_code == 400
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("colour", "unknown_field"),
        ("problems.0.asam_dimension", "max_value"),
        ("goals.0.objectives.0.status", "invalid_choice"),
    }
    del body["colour"]
    body["problems"][0]["asam_dimension"] = 6
    body["goals"][0]["objectives"][0]["status"] = "met"
    response = as_user(counselor).post(URL, body)
    assert response.status_code == 400
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("goals.0.objectives.1.target_date", "before_plan_start"),
        ("interventions.1.responsible", "does_not_exist"),
    }
    assert not TreatmentPlan.objects.exists()


def test_one_current_plan_per_enrollment(as_user, counselor, supervisor, enrollment, draft):
    second = as_user(counselor).post(URL, plan_body(enrollment, counselor))
    assert second.status_code == 409
    assert second.json()["code"] == "current_plan_exists"
    as_user(supervisor).post(f"{URL}{draft['id']}/entered-in-error/", {"reason": "Wrong chart."})
    assert as_user(counselor).post(URL, plan_body(enrollment, counselor)).status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviews_from_one_read_one_wins_the_other_412(
    as_user, counselor, supervisor, enrollment
):
    plan = as_user(counselor).post(URL, plan_body(enrollment, counselor)).json()
    signed = sign(as_user(counselor), plan)
    etag = signed["ETag"]
    apis = [as_user(counselor), as_user(supervisor)]
    results = at_once(
        *[
            lambda api=api, n=n: api.post(
                f"{URL}{plan['id']}/review/", {"note": f"Review {n}."}, HTTP_IF_MATCH=etag
            )
            for n, api in enumerate(apis)
        ]
    )
    assert sorted(r.status_code for r in results) == [200, 412]
    assert TreatmentPlan.objects.filter(enrollment=enrollment, status="signed").count() == 1
    assert TreatmentPlan.objects.get(pk=plan["id"]).version == signed.json()["version"] + 1


def test_review_overdue_lists_signed_plans_past_their_date(as_user, counselor, draft):
    sign(as_user(counselor), draft)
    TreatmentPlan.objects.filter(pk=draft["id"]).update(
        review_due_on=timezone.localdate() - timedelta(days=1)
    )
    overdue = as_user(counselor).get(URL, {"review_overdue": "true"}).json()["results"]
    assert [p["id"] for p in overdue] == [draft["id"]]
    assert as_user(counselor).get(URL, {"review_overdue": "false"}).json()["results"] == []
    assert as_user(counselor).get(URL, {"review_overdue": "maybe"}).status_code == 400


def test_a_change_of_level_of_care_makes_the_review_due_today(as_user, counselor, draft):
    sign(as_user(counselor), draft)
    placement = {
        "enrollment": draft["enrollment"],
        "assessed_at": ago(1),
        **{f"dimension_{n}": 1 for n in range(1, 7)},
        "recommended_level": "3.5",
        "actual_level": "3.5",
    }
    assert as_user(counselor).post("/api/v1/placements/", placement).status_code == 201
    plan = TreatmentPlan.objects.get(pk=draft["id"])
    assert plan.review_due_on == timezone.localdate()
    assert AuditEvent.objects.filter(
        action="update", resource_id=draft["id"], detail__reason="level_of_care_changed"
    ).exists()


def test_the_counselor_gets_one_follow_up_when_a_review_falls_due(
    as_user, counselor, patient, draft
):
    sign(as_user(counselor), draft)
    assert treatment_plans_follow_up_due() == 0
    due = timezone.localdate()
    TreatmentPlan.objects.filter(pk=draft["id"]).update(review_due_on=due)
    assert treatment_plans_follow_up_due() == 1
    assert treatment_plans_follow_up_due() == 0  # the scheduler runs again: still one
    follow_ups = as_user(counselor).get("/api/v1/follow-ups/").json()["results"]
    assert [(f["reason"], f["treatment_plan"], f["due_on"], f["patient"]) for f in follow_ups] == [
        ("plan_review", draft["id"], due.isoformat(), str(patient.pk))
    ]
    assert FollowUp.objects.get().staff == counselor


def test_who_reads_and_writes_plans(
    as_user, prescriber, front_desk, other_counselor, other_program_staff, draft, enrollment
):
    detail = f"{URL}{draft['id']}/"
    assert as_user(prescriber).get(detail).status_code == 200
    assert as_user(prescriber).patch(detail, {"problems": []}).status_code == 403
    assert as_user(front_desk).get(URL).status_code == 403
    assert as_user(other_counselor).get(detail).status_code == 404
    assert as_user(other_program_staff).get(detail).status_code == 404
    assert as_user(other_program_staff).post(f"{detail}review/", {"note": "x"}).status_code == 404
    assert as_user(other_counselor).delete(detail).status_code == 405


def test_a_draft_is_edited_with_if_match(as_user, counselor, draft):
    api = as_user(counselor)
    stale = api.patch(f"{URL}{draft['id']}/", {"problems": []}, HTTP_IF_MATCH='"v9"')
    assert stale.status_code == 412
    fresh = api.patch(
        f"{URL}{draft['id']}/", {"problems": []}, HTTP_IF_MATCH=f'"v{draft["version"]}"'
    )
    assert fresh.status_code == 200 and fresh.json()["problems"] == []
