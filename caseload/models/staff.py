import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.password_validation import validate_password
from django.db import models


class Role(models.TextChoices):
    COUNSELOR = "counselor", "Counselor"
    PRESCRIBER = "prescriber", "Prescriber"
    SUPERVISOR = "supervisor", "Supervisor"
    FRONT_DESK = "front_desk", "Front desk"


class StaffManager(UserManager):
    """Django's user manager, whose passwords (e.g. `createsuperuser`) pass the validators too.

    Staff are created by `caseload.services.programs.staff_create`, which validates the same way.
    """

    def _create_user_object(self, username, email, password, **extra_fields):
        user = super()._create_user_object(username, email, password, **extra_fields)
        if password is not None:
            validate_password(password, user=user)
        return user


class Staff(AbstractUser):
    """A program's staff member. Integration clients are not staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    program = models.ForeignKey(
        "caseload.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    # The latest expiry of the member's break-the-glass accesses: while it lies in the past (or
    # is empty), no request of theirs needs to look the accesses up.
    break_glass_until = models.DateTimeField(null=True, blank=True, editable=False)

    objects = StaffManager()

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
