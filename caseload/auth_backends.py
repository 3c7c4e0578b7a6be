"""Django's password backend behind the sign-in lockout (caseload/services/signins.py)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

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
            source=request.META.get("REMOTE_ADDR") if request is not None else None,
        )

    def get_all_permissions(self, user_obj, obj=None):
        """Django's answer in one query instead of two (the staff member's own permissions and
        their groups'): every API request asks the role's permissions once."""
        if (
            not user_obj.is_active
            or user_obj.is_anonymous
            or obj is not None
            or user_obj.is_superuser
            or hasattr(user_obj, "_perm_cache")
        ):
            return super().get_all_permissions(user_obj, obj)
        fields = ("content_type__app_label", "codename")
        own = Permission.objects.filter(user=user_obj).order_by().values_list(*fields)
        via_groups = Permission.objects.filter(group__user=user_obj).order_by().values_list(*fields)
        user_obj._perm_cache = {f"{app}.{codename}" for app, codename in own.union(via_groups)}
        return user_obj._perm_cache
