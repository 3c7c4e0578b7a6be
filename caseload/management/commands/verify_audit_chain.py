import sys

from caseload.services.audit_chain import audit_verify

from ._output import JsonCommand


class Command(JsonCommand):
    help = (
        "Seal pending audit events, then recompute the audit log's hash chain. Prints "
        '{"ok": true, "events": N}, or exits 1 naming the first event that no longer matches.'
    )

    def handle(self, *args, **options):
        result = audit_verify()
        self.emit(result.as_dict())
        if not result.ok:
            sys.exit(1)
