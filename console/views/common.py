"""What every console view shares: parsing a day, a page of rows, a safe way back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

PAGE_SIZE = 50


def day_of(request: HttpRequest) -> date:
    try:
        return date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.localdate()


def page_of(request: HttpRequest, rows) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def back_to(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/console/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return default


def version_of(request: HttpRequest) -> int | None:
    """The record version the form was rendered with: a stale one answers 412 like If-Match."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@dataclass
class Window:
    """One page of rows without counting them all: PAGE_SIZE + 1 rows say whether a next page
    exists, so a long caseload costs one query, not a COUNT over the scoped patients as well."""

    rows: list
    number: int
    has_next: bool

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def object_list(self) -> list:
        return self.rows

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def window_of(request: HttpRequest, rows) -> Window:
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    start = (number - 1) * PAGE_SIZE
    fetched = list(rows[start : start + PAGE_SIZE + 1])
    return Window(rows=fetched[:PAGE_SIZE], number=number, has_next=len(fetched) > PAGE_SIZE)
