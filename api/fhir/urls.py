from django.urls import path, re_path

from .views import (
    AppointmentRead,
    AppointmentSearch,
    MetadataView,
    NotFoundView,
    PatientRead,
    PatientSearch,
)

urlpatterns = [
    path("metadata", MetadataView.as_view(), name="fhir-metadata"),
    path("Appointment", AppointmentSearch.as_view(), name="fhir-appointment-search"),
    path("Appointment/<str:pk>", AppointmentRead.as_view(), name="fhir-appointment-read"),
    path("Patient", PatientSearch.as_view(), name="fhir-patient-search"),
    path("Patient/<str:pk>", PatientRead.as_view(), name="fhir-patient-read"),
    re_path(r"^.*$", NotFoundView.as_view(), name="fhir-not-found"),
]
