from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AppointmentViewSet, bare

router = SimpleRouter()
router.register("api/v1/appointments", AppointmentViewSet, basename="appointment")
urlpatterns = [path("bare/", bare), path("healthz", bare), *router.urls]
