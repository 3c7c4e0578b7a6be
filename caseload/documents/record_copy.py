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


def _amendment_notes(record_set: RecordSet) -> dict:
    """Record id -> what the copy says beside it about amendment requests naming it."""
    notes: dict = {}
    for amendment in record_set.amendments:
        asked = when(amendment.requested_at, with_time=False)
        note = f"Amendment requested {asked}: {_label(amendment.status)}"
        if amendment.disagreement:
            note += "; your statement of disagreement is attached (see Amendment requests)"
        notes.setdefault(amendment.record_id, []).append(note)
        if amendment.replacement_id:
            notes.setdefault(amendment.replacement_id, []).append(
                f"Corrects a record at your request of {asked}"
            )
    return notes


def _with_notes(cells: list, notes: list[str]) -> list:
    """The status (every section's last column) followed by the amendment notes."""
    if notes:
        cells[-1] = "\n".join([cells[-1], *notes])
    return cells


def _cover(record_set: RecordSet) -> list:
    """Who the copy is of, when it was made, and what it leaves out and why."""
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
    return [
        *story,
        SPACE,
        para(
            "Your records at this program, given to you at your request (45 CFR 164.524, "
            "42 CFR 2.23). " + " ".join(EXCLUDED.values()),
            BODY,
        ),
    ]


def record_copy_pdf(record_set: RecordSet) -> bytes:
    patient = record_set.patient
    amended = _amendment_notes(record_set)
    story = _cover(record_set)
    for kind, (heading, header, widths, row) in SECTIONS.items():
        story.append(para(heading, SECTION))
        records = record_set.kinds.get(kind, [])
        if records:
            rows = (_with_notes(row(r), amended.get(r.pk, [])) for r in records)
            story.append(table(header, rows, widths))
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
    if record_set.amendments:
        story.append(para("Amendment requests", SECTION))
        story.append(
            table(
                ("Requested", "Record", "Change asked for", "Decision", "Your statement"),
                (_amendment(a) for a in record_set.amendments),
                (0.14, 0.14, 0.26, 0.24, 0.22),
            )
        )
    return build(TITLE, story, subject=f"{TITLE}, MRN {patient.mrn}")


RECORD_NAMES = {
    "assessment": "Withdrawal assessment",
    "medicationrecord": "Medication",
    "drugscreen": "Drug screen",
    "referral": "Referral",
    "casenote": "Counseling note",
}


def _amendment(a) -> list:
    decision = _label(a.status)
    if a.decided_at:
        decision += f" {when(a.decided_at, with_time=False)}"
    if a.denial_reason:
        decision += f"\nReason: {a.denial_reason}"
    if a.status == "pending":
        decision += f"\ndue {when(a.due_at, with_time=False)}"
    statement = a.disagreement
    if a.disagreement_at:
        statement += f"\n(filed {when(a.disagreement_at, with_time=False)})"
    return [
        when(a.requested_at, with_time=False),
        RECORD_NAMES.get(a.record_type, a.record_type),
        a.requested_change,
        decision,
        statement,
    ]


def _consent(c) -> list:
    ends = when(c.expires_at) if c.expires_at else c.expiry_event
    if c.revoked_at:
        ends = f"revoked {when(c.revoked_at)}"
    elif c.expiry_event_occurred_at:
        ends = f"{c.expiry_event} ({when(c.expiry_event_occurred_at)})"
    what = "\n".join(INFORMATION_LABELS.get(i, i) for i in c.information)
    signed = f"{when(c.signed_at)}\n{c.signed_by}"
    return [signed, c.recipient_name, what, c.purpose, ends]
