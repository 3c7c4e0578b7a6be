"""Integration clients: scheduling, reminder and EHR systems that pull data with OAuth2.

A client is domain data (its program, the scopes it was given, the legal basis on which it may
receive patient information) attached to a django-oauth-toolkit `Application`, which holds the
client id and the hashed secret and issues the access tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import models

from .base import BaseModel
from .disclosure import DisclosureBasis


class IntegrationScope(models.TextChoices):
    APPOINTMENTS_READ = "appointments:read", "Read appointments"
    PATIENTS_READ = "patients:read", "Read patient demographics and contact details"


class IntegrationClient(BaseModel):
    """A system of one program that reads what its scopes name, never writes."""

    program = models.ForeignKey(
        "caseload.Program", on_delete=models.PROTECT, related_name="integration_clients"
    )
    name = models.CharField(max_length=100)
    # How a patient's accounting of disclosures names the recipient (blank: `name`).
    legal_name = models.CharField(max_length=200, blank=True, default="")
    address = models.CharField(max_length=500, blank=True, default="")
    scopes = models.JSONField(default=list)
    basis = models.CharField(max_length=10, choices=DisclosureBasis.choices)
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.PROTECT,
        related_name="integration",
    )
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(basis__in=DisclosureBasis.values),
                name="integrationclient_basis_valid",
            ),
            models.UniqueConstraint(
                fields=["program", "name"], name="integrationclient_name_unique_in_program"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, eq=False)
class IntegrationPrincipal:
    """Who an OAuth2 access token speaks for: one integration client, never a staff member.

    `scopes` are those of the token that the client still holds (a scope taken away from the
    client stops working at once, whatever tokens say).
    """

    client: IntegrationClient
    scopes: frozenset[str] = field(default_factory=frozenset)

    is_integration = True
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    role = "integration"
    pk = None
    id = None

    @property
    def program_id(self):
        return self.client.program_id

    @property
    def client_id(self):
        return self.client.pk

    def has_perm(self, perm: str, obj=None) -> bool:
        return False  # an integration holds no staff permission; see caseload.permissions

    def __str__(self) -> str:
        return f"integration {self.client.name}"


def is_integration(user: object) -> bool:
    return bool(getattr(user, "is_integration", False))
