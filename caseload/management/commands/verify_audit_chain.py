import sys
from pathlib import Path

from caseload.services.audit_chain import audit_verify

from ._output import JsonCommand


class Command(JsonCommand):
    help = (
        "Seal pending rows, then check every row MAC of the audit log, the disclosure ledger, "
        "consents and break-the-glass openings, and the keyed seal chain. Prints "
        '{"ok": true, "events": N}, or exits 1 with {"ok": false, "events": N, '
        '"first_broken": "<id>", "broken": [{"kind", "id", "problem"}, ...]} naming every row '
        "inserted, changed, replayed or deleted behind the application's back."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seals",
            type=Path,
            help="A file written by export_audit_seals: each exported seal must still match.",
        )

    def handle(self, *args, **options):
        result = audit_verify(seals=options.get("seals"))
        self.emit(result.as_dict())
        if not result.ok:
            sys.exit(1)
