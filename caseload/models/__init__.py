from .appointment import Appointment, AppointmentKind, AppointmentStatus
from .assessment import Assessment, Instrument
from .audit import AuditEvent
from .base import BaseModel, CorrectableRecord, RecordStatus
from .drug_screen import DrugScreen, DrugScreenResult, ScreenMethod, ScreenResult, Substance
from .enrollment import Enrollment, EnrollmentStatus, LevelOfCare
from .medication import (
    SETTABLE_MEDICATION_STATUSES,
    DoseUnit,
    Medication,
    MedicationRecord,
    MedicationStatus,
    Route,
)
from .note import CaseNote
from .patient import Patient, PatientGroupObjectPermission, PatientUserObjectPermission
from .program import Program
from .referral import Referral, ReferralStatus, SupportGroup
from .signin import SignInThrottle
from .staff import Role, Staff
from .token import ApiToken

__all__ = [
    "SETTABLE_MEDICATION_STATUSES",
    "ApiToken",
    "Appointment",
    "AppointmentKind",
    "AppointmentStatus",
    "Assessment",
    "AuditEvent",
    "BaseModel",
    "CaseNote",
    "CorrectableRecord",
    "DoseUnit",
    "DrugScreen",
    "DrugScreenResult",
    "Enrollment",
    "EnrollmentStatus",
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
