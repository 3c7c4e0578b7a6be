"""Making the audit log's and the disclosure ledger's monthly partitions ahead of time.

Run by `manage.py create_audit_partitions` and monthly by Celery beat
(`caseload.tasks.audit_partitions_ahead`); see caseload/partitions.py for the layout and
docs/operations.md ("Audit partitions") for running it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction

from caseload.partitions import AHEAD, TABLES, create_partitions, default_rows, is_partitioned

logger = logging.getLogger(__name__)
# Months made ahead of the current one by the monthly task: a missed run or two changes nothing.
MONTHS_AHEAD = AHEAD


def partitions_ahead(*, months: int = MONTHS_AHEAD) -> dict[str, Any]:
    """Make the partitions of the current month and the `months` after it (and of any month
    the default partition holds rows of), in one transaction; what was made, and how many rows
    each default partition still holds (0 after a run)."""
    if connection.vendor != "postgresql":
        return {"partitioned": False}
    with transaction.atomic(), connection.cursor() as cursor:
        if not all(is_partitioned(cursor, table) for table in TABLES):
            return {"partitioned": False}  # migration 0020 not applied (or reversed)
        result: dict[str, Any] = create_partitions(cursor, months=months)
        result["default_rows"] = default_rows(cursor)
    for moved in result["moved_from_default"]:
        logger.warning(
            "audit partitions: %s rows moved from the default partition into %s",
            moved["rows"],
            moved["partition"],
        )
    return result
