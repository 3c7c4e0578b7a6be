from .appointment import Appointment, AppointmentKind, AppointmentStatus
from .audit import AuditEvent
from .base import BaseModel, RecordStatus
from .enrollment import Enrollment, EnrollmentStatus, LevelOfCare
from .note import CaseNote
from .patient import Patient, PatientGroupObjectPermission, PatientUserObjectPermission
from .program import Program
from .staff import Role, Staff
from .token import ApiToken

__all__ = [
    "ApiToken",
    "Appointment",
    "AppointmentKind",
    "AppointmentStatus",
    "AuditEvent",
    "BaseModel",
    "CaseNote",
    "Enrollment",
    "EnrollmentStatus",
    "LevelOfCare",
    "Patient",
    "PatientGroupObjectPermission",
    "PatientUserObjectPermission",
    "Program",
    "RecordStatus",
    "Role",
    "Staff",
]
