"""The change sequence behind the sync feed (see caseload/feed.py for the mechanism)."""

from django.db import models


class FeedRecord(models.Model):
    """A record served by the sync feed: each write stamps `change_seq` in its transaction.

    On PostgreSQL the stamp is the writing transaction's id; elsewhere (SQLite, whose writes
    are serialized) it is the next value of `FeedClock`.
    """

    change_seq = models.BigIntegerField(default=0, editable=False)

    class Meta:
        abstract = True


class FeedClock(models.Model):
    """One row: the last change number handed out where the database has no transaction ids."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"feed clock {self.value}"
