import os

from django.core.management.base import CommandError

from caseload.models import Program, Role
from caseload.services.programs import staff_create
from caseload.services.tokens import token_issue

from ._output import JsonCommand


class Command(JsonCommand):
    help = "Create a staff member and print a new personal API token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--program", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--password-from-env",
            metavar="VAR",
            help="Read the password from this environment variable.",
        )

    def handle(self, *args, username, program, role, password_from_env=None, **options):
        program_obj = Program.objects.filter(code=program).first()
        if program_obj is None:
            raise CommandError(f"program: no program {program!r}")
        password = None
        if password_from_env:
            password = os.environ.get(password_from_env)
            if not password:
                raise CommandError(f"password: environment variable {password_from_env} is empty")
        staff = staff_create(username=username, program=program_obj, role=role, password=password)
        _, raw = token_issue(staff=staff, name="create_staff")
        self.emit({"username": staff.username, "id": str(staff.pk), "token": raw})
