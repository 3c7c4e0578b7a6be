from .amendment import AmendedRecordType, AmendmentRequest, AmendmentStatus
from .appointment import Appointment, AppointmentKind, AppointmentStatus
from .assessment import Assessment, Instrument
from .audit import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    AuditPatientSet,
    AuditSeal,
    AuditSealRun,
    SealKind,
)
from .background import (
    Alert,
    AlertKind,
    AlertStatus,
    DeliveryStatus,
    FollowUp,
    FollowUpStatus,
    OutboxEvent,
    Reminder,
    ReminderChannel,
    ReminderStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
    WithheldReason,
)
from .base import BaseModel, CorrectableRecord, RecordStatus
from .break_glass import BreakGlass
from .calendar_feed import CalendarFeed
from .consent import Consent, ConsentStatus, InformationCategory, SignerRole
from .disclosure import Disclosure, DisclosureBasis, LedgerBasis
from .drug_screen import DrugScreen, DrugScreenResult, ScreenMethod, ScreenResult, Substance
from .enrollment import Enrollment, EnrollmentStatus, LevelOfCare
from .feed import FeedClock, FeedRecord
from .integration import (
    IntegrationClient,
    IntegrationPrincipal,
    IntegrationScope,
    is_integration,
)
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
    "Alert",
    "AlertKind",
    "AlertStatus",
    "AmendedRecordType",
    "AmendmentRequest",
    "AmendmentStatus",
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
    "CalendarFeed",
    "CaseNote",
    "Consent",
    "ConsentStatus",
    "CorrectableRecord",
    "DeliveryStatus",
    "Disclosure",
    "DisclosureBasis",
    "DoseUnit",
    "DrugScreen",
    "DrugScreenResult",
    "Enrollment",
    "EnrollmentStatus",
    "FeedClock",
    "FeedRecord",
    "FollowUp",
    "FollowUpStatus",
    "InformationCategory",
    "Instrument",
    "IntegrationClient",
    "IntegrationPrincipal",
    "IntegrationScope",
    "LedgerBasis",
    "LevelOfCare",
    "Medication",
    "MedicationRecord",
    "MedicationStatus",
    "OutboxEvent",
    "Patient",
    "PatientGroupObjectPermission",
    "PatientUserObjectPermission",
    "Program",
    "RecordStatus",
    "Referral",
    "ReferralStatus",
    "Reminder",
    "ReminderChannel",
    "ReminderStatus",
    "Role",
    "Route",
    "ScreenMethod",
    "ScreenResult",
    "SealKind",
    "SignInThrottle",
    "SignerRole",
    "Staff",
    "Substance",
    "SupportGroup",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "WithheldReason",
    "is_integration",
]
