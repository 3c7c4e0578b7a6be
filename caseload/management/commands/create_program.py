from caseload.services.programs import program_create

from ._output import JsonCommand


class Command(JsonCommand):
    help = "Create a treatment program."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--name", required=True)

    def handle(self, *args, code: str, name: str, **options):
        program = program_create(code=code, name=name)
        self.emit({"program": program.code})
