from django.core.management.base import CommandError

from caseload.services.audit_partitions import MONTHS_AHEAD, partitions_ahead

from ._output import JsonCommand


class Command(JsonCommand):
    help = (
        "Make the monthly partitions of the audit log and the disclosure ledger (PostgreSQL) "
        "for the current month and the next N, and for every month the default partition holds "
        "rows of (those rows move into their month). Safe to run again: a partition that exists "
        'is left alone. Prints {"created": [...], "moved_from_default": [...], '
        '"default_rows": {...}}; where the tables are not partitioned (SQLite, or before '
        'migration 0020), {"partitioned": false}.'
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months",
            type=int,
            default=MONTHS_AHEAD,
            help=f"Months after the current one (default {MONTHS_AHEAD}).",
        )

    def handle(self, *args, **options):
        if options["months"] < 0:
            raise CommandError("months: must be 0 or more")
        self.emit(partitions_ahead(months=options["months"]))
