from caseload.services.programs import program_create

from ._output import JsonCommand


class Command(JsonCommand):
    help = "Create a treatment program."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--reminder-text",
            help="Neutral opening of appointment reminders; never name what the program treats.",
        )

    def handle(self, *args, code: str, name: str, reminder_text: str | None = None, **options):
        program = program_create(code=code, name=name, reminder_text=reminder_text)
        self.emit({"program": program.code})
