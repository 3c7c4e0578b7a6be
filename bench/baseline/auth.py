"""The baseline's token check and paging: DRF's own classes (kept apart from the views, which
import DRF's settings)."""

from __future__ import annotations

import hashlib

from django.utils import timezone
from rest_framework import authentication, exceptions, pagination

from caseload.models import ApiToken


class TokenAuthentication(authentication.BaseAuthentication):
    """DRF's TokenAuthentication, over Caseload's hashed personal tokens."""

    def authenticate(self, request):
        scheme, _, raw = authentication.get_authorization_header(request).decode().partition(" ")
        if scheme.lower() != "bearer" or not raw:
            return None
        digest = hashlib.sha256(raw.strip().encode()).hexdigest()
        token = (
            ApiToken.objects.select_related("staff")
            .filter(digest=digest, revoked_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if token is None or not token.staff.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return token.staff, token


class Pagination(pagination.PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
