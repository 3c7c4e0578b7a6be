from django.conf import settings
from django.db import models

from .base import BaseModel


class CalendarFeed(BaseModel):
    """A staff member's private iCalendar link to their own appointments.

    The link is a secret (a calendar application sends no header); only its SHA-256 digest is
    stored, and revoking the feed makes the link answer 404.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    digest = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"calendar feed {self.pk}"
