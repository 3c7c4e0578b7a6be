"""Each demo persona's day in the console, against the demo program `serve` loads: every page
their navigation offers, every patient their caseload lists, and every form a patient page offers
them, answer 200. The browser tests walk the same pages with their own data."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from caseload.models import Staff

from .conftest import console_for

PERSONAS = ("demo.counselor", "demo.prescriber", "demo.supervisor", "demo.frontdesk")
PATIENT_LINK = re.compile(r'href="(/console/patients/[0-9a-f-]{36}/)"')
FORM_LINK = re.compile(r'href="(/console/patients/[0-9a-f-]{36}/[^"]*/new/)"')
CLINICAL_FORM = re.compile(r"/(assessments|notes|treatment-plans|placements)/")


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


def links(response, pattern: re.Pattern) -> set[str]:
    return set(pattern.findall(response.content.decode()))


@pytest.mark.parametrize("username", PERSONAS)
def test_a_persona_does_their_day_on_the_demo_program(demo, username):
    client = console_for(Staff.objects.get(username=username))
    home = client.get("/console/", follow=True)
    assert home.status_code == 200
    nav = [reverse(name) for name, _ in home.context["nav"]]
    assert nav, "every persona has a navigation"
    for page in nav:
        assert client.get(page).status_code == 200, page

    patients = links(client.get(reverse("console:caseload")), PATIENT_LINK)
    assert len(patients) >= 2, "the demo caseload lists DEMO-0001 and DEMO-0002"
    forms = set()
    for page in patients:
        shown = client.get(page)
        assert shown.status_code == 200, page
        forms |= links(shown, FORM_LINK)
    for form in forms:
        assert client.get(form).status_code == 200, form
    clinical = {f for f in forms if CLINICAL_FORM.search(f)}
    if username == "demo.frontdesk":
        assert not clinical, "front desk is offered nothing clinical"
    else:
        assert any("/assessments/cows/new/" in f for f in clinical), "clinicians record a COWS"
