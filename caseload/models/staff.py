import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    COUNSELOR = "counselor", "Counselor"
    PRESCRIBER = "prescriber", "Prescriber"
    SUPERVISOR = "supervisor", "Supervisor"
    FRONT_DESK = "front_desk", "Front desk"


class Staff(AbstractUser):
    """A program's staff member. Integration clients are not staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    program = models.ForeignKey(
        "caseload.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )

    class Meta:
        ordering = ["username"]
        verbose_name_plural = "staff"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values) | models.Q(role=""),
                name="staff_role_valid",
            ),
            # Every staff member with a role belongs to exactly one program.
            models.CheckConstraint(
                condition=models.Q(role="") | models.Q(program__isnull=False),
                name="staff_with_role_has_program",
            ),
        ]

    def __str__(self) -> str:
        return self.username
