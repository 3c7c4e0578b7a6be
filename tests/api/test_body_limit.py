"""Bodies over CASELOAD_MAX_BODY_BYTES answer 413 `payload_too_large` before they are read."""

from __future__ import annotations

import io
import json

import pytest
from django.test import override_settings

from caseload.models import Patient
from caseload.services.tokens import token_issue
from tests.api.test_hostile_input import (  # noqa: F401 - the fixture is used by name
    call_wsgi,
    wsgi_without_connection_cycling,
)
from tests.gunicorn_server import running_gunicorn

PATIENTS = "/api/v1/patients/"
MIB = 1024 * 1024


def patient_body(size: int) -> bytes:
    """A patient that would be valid, padded with a long `family_name` to `size` bytes."""
    fields = {"mrn": "BIG-1", "given_name": "Eli", "birth_date": "1990-01-01", "family_name": ""}
    padding = size - len(json.dumps(fields).encode())
    return json.dumps(fields | {"family_name": "x" * padding}).encode()


def assert_too_large(status: int | str, body: bytes) -> None:
    assert str(status).startswith("413")
    payload = json.loads(body)
    assert payload["code"] == "payload_too_large"
    assert payload["errors"][0]["field"] == "body"


class Untouchable(io.RawIOBase):
    """A request stream that counts what is read from it."""

    def __init__(self, data: bytes = b""):
        self.stream = io.BytesIO(data)
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_json_body_over_one_mib_answers_413_and_writes_nothing(as_user, supervisor):
    response = as_user(supervisor).client.generic(
        "POST", PATIENTS, patient_body(MIB + 1), content_type="application/json"
    )
    assert_too_large(response.status_code, response.content)
    assert not Patient.objects.filter(mrn="BIG-1").exists()


def test_a_body_of_exactly_the_limit_is_read(as_user, supervisor):
    response = as_user(supervisor).client.generic(
        "POST", PATIENTS, patient_body(MIB), content_type="application/json"
    )
    # Read and validated: the padded family name is too long for its column.
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "family_name"


@override_settings(CASELOAD_MAX_BODY_BYTES=200)
def test_the_limit_comes_from_settings(as_user, supervisor):
    api = as_user(supervisor)
    small = api.client.generic("POST", PATIENTS, patient_body(150), content_type="application/json")
    assert small.status_code == 201
    large = api.client.generic("POST", PATIENTS, patient_body(201), content_type="application/json")
    assert_too_large(large.status_code, large.content)


def test_the_wsgi_guard_refuses_a_declared_150_mib_body_without_reading_it():
    from config.wsgi import application

    stream = Untouchable(b"{" * 1024)
    status, body = call_wsgi(
        application,
        REQUEST_METHOD="POST",
        PATH_INFO=PATIENTS,
        HTTP_HOST="testserver",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(150 * MIB),
        **{"wsgi.input": stream},
    )
    assert_too_large(status, body)
    assert stream.bytes_read == 0


def test_the_wsgi_guard_reads_a_chunked_body_only_one_byte_past_the_limit():
    from config.wsgi import application

    stream = Untouchable(b" " * (3 * MIB))
    status, body = call_wsgi(
        application,
        REQUEST_METHOD="POST",
        PATH_INFO=PATIENTS,
        HTTP_HOST="testserver",
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream},
    )
    assert_too_large(status, body)
    assert stream.bytes_read == MIB + 1


@pytest.mark.usefixtures("wsgi_without_connection_cycling")
def test_a_small_chunked_body_reaches_the_api(db, supervisor):
    from config.wsgi import application

    _, raw = token_issue(staff=supervisor)
    status, body = call_wsgi(
        application,
        REQUEST_METHOD="POST",
        PATH_INFO=PATIENTS,
        HTTP_HOST="testserver",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(b'{"mrn": "CHUNKED-1"}')},
    )
    # Django read the body: the fields it lacks are named.
    assert status.startswith("400")
    assert {e["field"] for e in json.loads(body)["errors"]} >= {"given_name", "family_name"}


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    with running_gunicorn(tmp_path_factory.mktemp("gunicorn") / "db.sqlite3") as server:
        yield server


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_real_server_refuses_a_100_mib_body_at_once(gunicorn, chunked):
    answer = gunicorn.post(PATIENTS, 100 * MIB, chunked=chunked)
    assert answer.status == 413
    assert b'"payload_too_large"' in answer.head
    # Refused after at most the limit (plus what sat in socket buffers), not after 100 MiB. The
    # bytes decide, not the seconds: bench/body_limit.py measures the time.
    assert answer.body_bytes_sent < 16 * MIB


@pytest.mark.parametrize("path", ["/healthz?x=1", "/api/v1/me/?x=1"])
def test_a_real_server_answers_a_hidden_binary_charset_with_415(gunicorn, path):
    """The charset guard holds under gunicorn too: none of these is a 500."""
    for content_type in (
        "application/json; charset=utf-8; charset=hex",
        "application/json; charset*=utf-8''rot13",
        "application/json; charset=utf-8; charset=zlib_codec",
    ):
        assert gunicorn.get_status(path, content_type=content_type) == 415
    assert gunicorn.get_status(path, content_type="application/json; charset=utf-8") in {200, 401}
