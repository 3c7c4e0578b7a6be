"""The sync feed: `updated_since` starts a walk, `cursor` links page it in change order, and the
last page's `next_sync` walks exactly what changed since. (The PostgreSQL proof under concurrent
writers and a long transaction is tests/api/v1/test_sync_feed_postgres.py.)
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db.models import Max
from django.utils import timezone

from caseload.feed import feed_horizon
from caseload.models import Appointment, Consent, Patient
from tests.conftest import integration_for
from tests.factories import AppointmentFactory, PatientFactory

# Committed transactions: on PostgreSQL the feed serves only what lies below the oldest
# transaction still running, which a test wrapped in one transaction would never pass.
pytestmark = pytest.mark.django_db(transaction=True)

FEED = "/api/v1/appointments/"
EPOCH = "1970-01-01T00:00:00Z"


def settle(timeout: float = 120.0) -> None:
    """Wait until the feed can serve every change committed in this database.

    On PostgreSQL the horizon is cluster-wide: a transaction left open in another database (a
    parallel test worker's) holds it back, exactly the lag /healthz reports.
    """
    top = max(
        model.objects.aggregate(top=Max("change_seq"))["top"] or 0
        for model in (Appointment, Patient)
    )
    deadline = time.monotonic() + timeout
    while feed_horizon() <= top:
        if time.monotonic() > deadline:
            pytest.fail(f"the feed's horizon stayed below {top} for {timeout} s")
        time.sleep(0.05)


def walk(api, url: str, params: dict | None = None, *, wait: bool = True) -> tuple[list[dict], str]:
    """Every item of a walk, page by page, and its next_sync link (after `settle`, unless
    `wait` is false)."""
    if wait:
        settle()
    items: list[dict] = []
    response = api.get(url, params)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        assert set(body) == {"next", "previous", "results", "next_sync"}
        items += body["results"]
        if body["next"] is None:
            assert body["next_sync"]
            return items, body["next_sync"]
        assert body["next_sync"] is None
        assert "cursor=" in body["next"] and "page=" not in body["next"]
        response = api.get(body["next"])


@pytest.fixture
def booked(supervisor, counselor, patient):
    return [
        AppointmentFactory(actor=supervisor, patient=patient, staff=counselor) for _ in range(7)
    ]


def test_a_walk_delivers_every_appointment_once_in_change_order(as_user, supervisor, booked):
    items, _ = walk(as_user(supervisor), FEED, {"updated_since": EPOCH, "page_size": 2})
    assert sorted(i["id"] for i in items) == sorted(str(a.pk) for a in booked)
    assert len(items) == len(booked)
    assert all("updated_at" in i for i in items)
    seqs = [Appointment.objects.get(pk=i["id"]).change_seq for i in items]
    assert seqs == sorted(seqs)


def test_page_number_lists_stay_as_they_were_without_a_walk(as_user, supervisor, booked):
    body = as_user(supervisor).get(FEED, {"page_size": 2}).json()
    assert set(body) == {"next", "previous", "results"}
    assert "page=2" in body["next"]


def test_next_sync_walks_exactly_what_changed_since(
    as_user, supervisor, counselor, patient, booked
):
    api = as_user(supervisor)
    _, next_sync = walk(api, FEED, {"updated_since": EPOCH, "page_size": 3})
    moved, cancelled = booked[2], booked[5]
    assert api.patch(f"{FEED}{moved.pk}/", {"location": "Room 7"}).status_code == 200
    assert api.post(f"{FEED}{cancelled.pk}/cancel/", {"reason": "Asked to."}).status_code == 200
    added = AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    changes, following = walk(api, next_sync)
    assert sorted(i["id"] for i in changes) == sorted(str(a.pk) for a in (moved, cancelled, added))
    by_id = {i["id"]: i for i in changes}
    assert by_id[str(cancelled.pk)]["status"] == "cancelled"  # a cancellation is a change
    assert by_id[str(moved.pk)]["location"] == "Room 7"
    nothing, _ = walk(api, following)
    assert nothing == []


def test_updated_since_starts_the_walk_at_that_time(as_user, supervisor, booked):
    api = as_user(supervisor)
    since = timezone.now()
    assert api.patch(f"{FEED}{booked[0].pk}/", {"location": "Room 2"}).status_code == 200
    items, _ = walk(api, FEED, {"updated_since": since.isoformat()})
    assert [i["id"] for i in items] == [str(booked[0].pk)]


def test_a_walk_keeps_its_filters_in_the_cursor(as_user, supervisor, counselor, booked):
    api = as_user(supervisor)
    other = PatientFactory(actor=supervisor)
    AppointmentFactory(actor=supervisor, patient=other, staff=counselor, overlap_allowed=True)
    items, next_sync = walk(
        api, FEED, {"updated_since": EPOCH, "patient": str(booked[0].patient_id), "page_size": 2}
    )
    assert {i["patient"] for i in items} == {str(booked[0].patient_id)}
    assert "patient" not in parse_qs(urlparse(next_sync).query)


def test_a_reschedule_moves_the_reminder_in_the_same_change_the_feed_delivers(
    as_user, supervisor, booked
):
    api = as_user(supervisor)
    _, next_sync = walk(api, FEED, {"updated_since": EPOCH})
    before = Appointment.objects.get(pk=booked[0].pk)
    start = before.start + timedelta(days=1)
    moved = api.patch(
        f"/api/v1/appointments/{before.pk}/",
        {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
    )
    assert moved.status_code == 200, moved.json()
    after = Appointment.objects.get(pk=booked[0].pk)
    assert after.reminder_due_at != before.reminder_due_at
    assert after.version == before.version + 1
    changes, _ = walk(api, next_sync)
    assert [(i["id"], i["reminder_due_at"]) for i in changes] == [
        (str(booked[0].pk), moved.json()["reminder_due_at"])
    ]


def test_patients_have_the_same_walk_and_sync(integration_client, supervisor, patient, as_user):
    items, next_sync = walk(integration_client, "/api/v1/patients/", {"updated_since": EPOCH})
    assert [i["id"] for i in items] == [str(patient.pk)]
    as_user(supervisor).patch(f"/api/v1/patients/{patient.pk}/", {"phone": "555-0100"})
    newcomer = PatientFactory(actor=supervisor)
    changes, _ = walk(integration_client, next_sync)
    assert sorted(i["id"] for i in changes) == sorted([str(patient.pk), str(newcomer.pk)])


# Refusals -------------------------------------------------------------------------------------


def first_next(api, params=None) -> str:
    settle()
    return api.get(FEED, {"updated_since": EPOCH, "page_size": 1, **(params or {})}).json()["next"]


def errors_of(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.json()
    return sorted((e["field"], e["code"]) for e in response.json()["errors"])


def test_a_cursor_carries_the_filters_so_others_are_refused(as_user, supervisor, booked):
    api = as_user(supervisor)
    token = parse_qs(urlparse(first_next(api)).query)["cursor"][0]
    response = api.get(FEED, {"cursor": token, "status": "booked", "page_size": 5})
    assert errors_of(response) == [("status", "not_with_cursor")]
    assert errors_of(api.get(FEED, {"cursor": token, "sync": token})) == [
        ("sync", "conflicting_parameter")
    ]


def test_page_numbers_do_not_mix_with_a_walk(as_user, supervisor, booked):
    response = as_user(supervisor).get(FEED, {"updated_since": EPOCH, "page": 2})
    assert errors_of(response) == [("page", "not_with_updated_since")]


@pytest.mark.parametrize("token", ["garbage", "a" * 300, ""])
def test_a_link_the_server_did_not_issue_is_400(as_user, supervisor, booked, token):
    assert errors_of(as_user(supervisor).get(FEED, {"cursor": token})) == [
        ("cursor", "invalid_cursor")
    ]


def test_a_link_of_one_list_or_caller_does_not_work_for_another(
    as_user, supervisor, other_program_staff, booked
):
    token = parse_qs(urlparse(first_next(as_user(supervisor))).query)["cursor"][0]
    wrong_list = as_user(supervisor).get("/api/v1/patients/", {"cursor": token})
    assert errors_of(wrong_list) == [("cursor", "invalid_cursor")]
    stranger = as_user(other_program_staff).get(FEED, {"cursor": token})
    assert errors_of(stranger) == [("cursor", "invalid_cursor")]


def test_an_old_link_answers_410_sync_expired(as_user, supervisor, booked, settings):
    api = as_user(supervisor)
    _, next_sync = walk(api, FEED, {"updated_since": EPOCH})
    settings.CASELOAD_SYNC_TOKEN_MAX_AGE_DAYS = -1  # every link is now too old
    response = api.get(next_sync)
    assert response.status_code == 410
    assert response.json()["code"] == "sync_expired"


def consent_to(integration, patient) -> Consent:
    """The patient's consent to disclose their appointments to `integration` for 30 days."""
    return Consent.objects.create(
        program=patient.program,
        patient=patient,
        signed_by="the patient (synthetic)",
        revocation_notice=True,
        recipient_name="scheduler",
        recipient_client=integration.record.pk,
        purpose="Reminders",
        information=["appointments"],
        expires_at=timezone.now() + timedelta(days=30),
        signed_at=timezone.now(),
    )


def test_a_revoked_consent_expires_the_clients_sync_links(program, supervisor, counselor, patient):
    integration = integration_for(program, basis="consent")
    given = consent_to(integration, patient)
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    items, next_sync = walk(integration, FEED, {"updated_since": EPOCH})
    assert len(items) == 1
    Consent.objects.filter(pk=given.pk).update(revoked_at=timezone.now())
    response = integration.get(next_sync)
    assert (response.status_code, response.json()["code"]) == (410, "sync_expired")


def test_a_caseload_change_expires_a_counselors_sync_links(
    as_user, supervisor, counselor, other_patient
):
    from caseload.models import Enrollment
    from caseload.services.enrollments import enrollment_update

    api = as_user(counselor)
    _, next_sync = walk(api, FEED, {"updated_since": EPOCH})
    enrollment = Enrollment.objects.get(patient=other_patient)
    enrollment_update(
        enrollment=enrollment,
        actor=supervisor,
        changes={"counselor": counselor},
        expected_version=None,
    )
    assert api.get(next_sync).status_code == 410


def test_polling_a_quiet_sync_link_with_its_etag_answers_304(as_user, supervisor, booked):
    api = as_user(supervisor)
    _, next_sync = walk(api, FEED, {"updated_since": EPOCH})
    quiet = api.get(next_sync)
    assert quiet.json()["results"] == []
    assert api.get(next_sync, HTTP_IF_NONE_MATCH=quiet["ETag"]).status_code == 304
    api.patch(f"{FEED}{booked[1].pk}/", {"location": "Room 3"})
    settle()
    assert api.get(next_sync, HTTP_IF_NONE_MATCH=quiet["ETag"]).status_code == 200


def test_a_link_does_not_reveal_the_filters_it_carries(as_user, supervisor, patient):
    """A family-name search's sync link, decoded every way a reader of a log might try."""
    import base64
    import contextlib
    import re
    import zlib

    PatientFactory(actor=supervisor, family_name="Quillfeather")
    api = as_user(supervisor)
    query = {"updated_since": EPOCH, "family_name": "Quillfeather", "page_size": 1}
    _, next_sync = walk(api, "/api/v1/patients/", query)
    link = next_sync + (api.get("/api/v1/patients/", query).json()["next"] or "")
    decoded = [link]
    tokens = (v for values in parse_qs(urlparse(next_sync).query).values() for v in values)
    for part in (p for token in tokens for p in [token, *re.split(r"[:.]", token)] if p):
        padded = part + "=" * (-len(part) % 4)
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            try:
                raw = decode(padded)
            except ValueError:
                continue
            decoded.append(raw.decode("latin-1"))
            with contextlib.suppress(zlib.error):
                decoded.append(zlib.decompress(raw).decode("latin-1"))
    assert not any("quillfeather" in text.lower() for text in decoded)
    items, _ = walk(api, next_sync)  # and the link still works
    assert items == []


def test_every_paged_list_answers_a_foreign_cursor_with_invalid_cursor(
    as_user, supervisor, booked, integration_client
):
    """One cursor (api/cursors.py) for the feed, keyset lists and FHIR: a token issued for one
    list is refused by the others with the same code, naming the parameter it came in."""
    api = as_user(supervisor)
    feed_token = parse_qs(urlparse(first_next(api)).query)["cursor"][0]
    audit_next = api.get("/api/v1/audit-events/", {"page_size": 1}).json()["next"]
    audit_token = parse_qs(urlparse(audit_next).query)["cursor"][0]
    assert api.get("/api/v1/audit-events/", {"cursor": audit_token}).status_code == 200
    assert errors_of(api.get("/api/v1/audit-events/", {"cursor": feed_token})) == [
        ("cursor", "invalid_cursor")
    ]
    assert errors_of(api.get(FEED, {"cursor": audit_token})) == [("cursor", "invalid_cursor")]
    assert errors_of(api.get(FEED, {"sync": feed_token})) == [("sync", "invalid_cursor")]
    fhir = integration_client.get("/fhir/Appointment", {"_cursor": feed_token})
    assert fhir.status_code == 400
    issue = fhir.json()["issue"][0]
    assert issue["expression"] == ["_cursor"]
    assert issue["details"]["coding"][0]["code"] == "invalid_cursor"


def test_a_conditional_sync_page_reads_only_what_its_tag_hashes(
    integration_client, supervisor, booked
):
    """A 304 reads each row's id, patient, version and change number, not the page's fields;
    it discloses nothing and is audited like the 200."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from caseload.models import AuditEvent, Disclosure

    settle()
    query = {"updated_since": EPOCH, "page_size": 3}
    first = integration_client.get(FEED, query)
    assert first.status_code == 200 and len(first.json()["results"]) == 3
    ledgered, audited = Disclosure.objects.count(), AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        again = integration_client.get(FEED, query, HTTP_IF_NONE_MATCH=first["ETag"])
    assert (again.status_code, again["ETag"], again.content) == (304, first["ETag"], b"")
    page_reads = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and "change_seq" in q["sql"]
    ]
    assert page_reads and not any('"location"' in sql for sql in page_reads)
    assert Disclosure.objects.count() == ledgered
    assert AuditEvent.objects.count() == audited + 1


def test_a_conditional_sync_page_that_changed_answers_whole(as_user, supervisor, booked):
    api = as_user(supervisor)
    settle()
    query = {"updated_since": EPOCH, "page_size": 3}
    first = api.get(FEED, query)
    moved = first.json()["results"][0]["id"]
    assert api.patch(f"{FEED}{moved}/", {"location": "Room 9"}).status_code == 200
    settle()
    changed = api.get(FEED, query, HTTP_IF_NONE_MATCH=first["ETag"])
    plain = api.get(FEED, query)
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert changed["ETag"] == plain["ETag"]
    assert changed.json()["results"] == plain.json()["results"]
    assert moved not in [row["id"] for row in changed.json()["results"]]  # now at the walk's end


def test_a_revoked_consent_changes_a_sync_pages_tag(program, supervisor, counselor, patient):
    integration = integration_for(program, basis="consent")
    given = consent_to(integration, patient)
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    settle()
    query = {"updated_since": EPOCH}
    first = integration.get(FEED, query)
    assert len(first.json()["results"]) == 1
    assert integration.get(FEED, query, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    Consent.objects.filter(pk=given.pk).update(revoked_at=timezone.now())
    after = integration.get(FEED, query, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and after.json()["results"] == []
