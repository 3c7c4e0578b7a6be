"""The COWS and SOWS series of one patient, for prescribers watching withdrawal over time."""

from __future__ import annotations

from django.db.models import QuerySet

from caseload import instruments
from caseload.charts import SeriesPoint, TrendSeries
from caseload.models import Assessment, Instrument, Patient, RecordStatus, Staff
from caseload.selectors.records import assessment_list

SERIES = tuple(
    (code, label, instruments.max_total(code))
    for code, label in ((Instrument.COWS, "COWS"), (Instrument.SOWS, "SOWS"))
)


def withdrawal_trend(*, user: Staff, patient: Patient) -> list[tuple[TrendSeries, list]]:
    """Each scored series oldest first, with the assessments behind its points."""
    rows: QuerySet[Assessment] = (
        assessment_list(user=user)
        .filter(
            patient=patient,
            status=RecordStatus.FINAL,
            instrument__in=[code for code, _, _ in SERIES],
        )
        .order_by("administered_at", "created_at")
    )
    by_instrument: dict[str, list[Assessment]] = {code: [] for code, _, _ in SERIES}
    for row in rows:
        by_instrument[row.instrument].append(row)
    return [
        (
            TrendSeries(
                instrument=code,
                label=label,
                max_score=max_score,
                bands=instruments.bands_for(code),
                points=tuple(
                    SeriesPoint(a.administered_at, a.total_score, a.severity)
                    for a in by_instrument[code]
                ),
            ),
            by_instrument[code],
        )
        for code, label, max_score in SERIES
    ]
