from .appointment import Appointment, AppointmentKind, AppointmentStatus
from .assessment import Assessment, Instrument
from .audit import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    AuditPatientSet,
    AuditSeal,
    AuditSealRun,
)
from .base import BaseModel, RecordStatus
from .break_glass import BreakGlass
from .consent import Consent, ConsentStatus, InformationCategory
from .disclosure import Disclosure, DisclosureBasis
from .drug_screen import DrugScreen, DrugScreenResult, ScreenMethod, ScreenResult, Substance
from .enrollment import Enrollment, EnrollmentStatus, LevelOfCare
from .medication import DoseUnit, Medication, MedicationRecord, MedicationStatus, Route
from .note import CaseNote
from .patient import Patient, PatientGroupObjectPermission, PatientUserObjectPermission
from .program import Program
from .referral import Referral, ReferralStatus, SupportGroup
from .signin import SignInThrottle
from .staff import Role, Staff
from .token import ApiToken

__all__ = [
    "ApiToken",
    "Appointment",
    "AppointmentKind",
    "AppointmentStatus",
    "Assessment",
    "AuditAction",
    "AuditEvent",
    "AuditOutcome",
    "AuditPatientSet",
    "AuditSeal",
    "AuditSealRun",
    "BaseModel",
    "BreakGlass",
    "CaseNote",
    "Consent",
    "ConsentStatus",
    "Disclosure",
    "DisclosureBasis",
    "DoseUnit",
    "DrugScreen",
    "DrugScreenResult",
    "Enrollment",
    "EnrollmentStatus",
    "InformationCategory",
    "Instrument",
    "LevelOfCare",
    "Medication",
    "MedicationRecord",
    "MedicationStatus",
    "Patient",
    "PatientGroupObjectPermission",
    "PatientUserObjectPermission",
    "Program",
    "RecordStatus",
    "Referral",
    "ReferralStatus",
    "Role",
    "Route",
    "ScreenMethod",
    "ScreenResult",
    "SignInThrottle",
    "Staff",
    "Substance",
    "SupportGroup",
]
