"""Concurrent requests against the real stack on PostgreSQL: state rules hold under any
interleaving. Each race is run many times so an unlocked check fails reliably."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.utils import timezone

from caseload.models import (
    AmendmentRequest,
    Assessment,
    AuditEvent,
    Enrollment,
    PatientUserObjectPermission,
    Referral,
)
from caseload.services.enrollments import enrollment_discharge
from tests.api.v1.test_amendments import ask, cows
from tests.concurrency import at_once
from tests.factories import EnrollmentFactory, PatientFactory, ReferralFactory, StaffFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 15


def note_body(patient) -> dict:
    return {"patient": str(patient.pk), "body": "Seen.", "written_at": timezone.now().isoformat()}


def grant_holders(patient) -> set:
    return set(
        PatientUserObjectPermission.objects.filter(content_object=patient).values_list(
            "user_id", flat=True
        )
    )


def named_by_enrollments(patient) -> set:
    named = set()
    for counselor, prescriber in Enrollment.objects.filter(patient=patient).values_list(
        "counselor", "prescriber"
    ):
        named |= {counselor, prescriber} - {None}
    return named


def test_racing_care_team_changes_leave_grants_equal_to_enrollments(as_user, supervisor, program):
    api_one, api_two = as_user(supervisor), as_user(supervisor)
    counselors = [StaffFactory(program=program, role="counselor") for _ in range(4)]
    for _ in range(ROUNDS):
        patient = PatientFactory(actor=supervisor)
        first = EnrollmentFactory(actor=supervisor, patient=patient, counselor=counselors[0])
        enrollment_discharge(
            enrollment=first,
            actor=supervisor,
            discharged_on=timezone.localdate(),
            reason="completed",
        )
        second = EnrollmentFactory(actor=supervisor, patient=patient, counselor=counselors[1])
        statuses = at_once(
            lambda e=first: (
                api_one.patch(
                    f"/api/v1/enrollments/{e.id}/", {"counselor": str(counselors[2].id)}
                ).status_code
            ),
            lambda e=second: (
                api_two.patch(
                    f"/api/v1/enrollments/{e.id}/", {"counselor": str(counselors[3].id)}
                ).status_code
            ),
        )
        assert statuses == [200, 200]
        assert grant_holders(patient) == named_by_enrollments(patient)
        assert grant_holders(patient) == {counselors[2].id, counselors[3].id}


def test_racing_referral_moves_let_exactly_one_win(as_user, counselor, supervisor, patient):
    api_one, api_two = as_user(counselor), as_user(counselor)
    for _ in range(ROUNDS):
        referral = ReferralFactory(actor=counselor, patient=patient)
        api_one.post(f"/api/v1/referrals/{referral.id}/attending/")
        statuses = at_once(
            lambda r=referral: api_one.post(f"/api/v1/referrals/{r.id}/completed/").status_code,
            lambda r=referral: api_two.post(f"/api/v1/referrals/{r.id}/declined/").status_code,
        )
        assert sorted(statuses) == [200, 409]
        history = list(
            Referral.history.filter(id=referral.id)
            .order_by("history_date")
            .values_list("status", flat=True)
        )
        assert history[:2] == ["referred", "attending"]
        assert len(history) == 3
        assert history[2] in {"completed", "declined"}


def test_racing_discharges_and_activation_never_reopen_or_overwrite(as_user, supervisor, counselor):
    api_one, api_two = as_user(supervisor), as_user(supervisor)
    for round_ in range(ROUNDS):
        patient = PatientFactory(actor=supervisor)
        enrollment = EnrollmentFactory(
            actor=supervisor, patient=patient, counselor=counselor, status="intake"
        )
        url = f"/api/v1/enrollments/{enrollment.id}"
        if round_ % 2:
            responses = at_once(
                lambda u=url: api_one.post(f"{u}/discharge/", {"discharge_reason": "completed"}),
                lambda u=url: api_two.post(f"{u}/discharge/", {"discharge_reason": "dropped_out"}),
            )
            assert sorted(r.status_code for r in responses) == [200, 409]
            winner = next(r for r in responses if r.status_code == 200).json()
            stored = Enrollment.objects.get(pk=enrollment.pk)
            assert stored.discharge_reason == winner["discharge_reason"]
            assert stored.version == 2
        else:
            responses = at_once(
                lambda u=url: api_one.post(f"{u}/discharge/", {"discharge_reason": "completed"}),
                lambda u=url: api_two.post(f"{u}/activate/"),
            )
            statuses = [r.status_code for r in responses]
            assert statuses in ([200, 200], [200, 409])
        assert Enrollment.objects.get(pk=enrollment.pk).status == "discharged"


def test_racing_corrections_of_one_record_let_exactly_one_win(as_user, counselor, patient):
    api_one, api_two = as_user(counselor), as_user(counselor)
    for _ in range(ROUNDS):
        referral = ReferralFactory(actor=counselor, patient=patient)
        url = f"/api/v1/referrals/{referral.id}/entered-in-error/"
        responses = at_once(
            lambda u=url: api_one.post(u, {"reason": "Wrong patient."}),
            lambda u=url: api_two.post(u, {"reason": "Duplicate."}),
        )
        assert sorted(r.status_code for r in responses) == [200, 409]
        assert Referral.objects.get(pk=referral.pk).version == 2


def test_a_write_whose_writer_loses_access_before_the_reread_is_never_a_500(
    as_user, supervisor, counselor, other_counselor, patient
):
    """The care team changes between the write's commit and the re-read of its answer (as a
    concurrent reassignment does): the write stands, and the answer is not a 500 a client would
    retry into a duplicate record."""
    from django.db import transaction
    from django.db.models.signals import post_save

    from caseload.models import CaseNote, Enrollment
    from caseload.services.enrollments import care_team_assign

    def reassign_after_commit(sender, instance, created, **kwargs):
        if created:
            transaction.on_commit(
                lambda: care_team_assign(
                    enrollment=Enrollment.objects.get(patient=patient),
                    actor=supervisor,
                    counselor=other_counselor,
                )
            )

    post_save.connect(reassign_after_commit, sender=CaseNote)
    try:
        response = as_user(counselor).post("/api/v1/notes/", note_body(patient))
    finally:
        post_save.disconnect(reassign_after_commit, sender=CaseNote)
    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert body["code"] == "written_not_readable"
    assert CaseNote.objects.filter(pk=body["id"], patient=patient).count() == 1


def test_notes_racing_a_reassignment_answer_201_or_403_never_500(
    as_user, supervisor, counselor, other_counselor, patient
):
    from caseload.models import CaseNote

    writer, assigner = as_user(counselor), as_user(supervisor)
    enrollment = Enrollment.objects.get(patient=patient)
    statuses = []
    for _ in range(ROUNDS * 2):
        assigner.patch(f"/api/v1/enrollments/{enrollment.pk}/", {"counselor": str(counselor.pk)})
        written, moved = at_once(
            lambda: (
                writer.post(
                    "/api/v1/notes/",
                    {
                        "patient": str(patient.pk),
                        "body": "Seen.",
                        "written_at": timezone.now().isoformat(),
                    },
                ).status_code
            ),
            lambda: (
                assigner.patch(
                    f"/api/v1/enrollments/{enrollment.pk}/", {"counselor": str(other_counselor.pk)}
                ).status_code
            ),
        )
        assert moved == 200
        statuses.append(written)
    assert set(statuses) <= {201, 403}, statuses
    assert CaseNote.objects.filter(patient=patient).count() == statuses.count(201)


def test_an_acceptance_racing_a_correction_of_its_replacement_reads_it_under_lock(
    as_user, counselor, supervisor, patient
):
    """The replacement's state is read on its locked row. The request row is held locked for a
    moment so the acceptance waits inside its transaction while a correction of the replacement
    arrives: the correction must wait for the acceptance, never commit under it (an unlocked
    check would accept a record already withdrawn)."""
    deciding, correcting = as_user(supervisor), as_user(counselor)
    for _ in range(3):
        made = ask(as_user(counselor), patient, cows(patient, counselor))
        corrected = cows(patient, counselor)

        def hold_request(pk=made["id"]):
            with transaction.atomic():
                AmendmentRequest.objects.select_for_update().get(pk=pk)
                time.sleep(1.2)

        def accept(m=made, c=corrected):
            time.sleep(0.2)
            return deciding.post(
                f"/api/v1/amendments/{m['id']}/accept/", {"replacement": str(c.pk)}
            )

        def correct(c=corrected):
            time.sleep(0.6)
            return correcting.post(
                f"/api/v1/assessments/{c.pk}/entered-in-error/", {"reason": "Wrong chart."}
            )

        _, accepted, correction = at_once(hold_request, accept, correct)
        assert (accepted.status_code, correction.status_code) == (200, 200), accepted.json()
        accepted_at = AuditEvent.objects.get(
            resource_id=made["id"], action="transition"
        ).occurred_at
        corrected_at = (
            Assessment.history.filter(id=corrected.pk, status="entered_in_error").get().history_date
        )
        assert corrected_at > accepted_at
