"""What every console view shares: parsing a day, a page of rows, a safe way back."""

from __future__ import annotations

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
