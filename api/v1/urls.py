from django.urls import path
from rest_framework.routers import DefaultRouter

from .appointments import AppointmentViewSet
from .enrollments import EnrollmentViewSet
from .me import MeView
from .notes import CaseNoteViewSet
from .patients import PatientViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("patients", PatientViewSet, basename="patient")
router.register("enrollments", EnrollmentViewSet, basename="enrollment")
router.register("notes", CaseNoteViewSet, basename="casenote")
router.register("appointments", AppointmentViewSet, basename="appointment")

urlpatterns = [path("me/", MeView.as_view(), name="me"), *router.urls]
