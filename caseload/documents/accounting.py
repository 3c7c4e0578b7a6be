"""The accounting of disclosures as the patient gets it: a PDF to read, a CSV to keep."""

from __future__ import annotations

import csv
import io

from caseload.dates import iso_z
from caseload.selectors.accounting import Accounting, AccountingEntry

from .pdf import BASIS_LABELS, BODY, INFORMATION_LABELS, SPACE, build, facts, para, table, when

CSV_COLUMNS = (
    "first_disclosed_at",
    "last_disclosed_at",
    "count",
    "recipient_name",
    "recipient_address",
    "information",
    "purpose",
    "basis",
    "consent",
    "emergency",
    "disclosed_by",
    "court_order_reference",
    "recorded_at",
)
TITLE = "Accounting of disclosures"


def accounting_csv(accounting: Accounting) -> str:
    """One line per entry; `information` lists its kinds separated by `;`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in accounting.entries:
        writer.writerow(
            [
                iso_z(entry.first_disclosed_at),
                iso_z(entry.last_disclosed_at),
                entry.count,
                spreadsheet_safe(entry.recipient_name),
                spreadsheet_safe(entry.recipient_address),
                ";".join(entry.information),
                spreadsheet_safe(entry.purpose),
                entry.basis,
                str(entry.consent or ""),
                spreadsheet_safe(entry.emergency),
                spreadsheet_safe(entry.disclosed_by),
                spreadsheet_safe(entry.court_order_reference),
                iso_z(entry.recorded_at) if entry.recorded_at else "",
            ]
        )
    return out.getvalue()


def spreadsheet_safe(value: object) -> str:
    """A cell as text a spreadsheet shows rather than evaluates (CSV injection): a leading `'`
    before what would start a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def accounting_pdf(accounting: Accounting) -> bytes:
    patient = accounting.patient
    story = facts(
        [
            ("Program", accounting.program_name),
            ("Patient", f"{patient.given_name} {patient.family_name}"),
            ("Medical record number", patient.mrn),
            ("Date of birth", when(patient.birth_date)),
            (
                "Period",
                f"{when(accounting.since, with_time=False)} to "
                f"{when(accounting.until, with_time=False)}",
            ),
            ("Prepared", when(accounting.generated_at)),
        ]
    )
    story += [
        SPACE,
        para(
            "Each disclosure of your records to someone outside the program in this period: "
            "who received it, when, what, why and on what legal basis. Repeated disclosures to "
            "one recipient for one purpose are shown once, with the first and last dates and "
            "how many times.",
            BODY,
        ),
        SPACE,
    ]
    if not accounting.entries:
        story.append(para("No disclosures were recorded in this period.", BODY))
    else:
        story.append(
            table(
                ("Date", "Recipient", "What was disclosed", "Purpose", "Legal basis"),
                (_row(entry) for entry in accounting.entries),
                (0.18, 0.24, 0.18, 0.2, 0.2),
            )
        )
    return build(TITLE, story, subject=f"{TITLE}, MRN {patient.mrn}")


def _row(entry: AccountingEntry) -> list:
    if entry.count == 1:
        dates = when(entry.first_disclosed_at)
    else:
        dates = (
            f"{when(entry.first_disclosed_at)} to {when(entry.last_disclosed_at)} "
            f"({entry.count} times)"
        )
    recipient = "\n".join(v for v in (entry.recipient_name, entry.recipient_address) if v)
    basis = BASIS_LABELS.get(entry.basis, entry.basis)
    details = [
        ("Emergency", entry.emergency),
        ("Disclosed by", entry.disclosed_by),
        ("Order", entry.court_order_reference),
    ]
    basis += "".join(f"\n{label}: {value}" for label, value in details if value)
    if entry.recorded_at is not None:
        basis += f"\nMade outside the system; recorded {when(entry.recorded_at)}"
    what = "\n".join(INFORMATION_LABELS.get(kind, kind) for kind in entry.information)
    return [dates, recipient, what, entry.purpose, basis]
