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
    FollowUpReason,
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
from .enrollment import (
    COARSE_LEVEL,
    AsamLevel,
    DischargeReason,
    Enrollment,
    EnrollmentStatus,
    LevelOfCare,
)
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
from .treatment import (
    CURRENT_PLAN_STATUSES,
    DIMENSIONS,
    HIGHEST_RATING,
    Placement,
    PlacementStatus,
    PlanStatus,
    TreatmentPlan,
)

__all__ = [
    "COARSE_LEVEL",
    "CURRENT_PLAN_STATUSES",
    "DIMENSIONS",
    "HIGHEST_RATING",
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
    "AsamLevel",
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
    "DischargeReason",
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
    "FollowUpReason",
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
    "Placement",
    "PlacementStatus",
    "PlanStatus",
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
    "TreatmentPlan",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "WithheldReason",
    "is_integration",
]
