from django.conf import settings
from django.db import models

from .base import BaseModel


class CalendarFeed(BaseModel):
    """A staff member's private iCalendar link to their own appointments.

    The link is a secret (a calendar application sends no header); only its SHA-256 digest is
    stored, and revoking the feed makes the link answer 404. Making one takes the owner's
    password; revoking the owner's tokens revokes their feeds.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    digest = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The personal token the request that made it carried (none for a browser session): revoking
    # that token revokes the feed too.
    minted_with = models.ForeignKey(
        "caseload.ApiToken", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"calendar feed {self.pk}"
