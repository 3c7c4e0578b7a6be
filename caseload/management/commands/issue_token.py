from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError

from caseload.models import Staff
from caseload.services.tokens import token_issue

from ._output import JsonCommand, iso_utc


class Command(JsonCommand):
    help = "Issue a new personal API token for an existing staff member and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="issue_token", help="A label for the token.")
        parser.add_argument(
            "--days",
            type=int,
            help="Days until it expires (1 to CASELOAD_TOKEN_TTL_DAYS, which is the default).",
        )

    def handle(self, *args, username, name, days=None, **options):
        staff = Staff.objects.filter(username=username).first()
        if staff is None:
            raise CommandError(f"username: no staff member {username!r}")
        if not staff.is_active:
            raise CommandError(f"username: {username!r} is deactivated; a token would not work")
        if len(name) > 100:
            raise CommandError("name: at most 100 characters")
        limit = settings.CASELOAD_TOKEN_TTL_DAYS
        if days is not None and not 1 <= days <= limit:
            raise CommandError(f"days: must be between 1 and {limit} (CASELOAD_TOKEN_TTL_DAYS)")
        token, raw = token_issue(
            staff=staff, name=name, ttl=timedelta(days=days) if days is not None else None
        )
        self.emit(
            {
                "username": staff.username,
                "name": token.name,
                "token": raw,
                "expires_at": iso_utc(token.expires_at),
            }
        )
