from django.core.management.base import CommandError

from caseload.models import DisclosureBasis, Program
from caseload.permissions import OPERATOR
from caseload.services.integrations import integration_create

from ._output import JsonCommand


class Command(JsonCommand):
    help = "Register an integration client (OAuth2 client credentials) and print its secret once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--program", required=True)
        parser.add_argument(
            "--scopes",
            required=True,
            help='Space-separated: "appointments:read patients:read".',
        )
        parser.add_argument(
            "--basis",
            choices=DisclosureBasis.values,
            default=DisclosureBasis.QSOA,
            help="qsoa: every patient of the program; consent: patients whose consent names it.",
        )

        parser.add_argument(
            "--legal-name",
            default="",
            help="How a patient's accounting of disclosures names the recipient (default: NAME).",
        )
        parser.add_argument("--address", default="", help="The recipient's postal address.")

    def handle(self, *args, name, program, scopes, basis, legal_name, address, **options):
        program_obj = Program.objects.filter(code=program).first()
        if program_obj is None:
            raise CommandError(f"program: no program {program!r}")
        client, secret = integration_create(
            name=name,
            program=program_obj,
            scopes=scopes.split(),
            basis=basis,
            actor=OPERATOR,
            legal_name=legal_name,
            address=address,
        )
        self.emit({"client_id": client.application.client_id, "client_secret": secret})
