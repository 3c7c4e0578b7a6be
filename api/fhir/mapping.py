"""Caseload records as FHIR R4 resources, and FHIR's own error and bundle shapes.

Only what an integration may receive is mapped: an appointment's schedule and participants, a
patient's demographics and contact details. Every resource and bundle carries the `42CFRPart2`
security label (with the no-redisclosure refrain), the machine-readable form of the 42 CFR
2.32 notice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caseload.dates import iso_z
from caseload.models import Appointment, AppointmentKind, Patient

FHIR_VERSION = "4.0.1"
MEDIA_TYPE = "application/fhir+json"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SECURITY = [
    {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {
        "system": ACT_CODE,
        "code": "NORDSCLCD",
        "display": "no redisclosure without consent directive",
    },
]
KIND_SYSTEM = "urn:caseload:appointment-kind"


def mrn_system(program_code: str) -> str:
    return f"urn:caseload:program:{program_code}:mrn"


def instant(moment: datetime) -> str:
    return iso_z(moment)


def _meta(record) -> dict[str, Any]:
    return {
        "versionId": str(record.version),
        "lastUpdated": instant(record.updated_at),
        "security": SECURITY,
    }


def appointment_resource(appointment: Appointment) -> dict[str, Any]:
    participants = [
        {"actor": {"reference": f"Patient/{appointment.patient_id}"}, "status": "accepted"},
        {"actor": {"reference": f"Practitioner/{appointment.staff_id}"}, "status": "accepted"},
    ]
    if appointment.location:
        participants.append(
            {
                "type": [{"text": "location"}],
                "actor": {"display": appointment.location},
                "status": "accepted",
            }
        )
    return {
        "resourceType": "Appointment",
        "id": str(appointment.pk),
        "meta": _meta(appointment),
        "status": appointment.status,
        "appointmentType": {
            "coding": [
                {
                    "system": KIND_SYSTEM,
                    "code": appointment.kind,
                    "display": AppointmentKind(appointment.kind).label,
                }
            ],
            "text": AppointmentKind(appointment.kind).label,
        },
        "start": instant(appointment.start),
        "end": instant(appointment.end),
        "participant": participants,
    }


def patient_resource(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": _meta(patient),
        "identifier": [
            {"use": "usual", "system": mrn_system(patient.program.code), "value": patient.mrn}
        ],
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "birthDate": patient.birth_date.isoformat(),
    }
    telecom = [
        {"system": system, "value": value}
        for system, value in (("phone", patient.phone), ("email", patient.email))
        if value
    ]
    if telecom:
        resource["telecom"] = telecom
    address = {
        key: value
        for key, value in (
            ("line", [patient.address_line] if patient.address_line else None),
            ("city", patient.city),
            ("state", patient.state),
            ("postalCode", patient.postal_code),
        )
        if value
    }
    if address:
        resource["address"] = [address]
    return resource


def search_bundle(
    *, self_url: str, next_url: str | None, base: str, resources: list[dict[str, Any]]
) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "meta": {"security": SECURITY},
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }


# HTTP status -> OperationOutcome issue code (FHIR R4 IssueType).
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    410: "deleted",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    429: "throttled",
}


def operation_outcome(
    status: int, detail: str, *, code: str, expression: list[str] | None = None
) -> dict[str, Any]:
    """One issue per failing field (`expression` names it) or one for the whole request."""
    issue_code = ISSUE_CODES.get(status, "exception")
    issues = [
        {
            "severity": "error",
            "code": issue_code,
            "details": {"coding": [{"system": "urn:caseload:error", "code": code}], "text": detail},
            **({"expression": [name]} if name else {}),
        }
        for name in (expression or [None])
    ]
    return {"resourceType": "OperationOutcome", "issue": issues}


def capability_statement(*, base: str, now: datetime) -> dict[str, Any]:
    def resource(kind: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        return {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": name, "type": kind_} for name, kind_ in params],
        }

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(now),
        "publisher": "Caseload",
        "kind": "instance",
        "implementation": {"description": "Caseload FHIR R4 interface", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [MEDIA_TYPE, "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": "Bearer tokens from POST /o/token/ (client credentials, "
                    "scopes appointments:read and patients:read), or a staff personal token.",
                },
                "resource": [
                    resource(
                        "Appointment",
                        [
                            ("date", "date"),
                            ("_lastUpdated", "date"),
                            ("patient", "reference"),
                            ("actor", "reference"),
                            ("status", "token"),
                            ("_count", "number"),
                        ],
                    ),
                    resource("Patient", [("identifier", "token"), ("_count", "number")]),
                ],
            }
        ],
    }
