from pathlib import Path

from caseload.services.audit_chain import audit_export_seals

from ._output import JsonCommand


class Command(JsonCommand):
    help = (
        "Seal pending rows and append the seal chain's head (position and keyed chain value) "
        "to FILE, kept outside the database; `verify_audit_chain --seals FILE` then names a "
        'chain rebuilt after rows were deleted. Prints {"file": ..., "position": N}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options):
        self.emit(audit_export_seals(options["file"]))
