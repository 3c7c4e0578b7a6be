"""The COWS and SOWS series of one patient, for prescribers watching withdrawal over time."""

from __future__ import annotations

from collections.abc import Iterable

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
    rows: QuerySet[Assessment] = assessment_list(user=user).filter(
        patient=patient,
        status=RecordStatus.FINAL,
        instrument__in=[code for code, _, _ in SERIES],
    )
    return trend_of(rows)


def trend_of(assessments: Iterable[Assessment]) -> list[tuple[TrendSeries, list]]:
    """The series drawn from assessments already read (final COWS and SOWS only, whatever
    else is given), oldest first."""
    by_instrument: dict[str, list[Assessment]] = {code: [] for code, _, _ in SERIES}
    for row in sorted(assessments, key=lambda a: (a.administered_at, a.created_at)):
        if row.status == RecordStatus.FINAL and row.instrument in by_instrument:
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
