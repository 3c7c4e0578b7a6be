from django.utils import timezone

from caseload.models import CaseNote
from caseload.services.enrollments import enrollment_discharge
from tests.factories import CaseNoteFactory, EnrollmentFactory

URL = "/api/v1/notes/"


def shared_with(patient, supervisor, colleague):
    """Hand the patient over: the old episode's counselor keeps access, `colleague` gains it."""
    enrollment_discharge(
        enrollment=patient.enrollments.get(),
        actor=supervisor,
        discharged_on=timezone.localdate(),
        reason="transferred",
        detail="Handed over.",
    )
    EnrollmentFactory(actor=supervisor, patient=patient, counselor=colleague)


def test_the_author_amends_their_own_note(as_user, counselor, patient):
    note = CaseNoteFactory(actor=counselor, patient=patient)
    response = as_user(counselor).patch(f"{URL}{note.id}/", {"body": "Amended. (synthetic)"})
    assert response.status_code == 200
    assert response.json()["author"] == str(counselor.id)


def test_nobody_else_rewrites_a_note_under_its_authors_name(
    as_user, supervisor, counselor, other_counselor, patient
):
    shared_with(patient, supervisor, other_counselor)
    note = CaseNoteFactory(actor=counselor, patient=patient, body="Original words.")
    for clinician in (other_counselor, supervisor):
        for method in ("patch", "put"):
            response = getattr(as_user(clinician), method)(
                f"{URL}{note.id}/",
                {"body": "Words the author never wrote.", "written_at": timezone.now().isoformat()},
            )
            assert response.status_code == 403, response.json()
            assert response.json()["errors"][0]["field"] == "body"
    stored = CaseNote.objects.get(pk=note.pk)
    assert (stored.body, stored.author, stored.version) == ("Original words.", counselor, 1)


def test_a_supervisor_corrects_a_note_by_marking_it_entered_in_error(
    as_user, supervisor, counselor, patient
):
    note = CaseNoteFactory(actor=counselor, patient=patient, body="Original words.")
    response = as_user(supervisor).post(
        f"{URL}{note.id}/entered-in-error/", {"reason": "Written in the wrong chart."}
    )
    assert response.status_code == 200
    stored = CaseNote.objects.get(pk=note.pk)
    assert (stored.status, stored.body, stored.author) == (
        "entered_in_error",
        "Original words.",
        counselor,
    )
    assert stored.updated_by == supervisor
