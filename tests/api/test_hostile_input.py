"""Inputs found by fuzzing the API against its own schema: each once answered 500."""

from datetime import date
from wsgiref.util import setup_testing_defaults

import pytest
from django.core import signals
from django.db import close_old_connections

from caseload.errors import Conflict
from caseload.models import Patient
from caseload.services.records import record_create


@pytest.fixture
def wsgi_without_connection_cycling():
    """Like Django's test client: keep the test's database connection across the request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def call_wsgi(app, **environ) -> tuple[str, bytes]:
    setup_testing_defaults(environ)
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status

    body = b"".join(app(environ, start_response))
    return seen["status"], body


@pytest.mark.parametrize("charset", ["hex", "zlib", "base64", "rot13"])
def test_a_binary_codec_named_as_charset_answers_415_before_django_decodes(charset):
    from config.wsgi import application

    status, body = call_wsgi(
        application,
        PATH_INFO="/api/v1/me/",
        QUERY_STRING="x=1",
        CONTENT_TYPE=f"text/plain; charset={charset}",
        HTTP_HOST="testserver",
    )
    assert status.startswith("415")
    assert b'"field": "Content-Type"' in body


def test_an_ordinary_request_passes_the_charset_guard(db, wsgi_without_connection_cycling):
    from config.wsgi import application

    status, body = call_wsgi(
        application,
        PATH_INFO="/api/v1/me/",
        QUERY_STRING="x=1",
        HTTP_HOST="testserver",
        CONTENT_TYPE="application/json; charset=utf-8",
    )
    assert status.startswith("401")
    assert b"not_authenticated" in body


@pytest.mark.parametrize("charset", ["zlib", "bz2", "rot13", "latin-1"])
def test_json_in_another_charset_answers_415_naming_the_header(as_user, counselor, charset):
    response = as_user(counselor).client.generic(
        "POST",
        "/api/v1/tokens/",
        b'{"name": "x"}',
        content_type=f"application/json; charset={charset}",
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["field"] == "Content-Type"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/tokens/", b'{"\\ud800": 1}'),
        ("/api/v1/appointments/", b'{"kind": "\\ud800"}'),
        ("/api/v1/assessments/", b'{"instrument": "\\ud800"}'),
    ],
)
def test_a_lone_surrogate_echoed_in_an_error_is_a_400(as_user, supervisor, url, body):
    response = as_user(supervisor).client.generic(
        "POST", url, body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("page", ["0", "999", "abc"])
def test_an_invalid_page_names_the_page_parameter(as_user, supervisor, page):
    response = as_user(supervisor).get(f"/api/v1/patients/?page={page}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "page"


@pytest.mark.parametrize("page_size", ["0", "-1", "ten", "%00"])
def test_a_malformed_page_size_is_a_400(as_user, supervisor, page_size):
    response = as_user(supervisor).get(f"/api/v1/patients/?page_size={page_size}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page_size"


def test_a_duplicate_mrn_that_slips_past_the_check_is_named_by_the_database(supervisor, patient):
    """Two requests racing: the service check passed for both, the constraint stops one."""
    with pytest.raises(Conflict) as caught:
        record_create(
            model=Patient,
            actor=supervisor,
            program_id=patient.program_id,
            mrn=patient.mrn,
            given_name="Race",
            family_name="Synthetic",
            birth_date=date(1990, 1, 1),
        )
    assert (caught.value.field, caught.value.code) == ("mrn", "unique")


# Django reads the Content-Type parameters with the last value winning and RFC 2231 forms
# decoded; a guard that read the first value, or skipped `charset*=`, let these through to a 500.
CHARSET_BYPASSES = [
    "application/json; charset=utf-8; charset=hex",
    "application/json; charset=utf-8; charset=base64",
    "application/json; charset=utf-8; charset=zlib_codec",
    "application/json; charset*=utf-8''rot13",
    "application/json; charset*=utf-8''base64",
    "application/json; charset*0=he; charset*1=x",
    'application/json; CHARSET="zlib_codec"',
    "application/json; charset*=bogus''utf-8",
]


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/me/"])
@pytest.mark.parametrize("content_type", CHARSET_BYPASSES)
def test_a_charset_hidden_from_a_naive_parser_answers_415_not_500(
    db, wsgi_without_connection_cycling, path, content_type
):
    from config.wsgi import application

    status, body = call_wsgi(
        application,
        PATH_INFO=path,
        QUERY_STRING="x=1",
        CONTENT_TYPE=content_type,
        HTTP_HOST="testserver",
    )
    assert status.startswith("415")
    assert b'"code": "unsupported_charset"' in body


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=hex; charset=utf-8",
        "application/json; charset*=utf-8''utf-8",
        "application/json; charset*=hex''utf-8",
    ],
)
def test_a_charset_that_django_reads_as_utf8_passes_the_guard(
    db, wsgi_without_connection_cycling, content_type
):
    from config.wsgi import application

    status, _ = call_wsgi(
        application,
        PATH_INFO="/healthz",
        QUERY_STRING="x=1",
        HTTP_HOST="testserver",
        CONTENT_TYPE=content_type,
    )
    assert status.startswith("200")


# Charsets that are text encodings by name but fail on ordinary input: `undefined` refuses
# everything, `idna` and `punycode` fail on non-ASCII text. Each once answered an HTML 500,
# without a token, `/healthz` included.
FAILING_TEXT_CHARSETS = [
    "application/json; charset=undefined",
    'application/json; charset="undefined"',
    "application/json; charset*=utf-8''undefined",
    "application/json; charset*0=undef; charset*1=ined",
    "application/json; charset=utf-8; charset=undefined",
    "application/json; charset=idna",
    "application/json; charset=punycode",
    "application/json; charset*=utf-8''idna",
]


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/me/"])
@pytest.mark.parametrize("query", ["", "q=%C3%A9", "q=\xc3\xa9"])
@pytest.mark.parametrize("content_type", FAILING_TEXT_CHARSETS)
def test_a_charset_that_fails_on_text_answers_415_not_500(
    db, wsgi_without_connection_cycling, path, query, content_type
):
    import io

    from config.wsgi import application

    body = '{"name": "é"}'.encode()
    status, answer = call_wsgi(
        application,
        PATH_INFO=path,
        QUERY_STRING=query,
        CONTENT_TYPE=content_type,
        HTTP_HOST="testserver",
        REQUEST_METHOD="POST" if path != "/healthz" else "GET",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": io.BytesIO(body)},
    )
    assert status.startswith("415"), (status, answer[:200])
    assert b'"code": "unsupported_charset"' in answer


@pytest.mark.parametrize("charset", ["utf-8", "utf-16", "latin-1", "cp1252", "ascii", "utf-8-sig"])
def test_ordinary_text_charsets_stay_usable(charset):
    from api.charset_guard import usable_charset

    assert usable_charset(f"application/json; charset={charset}")
