from django.core.validators import RegexValidator
from django.db import models

from .base import BaseModel

program_code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{1,31}$",
    "Use 2-32 lowercase letters, digits or hyphens, starting with a letter or digit.",
)


class Program(BaseModel):
    """A treatment program: the boundary no record ever crosses."""

    code = models.CharField(max_length=32, unique=True, validators=[program_code_validator])
    name = models.CharField(max_length=200)
    # Reminder wording: neutral, never naming what the program treats (being a patient is
    # itself protected). The time and place are added to it.
    reminder_text = models.CharField(max_length=300, default="You have an appointment.")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code
