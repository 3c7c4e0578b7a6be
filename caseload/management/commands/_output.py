"""Set-up commands end with one JSON object on its own line, for scripts to read."""

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from caseload.dates import iso_z
from caseload.errors import DomainError


class JsonCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as exc:
            raise CommandError(f"{exc.field or 'error'}: {exc.message}") from exc

    def emit(self, payload: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(payload, sort_keys=False))

    def staff_named(self, username: str):
        """The staff member with this username, or a CommandError naming `username`."""
        from caseload.models import Staff

        staff = Staff.objects.filter(username=username).first()
        if staff is None:
            raise CommandError(f"username: no staff member {username!r}")
        return staff


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the way the API writes datetimes."""
    return iso_z(moment)
