from django.urls import path
from rest_framework.routers import DefaultRouter

from .alerts import AlertViewSet
from .amendments import AmendmentViewSet
from .appointments import AppointmentViewSet
from .assessments import AssessmentViewSet
from .audit_events import AuditEventViewSet
from .break_glass import BreakGlassViewSet
from .calendar_feeds import CalendarFeedViewSet
from .consents import ConsentViewSet
from .disclosures import DisclosureViewSet
from .drug_screens import DrugScreenViewSet
from .enrollments import EnrollmentViewSet
from .follow_ups import FollowUpViewSet
from .instruments import InstrumentsView
from .integrations import IntegrationClientViewSet
from .me import MeView
from .medications import MedicationViewSet
from .notes import CaseNoteViewSet
from .patients import PatientViewSet
from .placements import PlacementViewSet
from .referrals import ReferralViewSet
from .reports import (
    AdmissionsDischargesView,
    CensusView,
    PharmacotherapyContinuityView,
    PlanReviewsView,
)
from .staff import StaffViewSet
from .tokens import TokenViewSet
from .treatment_plans import TreatmentPlanViewSet
from .webhooks import WebhookViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
# No `.json`-style suffix routes: one URL per resource, and `/staff/0.5/` is a plain 404.
router.include_format_suffixes = False
router.register("patients", PatientViewSet, basename="patient")
router.register("enrollments", EnrollmentViewSet, basename="enrollment")
router.register("notes", CaseNoteViewSet, basename="casenote")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("medications", MedicationViewSet, basename="medicationrecord")
router.register("drug-screens", DrugScreenViewSet, basename="drugscreen")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("placements", PlacementViewSet, basename="placement")
router.register("treatment-plans", TreatmentPlanViewSet, basename="treatmentplan")
router.register("staff", StaffViewSet, basename="staff")
router.register("tokens", TokenViewSet, basename="apitoken")
router.register("audit-events", AuditEventViewSet, basename="auditevent")
router.register("break-glass", BreakGlassViewSet, basename="breakglass")
router.register("consents", ConsentViewSet, basename="consent")
router.register("disclosures", DisclosureViewSet, basename="disclosure")
router.register("amendments", AmendmentViewSet, basename="amendmentrequest")
router.register("integrations", IntegrationClientViewSet, basename="integrationclient")
router.register("calendar-feeds", CalendarFeedViewSet, basename="calendarfeed")
router.register("follow-ups", FollowUpViewSet, basename="followup")
router.register("alerts", AlertViewSet, basename="alert")
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("instruments/", InstrumentsView.as_view(), name="instruments"),
    path("reports/census/", CensusView.as_view(), name="report-census"),
    path(
        "reports/admissions-discharges/",
        AdmissionsDischargesView.as_view(),
        name="report-admissions-discharges",
    ),
    path("reports/plan-reviews/", PlanReviewsView.as_view(), name="report-plan-reviews"),
    path(
        "reports/pharmacotherapy-continuity/",
        PharmacotherapyContinuityView.as_view(),
        name="report-pharmacotherapy-continuity",
    ),
    *router.urls,
]
