"""The patient's copy of their record as a PDF: one section per kind of record, newest first,
records entered in error shown as such with the reason."""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from caseload.selectors.record_set import EXCLUDED, RecordSet

from .pdf import BODY, INFORMATION_LABELS, SECTION, SPACE, build, facts, para, table, when

TITLE = "Copy of your record"
ENTERED_IN_ERROR = "entered_in_error"


def _label(value: object) -> str:
    return str(value or "").replace("_", " ")


def _status(record: models.Model) -> str:
    status = getattr(record, "status", "")
    if status == ENTERED_IN_ERROR:
        return f"entered in error: {record.entered_in_error_reason}"
    return _label(status)


def _enrollment(e) -> list:
    discharge = when(e.discharged_on) + (f" ({e.discharge_reason})" if e.discharge_reason else "")
    return [when(e.admitted_on), discharge, _label(e.level_of_care), _status(e)]


def _assessment(a) -> list:
    if a.instrument == "withdrawal_checklist":
        result = f"{a.criteria_met} of 9 criteria"
    else:
        result = f"{a.total_score} ({_label(a.severity)})"
    return [when(a.administered_at), _label(a.instrument).upper(), result, _status(a)]


def _medication(m) -> list:
    return [
        m.get_medication_display(),
        f"{m.dose.normalize():f} {m.dose_unit}, {m.frequency}, {_label(m.route)}",
        when(m.start_date),
        when(m.end_date),
        _status(m),
    ]


def _screen(s) -> list:
    results = ", ".join(f"{_label(r.substance)}: {r.result}" for r in s.results.all())
    return [when(s.collected_at), _label(s.method), results, _status(s)]


def _referral(r) -> list:
    group = r.group_name or _label(r.group)
    return [group, when(r.referred_on), _status(r)]


def _appointment(a) -> list:
    return [when(a.start), _label(a.kind), a.location, _label(a.status)]


# kind -> (heading, column headings, widths, row builder)
SECTIONS: dict[str, tuple[str, tuple[str, ...], tuple[float, ...], Callable]] = {
    "enrollments": (
        "Enrollments",
        ("Admitted", "Discharged", "Level of care", "Status"),
        (0.2, 0.35, 0.2, 0.25),
        _enrollment,
    ),
    "assessments": (
        "Withdrawal assessments",
        ("When", "Instrument", "Result", "Status"),
        (0.22, 0.28, 0.25, 0.25),
        _assessment,
    ),
    "medications": (
        "Medications",
        ("Medication", "As prescribed", "Started", "Ended", "Status"),
        (0.18, 0.34, 0.14, 0.14, 0.2),
        _medication,
    ),
    "drug_screens": (
        "Drug screens",
        ("Collected", "Method", "Results", "Status"),
        (0.2, 0.15, 0.45, 0.2),
        _screen,
    ),
    "referrals": (
        "Support-group referrals",
        ("Group", "Referred", "Status"),
        (0.45, 0.25, 0.3),
        _referral,
    ),
    "appointments": (
        "Appointments",
        ("When", "Kind", "Where", "Status"),
        (0.25, 0.25, 0.3, 0.2),
        _appointment,
    ),
}


def record_copy_pdf(record_set: RecordSet) -> bytes:
    patient = record_set.patient
    address = ", ".join(
        v for v in (patient.address_line, patient.city, patient.state, patient.postal_code) if v
    )
    story = facts(
        [
            ("Program", record_set.program_name),
            ("Patient", f"{patient.given_name} {patient.family_name}"),
            ("Medical record number", patient.mrn),
            ("Date of birth", when(patient.birth_date)),
            ("Address", address or "not recorded"),
            ("Phone", patient.phone or "not recorded"),
            ("Email", patient.email or "not recorded"),
            ("Prepared", when(record_set.generated_at)),
        ]
    )
    story += [
        SPACE,
        para(
            "Your records at this program, given to you at your request (45 CFR 164.524, "
            "42 CFR 2.23). " + " ".join(EXCLUDED.values()),
            BODY,
        ),
    ]
    for kind, (heading, header, widths, row) in SECTIONS.items():
        story.append(para(heading, SECTION))
        records = record_set.kinds.get(kind, [])
        if records:
            story.append(table(header, (row(r) for r in records), widths))
        else:
            story.append(para("None recorded.", BODY))
    story.append(para("Consents to disclose your records", SECTION))
    if record_set.consents:
        story.append(
            table(
                ("Signed", "Recipient", "What", "Purpose", "Ends"),
                (_consent(c) for c in record_set.consents),
                (0.16, 0.22, 0.2, 0.22, 0.2),
            )
        )
    else:
        story.append(para("None recorded.", BODY))
    return build(TITLE, story, subject=f"{TITLE}, MRN {patient.mrn}")


def _consent(c) -> list:
    ends = when(c.expires_at) if c.expires_at else c.expiry_event
    if c.revoked_at:
        ends = f"revoked {when(c.revoked_at)}"
    elif c.expiry_event_occurred_at:
        ends = f"{c.expiry_event} ({when(c.expiry_event_occurred_at)})"
    what = "\n".join(INFORMATION_LABELS.get(i, i) for i in c.information)
    signed = f"{when(c.signed_at)}\n{c.signed_by}"
    return [signed, c.recipient_name, what, c.purpose, ends]
