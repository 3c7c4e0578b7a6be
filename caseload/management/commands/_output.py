"""Set-up commands end with one JSON object on its own line, for scripts to read."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from caseload.errors import DomainError


class JsonCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as exc:
            raise CommandError(f"{exc.field or 'error'}: {exc.message}") from exc

    def emit(self, payload: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(payload, sort_keys=False))
