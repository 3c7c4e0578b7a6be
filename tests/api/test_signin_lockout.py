"""Five failed sign-ins for one username from one source within 15 minutes lock it there for 15
minutes; CASELOAD_SIGNIN_ACCOUNT_LIMIT from every source together lock it everywhere; a
supervisor lifts a lock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from caseload.errors import LockedOut
from caseload.models import AuditEvent, SignInThrottle, Staff
from caseload.services.programs import staff_create
from caseload.services.tokens import token_issue

LOGIN = "/api/auth/login/"
ADMIN_LOGIN = "/admin/login/"
ME = "/api/v1/me/"
PASSWORD = "a-long-passphrase-1"


@pytest.fixture
def account(program) -> Staff:
    return staff_create(username="lock.me", program=program, role="counselor", password=PASSWORD)


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """Every password actually checked against a staff member's hash."""
    checked: list[str] = []
    guard = threading.Lock()
    original = Staff.check_password

    def counting(self, raw_password):
        with guard:
            checked.append(raw_password)
        return original(self, raw_password)

    monkeypatch.setattr(Staff, "check_password", counting)
    return checked


def sign_in(client: Client, password: str, *, username: str = "lock.me", path: str = LOGIN):
    return client.post(path, {"username": username, "password": password, "next": ME})


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert response.json() == {
        "code": "locked_out",
        "detail": "Too many failed sign-ins for this username; try again later.",
        "errors": [],
    }
    assert 0 < int(response["Retry-After"]) <= 15 * 60


def fail_times(client: Client, times: int, **kwargs) -> list[int]:
    return [sign_in(client, f"wrong-guess-{n}", **kwargs).status_code for n in range(times)]


def test_thirty_wrong_passwords_get_five_checks_then_the_right_one_is_refused(
    account, password_checks
):
    client = Client()
    statuses = fail_times(client, 30)
    assert statuses == [200] * 5 + [429] * 25  # the form again five times, then locked
    assert len(password_checks) == 5
    right = sign_in(client, PASSWORD)
    assert_locked_out(right)
    assert len(password_checks) == 5  # a locked username has no password checked at all
    assert "_auth_user_id" not in client.session
    assert client.get(ME).status_code == 401


def test_the_admin_login_locks_and_is_locked_the_same_way(account):
    client = Client()
    assert fail_times(client, 3) == [200] * 3
    assert fail_times(client, 2, path=ADMIN_LOGIN) == [200] * 2
    assert_locked_out(sign_in(client, PASSWORD))
    assert_locked_out(sign_in(client, PASSWORD, path=ADMIN_LOGIN))


def test_the_test_clients_login_is_refused_while_locked(account, settings):
    settings.CASELOAD_SIGNIN_ACCOUNT_LIMIT = 5  # locked from every source, this path's included
    fail_times(Client(), 5)
    with pytest.raises(LockedOut):
        Client().login(username="lock.me", password=PASSWORD)


def test_four_failures_do_not_lock(account):
    client = Client()
    fail_times(client, 4)
    assert sign_in(client, PASSWORD).status_code == 302
    assert client.get(ME).json()["username"] == "lock.me"


def test_a_lockout_is_per_username(account, program):
    staff_create(username="neighbour", program=program, role="counselor", password=PASSWORD)
    fail_times(Client(), 5)
    assert sign_in(Client(), PASSWORD, username="neighbour").status_code == 302


def test_failures_older_than_fifteen_minutes_do_not_count(account):
    fail_times(Client(), 4)
    sixteen_minutes_ago = (timezone.now() - timedelta(minutes=16)).isoformat()
    SignInThrottle.objects.filter(username="lock.me").update(failures=[sixteen_minutes_ago] * 4)
    fail_times(Client(), 1)
    assert sign_in(Client(), PASSWORD).status_code == 302


def test_the_lock_ends_after_fifteen_minutes(account):
    fail_times(Client(), 5)
    throttle = SignInThrottle.objects.exclude(source="").get(username="lock.me")
    assert throttle.locked_until - timezone.now() > timedelta(minutes=14)
    assert throttle.locked_until - timezone.now() <= timedelta(minutes=15)
    SignInThrottle.objects.filter(pk=throttle.pk).update(locked_until=timezone.now())
    assert sign_in(Client(), PASSWORD).status_code == 302


def test_an_unknown_username_locks_exactly_like_a_real_one(account):
    """Otherwise the lockout would tell which usernames exist."""
    real = fail_times(Client(), 7)
    unknown = fail_times(Client(), 7, username="no.such.person")
    assert real == unknown == [200] * 5 + [429] * 2


def test_sign_ins_failures_and_the_lockout_are_audited(account):
    client = Client()
    assert sign_in(client, PASSWORD).status_code == 302
    fail_times(Client(), 6)
    events = AuditEvent.objects.filter(action__in=["login", "login_failed", "lockout"])
    rows = [(e.action, e.detail.get("reason"), e.actor_id) for e in events.order_by("occurred_at")]
    assert rows == [
        ("login", None, account.pk),
        *[("login_failed", "invalid_credentials", None)] * 5,
        ("lockout", None, None),
        ("login_failed", "locked_out", None),
    ]
    assert all(e.resource_id == str(account.pk) for e in events)
    assert all(e.program_id == account.program_id for e in events)
    assert all(e.detail["username"] == "lock.me" for e in events)
    assert all(e.detail["via"] == LOGIN for e in events)
    assert all(PASSWORD not in str(e.detail) for e in events)


def test_a_lockout_leaves_the_accounts_tokens_working(account):
    """Guessing someone's password must not cut off their integrations' tokens."""
    _, raw = token_issue(staff=account)
    fail_times(Client(), 5)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(ME).status_code == 200


def test_wrong_bearer_tokens_answer_alike_and_lock_nobody(account):
    _, raw = token_issue(staff=account)
    fail_times(Client(), 5)  # the account is locked: its bad tokens must look like any others
    answers = set()
    # Near misses of the real token: its last character swapped for two others.
    near = [raw[:-1] + c for c in "ABC" if c != raw[-1]][:2]
    for candidate in ("cl_" + "x" * 43, *near, "cl_"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {candidate}")
        response = client.get(ME)
        answers.add((response.status_code, response.content))
    assert len(answers) == 1
    assert answers.pop()[0] == 401
    # Only the username that was guessed: its account-wide row and the one of this source.
    assert set(SignInThrottle.objects.values_list("username", flat=True)) == {"lock.me"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_wrong_passwords_get_at_most_five_checks(
    program, account, password_checks
):
    start = threading.Barrier(20)
    outcomes: list[str] = []
    guard = threading.Lock()

    def attempt(n: int) -> None:
        try:
            start.wait()
            try:
                result = authenticate(None, username="lock.me", password=f"wrong-{n}")
                outcome = "failed" if result is None else "signed_in"
            except LockedOut:
                outcome = "locked"
            with guard:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["failed"] * 5 + ["locked"] * 15
    assert len(password_checks) == 5
    with pytest.raises(LockedOut):
        authenticate(None, username="lock.me", password=PASSWORD)


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def test_an_attacker_elsewhere_cannot_lock_a_user_out(account):
    attacker = from_address("192.0.2.66")  # documentation addresses, as REMOTE_ADDR only
    assert fail_times(attacker, 7) == [200] * 5 + [429] * 2
    assert_locked_out(sign_in(attacker, PASSWORD))
    assert sign_in(from_address("192.0.2.10"), PASSWORD).status_code == 302


def test_guessing_spread_over_many_sources_locks_the_account_everywhere(account, settings):
    settings.CASELOAD_SIGNIN_ACCOUNT_LIMIT = 8
    for n in range(4):
        assert fail_times(from_address(f"198.51.100.{n + 1}"), 2) == [200, 200]
    assert_locked_out(sign_in(from_address("198.51.100.200"), PASSWORD))
    lockout = AuditEvent.objects.get(action="lockout")
    assert lockout.detail["source"] == "any"


def test_a_supervisor_lifts_a_lock(as_user, account, supervisor, counselor):
    fail_times(Client(), 5)
    assert_locked_out(sign_in(Client(), PASSWORD))
    url = f"/api/v1/staff/{account.pk}/unlock-signin/"
    assert as_user(counselor).post(url).status_code == 403
    lifted = as_user(supervisor).post(url)
    assert (lifted.status_code, lifted.json()) == (200, {"lifted": 1})
    assert sign_in(Client(), PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="update", resource_id=str(account.pk))
    assert (event.actor, event.detail["change"]) == (supervisor, "unlock_signin")


def test_the_operator_lifts_a_lock_with_a_command(account):
    import json
    from io import StringIO

    from django.core.management import call_command

    fail_times(Client(), 5)
    out = StringIO()
    call_command("unlock_signin", "lock.me", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == {
        "username": "lock.me",
        "lifted": 1,
    }
    assert sign_in(Client(), PASSWORD).status_code == 302
