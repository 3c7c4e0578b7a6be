"""The replica router's decisions (caseload/routing.py), without a replica: which alias a read
gets, and who may opt in. tests/api/test_read_replica.py runs them against a real standby."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connections

from caseload import routing
from caseload.context import request_context
from caseload.models import AuditEvent, CaseNote, Consent, Disclosure, Patient
from caseload.permissions import SystemActor
from tests.factories import ProgramFactory, StaffFactory

router = routing.ReplicaRouter()


@pytest.fixture
def with_replica(settings, monkeypatch):
    """A replica that is configured and up (nothing connects to it here)."""
    monkeypatch.setattr(routing, "replica_configured", lambda: True)
    settings.CASELOAD_READ_YOUR_WRITES_SECONDS = 10
    monkeypatch.setattr(routing, "replica_usable", lambda: True)
    caches[routing.ROUTING_CACHE].clear()


def test_reads_use_the_primary_unless_the_request_opted_in():
    assert router.db_for_read(Patient) == "default"
    with request_context():
        assert router.db_for_read(Patient) == "default"


def test_an_opted_in_request_reads_records_and_their_history_from_the_replica(monkeypatch):
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with request_context(replica_reads=True):
        assert router.db_for_read(Patient) == "replica"
        assert router.db_for_read(CaseNote) == "replica"
        assert router.db_for_read(Patient.history.model) == "replica"


@pytest.mark.parametrize("model", [AuditEvent, Disclosure, Consent])
def test_the_audit_log_the_ledger_and_consents_always_come_from_the_primary(monkeypatch, model):
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with request_context(replica_reads=True):
        assert router.db_for_read(model) == "default"


def test_a_read_inside_a_transaction_uses_the_primary(monkeypatch):
    monkeypatch.setattr(connections["default"], "in_atomic_block", True)
    with request_context(replica_reads=True):
        assert router.db_for_read(Patient) == "default"


def test_writes_always_go_to_the_primary():
    with request_context(replica_reads=True):
        assert router.db_for_write(Patient) == "default"


def test_migrations_run_on_the_primary_only():
    assert router.allow_migrate("default", "caseload")
    assert not router.allow_migrate("replica", "caseload")


@pytest.mark.django_db
def test_a_staff_member_opts_in_until_they_write(with_replica):
    staff = StaffFactory(program=ProgramFactory(), role="counselor")
    with request_context() as context:
        assert routing.allow_replica_reads(staff)
        assert context.replica_reads

    routing.note_write(staff)

    with request_context() as context:
        assert not routing.allow_replica_reads(staff)
        assert not context.replica_reads


@pytest.mark.django_db
def test_the_window_is_per_staff_member(with_replica):
    program = ProgramFactory()
    writer = StaffFactory(program=program, role="counselor")
    reader = StaffFactory(program=program, role="counselor")

    routing.note_write(writer)

    with request_context():
        assert routing.allow_replica_reads(reader)


def test_system_actors_and_anonymous_requests_never_opt_in(with_replica):
    with request_context():
        assert not routing.allow_replica_reads(SystemActor(name="scheduler", grants=frozenset()))
        assert not routing.allow_replica_reads(None)


@pytest.mark.django_db
def test_an_unreachable_cache_sends_the_read_to_the_primary(with_replica, monkeypatch):
    staff = StaffFactory(program=ProgramFactory(), role="counselor")

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(caches[routing.ROUTING_CACHE], "get", down)
    monkeypatch.setattr(caches[routing.ROUTING_CACHE], "set", down)

    routing.note_write(staff)  # does not raise: the write already committed
    with request_context():
        assert not routing.allow_replica_reads(staff)


@pytest.mark.django_db
def test_a_replica_that_fails_is_left_for_the_rest_of_the_request(with_replica):
    staff = StaffFactory(program=ProgramFactory(), role="counselor")
    with request_context() as context:
        routing.allow_replica_reads(staff)
        routing.replica_failed()
        assert not context.replica_reads
    routing.forget_replica_state()


def test_without_a_replica_nothing_opts_in(settings):
    assert "replica" not in settings.DATABASES
    with request_context():
        assert not routing.allow_replica_reads(object())
