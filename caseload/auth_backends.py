"""Django's password backend behind the sign-in lockout (caseload/services/signins.py)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from caseload.models import Staff
from caseload.services.signins import signin_attempt


class LockoutModelBackend(ModelBackend):
    """Every password sign-in through `django.contrib.auth.authenticate` is throttled.

    That covers the API's login page, the admin login and `Client.login`. While the username is
    locked this raises `caseload.errors.LockedOut` (which `authenticate` does not swallow), and
    the HTTP layer answers 429 `locked_out`.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(Staff.USERNAME_FIELD)
        if username is None or password is None:
            return None
        return signin_attempt(
            username=username,
            verify=lambda: super(LockoutModelBackend, self).authenticate(
                request, username=username, password=password, **kwargs
            ),
            via=getattr(request, "path", ""),
        )
