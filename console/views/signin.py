"""Sign-in: password (through the sign-in lockout, as the API's login), then a TOTP code from a
device enrolled on first sign-in (django-otp). Until the code is verified the session holds only
who passed the password step, for a few minutes; nothing else is reachable."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import qrcode
import qrcode.image.svg
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseload.errors import LockedOut
from caseload.models import AuditAction, Staff
from caseload.permissions import is_staff_member
from caseload.services.audit import audit_signin

from ..access import is_console_user, mfa_required
from ..forms import SignInForm, TokenForm

PENDING_KEY = "console_pending_signin"
PENDING_FOR = timedelta(minutes=5)
DEVICE_NAME = "console"
BAD_CREDENTIALS = ValidationError(
    "The username or password is not right.", code="invalid_credentials"
)
WRONG_CODE = ValidationError(
    "That code is not right, or it has expired. Try the current one.", code="invalid_token"
)


def signin(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and is_console_user(request):
        return redirect("console:today")
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = authenticate(
                request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except LockedOut as exc:
            form.add_error(None, ValidationError(exc.message, code=exc.code))
            status = exc.status
        else:
            if user is not None and is_staff_member(user):
                return _password_passed(request, user, request.GET.get("next", ""))
            form.add_error(None, BAD_CREDENTIALS)
            status = 400
    context = {
        "form": form,
        "idle": request.GET.get("idle") == "1",
        "signed_out": request.GET.get("signed_out") == "1",
    }
    return render(request, "console/signin/login.html", context, status=status)


def _password_passed(request: HttpRequest, user: Staff, next_url: str) -> HttpResponse:
    if not mfa_required():
        login(request, user, backend=user.backend)
        return redirect(_safe_next(request, next_url))
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": str(user.pk),
        "backend": user.backend,
        "at": timezone.now().isoformat(),
        "next": next_url,
    }
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("console:verify")
    return redirect("console:enrol")


def _pending(request: HttpRequest) -> tuple[Staff, dict] | None:
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return None
    if timezone.now() - datetime.fromisoformat(pending["at"]) > PENDING_FOR:
        del request.session[PENDING_KEY]
        return None
    user = Staff.objects.filter(pk=pending["user"], is_active=True).first()
    return (user, pending) if user is not None else None


def verify(request: HttpRequest) -> HttpResponse:
    found = _pending(request)
    if found is None:
        return redirect("console:login")
    user, pending = found
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return redirect("console:enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _accepts(device, form.cleaned_data["token"], user):
            return _complete(request, user, device, pending)
        form.add_error("token", WRONG_CODE)
    return render(request, "console/signin/verify.html", {"form": form}, status=_status(form))


def enrol(request: HttpRequest) -> HttpResponse:
    found = _pending(request)
    if found is None:
        return redirect("console:login")
    user, pending = found
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("console:verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=DEVICE_NAME).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _accepts(device, form.cleaned_data["token"], user):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            return _complete(request, user, device, pending)
        form.add_error("token", WRONG_CODE)
    context = {
        "form": form,
        "qr_svg": qr_svg(device.config_url),
        "secret": base64.b32encode(device.bin_key).decode(),
    }
    return render(request, "console/signin/enrol.html", context, status=_status(form))


def qr_svg(data: str) -> str:
    """The provisioning URL as an SVG QR code (no script, no style: safe inline under the CSP)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    label = 'role="img" aria-label="QR code for your authenticator app"'
    return svg.replace("<svg ", f"<svg {label} ", 1)


def _accepts(device: TOTPDevice, token: str, user: Staff) -> bool:
    """django-otp checks the code and throttles repeated failures on the device."""
    if device.verify_token(token):
        return True
    audit_signin(
        action=AuditAction.LOGIN_FAILED,
        username=user.username,
        staff=user,
        detail={"via": "console", "reason": "invalid_second_factor"},
    )
    return False


def _complete(request: HttpRequest, user: Staff, device: TOTPDevice, pending: dict) -> HttpResponse:
    login(request, user, backend=pending["backend"])
    otp_login(request, device)
    return redirect(_safe_next(request, pending.get("next", "")))


def _safe_next(request: HttpRequest, next_url: str) -> str:
    console = reverse("console:today")
    if next_url.startswith("/console/") and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return console


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    idle = request.POST.get("idle") == "1"
    logout(request)
    return redirect(reverse("console:login") + ("?idle=1" if idle else "?signed_out=1"))


@require_POST
def keepalive(request: HttpRequest) -> HttpResponse:
    """'Stay signed in': any request extends the session (it is saved on every request)."""
    if not is_console_user(request):
        response = HttpResponse(status=401)
        response["HX-Redirect"] = reverse("console:login") + "?idle=1"
        return response
    return HttpResponse(status=204)
