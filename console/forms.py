"""Django forms that hand cleaned data to the same services the API calls.

A form checks only the shape of what was typed (a date is a date); every rule is the service's,
and a `DomainError` it raises is shown on the field it names, with its stable code
(`show_domain_error`).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from caseload import instruments
from caseload.dates import PLAUSIBLE_DATE
from caseload.errors import DomainError
from caseload.models import (
    AppointmentKind,
    AuditAction,
    AuditOutcome,
    ReminderChannel,
    Role,
    Staff,
)

from .labels import answer_label, item_label

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


def datetime_field(**kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(
        widget=DateTimeLocalInput(), input_formats=[DATETIME_FORMAT], **kwargs
    )


def now_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


def show_domain_error(form: forms.Form, exc: DomainError, *, prefix: str = "") -> None:
    """Put each problem the service named on its field (a `prefix`ed name is the form's own,
    a form with `field_for` finds it itself), the rest above the form; always with the code."""
    problems = exc.field_errors() or [(None, exc.code, exc.message)]
    for field, code, message in problems:
        name = field[len(prefix) :] if field and prefix and field.startswith(prefix) else field
        if hasattr(form, "field_for"):
            name = form.field_for(name)
        target = name if name in form.fields else None
        form.add_error(target, ValidationError(message, code=code))


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Six-digit code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )


class AnswerField(forms.TypedChoiceField):
    """An item's answer: a number offered as radio buttons. Whether it is one of the item's
    legal answers is the service's question (`invalid_choice`, in its words)."""

    def valid_value(self, value) -> bool:
        return True


class AssessmentForm(forms.Form):
    """One field per item of the instrument, from its definition (`instruments.describe`, the
    same as `/api/v1/instruments/`). Unanswered items are left out, so the service reports
    each as `missing_item`."""

    administered_at = datetime_field(label="Administered at")

    def __init__(self, instrument: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.definition = instruments.describe(instrument)
        self.fields["administered_at"].initial = now_minute()
        self.item_names = []
        for item in self.definition["items"]:
            key = item["key"]
            label = item_label(instrument, key)
            if instrument == instruments.WITHDRAWAL_CHECKLIST:
                field = forms.BooleanField(label=label, required=False)
            else:
                field = AnswerField(
                    label=label,
                    required=False,
                    coerce=int,
                    choices=[(v, answer_label(instrument, key, v)) for v in item["allowed"]],
                    widget=forms.RadioSelect(attrs={"data-score": "item"}),
                )
            self.fields[key] = field
            self.item_names.append(key)

    def items(self) -> dict:
        data = self.cleaned_data
        if self.instrument == instruments.WITHDRAWAL_CHECKLIST:
            return {key: bool(data.get(key)) for key in self.item_names}
        return {key: data[key] for key in self.item_names if data.get(key) not in (None, "")}


class NoteForm(forms.Form):
    body = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 8}), max_length=20000)
    written_at = datetime_field(label="Written at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["written_at"].initial = now_minute()


class AppointmentForm(forms.Form):
    staff = forms.ModelChoiceField(queryset=Staff.objects.none(), label="With")
    kind = forms.ChoiceField(choices=AppointmentKind.choices)
    start = datetime_field()
    end = datetime_field()
    location = forms.CharField(max_length=200, required=False)
    overlap_allowed = forms.BooleanField(
        required=False, label="Overlap is deliberate (a group session)"
    )

    def __init__(self, *args, staff_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_choices
        self.fields["staff"].label_from_instance = staff_name
        self.fields["staff"].empty_label = "Choose who the appointment is with"

    def clean(self):
        data = super().clean()
        data["location"] = data.get("location") or ""
        return data


def staff_name(staff: Staff) -> str:
    name = staff.get_full_name() or staff.username
    return f"{name} ({staff.get_role_display()})"


class ContactForm(forms.Form):
    """A patient's contact details: the fields front desk may change (the policy's list)."""

    phone = forms.CharField(max_length=32, required=False)
    email = forms.EmailField(max_length=254, required=False)
    address_line = forms.CharField(label="Address", max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=50, required=False)
    postal_code = forms.CharField(label="Postal code", max_length=20, required=False)
    reminder_channel = forms.ChoiceField(label="Reminders by", choices=ReminderChannel.choices)


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason for cancelling", max_length=500, required=False)


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="Why you need this record now",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        required=False,
    )


class ReviewForm(forms.Form):
    note = forms.CharField(
        label="What the review found",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(queryset=Staff.objects.none(), required=False, label="Who")
    action = forms.ChoiceField(choices=[("", "any"), *AuditAction.choices], required=False)
    outcome = forms.ChoiceField(choices=[("", "any"), *AuditOutcome.choices], required=False)
    mrn = forms.CharField(required=False, max_length=32, label="Patient MRN")
    patient = forms.UUIDField(required=False, label="Patient id")
    occurred_after = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    occurred_before = forms.DateField(
        required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, staff_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = staff_choices
        self.fields["actor"].label_from_instance = staff_name
        self.fields["actor"].empty_label = "anyone"


def plausible_date(value) -> None:
    """The same range rule as the API's dates (caseload/dates.py)."""
    problem = PLAUSIBLE_DATE.problem(value)
    if problem:
        raise ValidationError(problem, code="out_of_range")


def date_field(label: str) -> forms.DateField:
    return forms.DateField(
        required=False,
        label=label,
        validators=[plausible_date],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


# Each report's parameters, named as the API's (`/api/v1/reports/...`); empty means the
# selector's default.
REPORT_PARAMETERS: dict[str, tuple[tuple[str, str], ...]] = {
    "census": (("on", "Day counted"),),
    "admissions-discharges": (("from", "First day"), ("to", "Last day")),
    "plan-reviews": (),
    "pharmacotherapy-continuity": (
        ("cohort_from", "First admission day"),
        ("cohort_to", "Last admission day"),
    ),
}


class ReportForm(forms.Form):
    """A report's parameters: dates only; the selector checks and fills in the window."""

    def __init__(self, report: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.report = report
        for name, label in REPORT_PARAMETERS[report]:
            self.fields[name] = date_field(label)

    def as_run(self, body: dict) -> ReportForm:
        """The same form showing the values the report ran with (the selector's defaults
        where a field was left empty)."""
        return ReportForm(self.report, {name: body[name] for name in self.fields})


class StaffFilterForm(forms.Form):
    """The API's staff filters (`role`, `is_active`)."""

    role = forms.ChoiceField(choices=[("", "any"), *Role.choices], required=False)
    is_active = forms.ChoiceField(
        label="Account",
        choices=[("", "any"), ("true", "active"), ("false", "deactivated")],
        required=False,
    )


class CareTeamForm(forms.Form):
    """An enrollment's counselor and prescriber, from the program's staff; whether a person
    may hold the role is `enrollment_update`'s question (`wrong_role`, `does_not_exist`)."""

    counselor = forms.ModelChoiceField(queryset=Staff.objects.none())
    prescriber = forms.ModelChoiceField(queryset=Staff.objects.none(), required=False)

    def __init__(self, *args, staff_choices, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("counselor", "prescriber"):
            self.fields[name].queryset = staff_choices
            self.fields[name].label_from_instance = staff_name
        self.fields["counselor"].empty_label = "Choose the counselor"
        self.fields["prescriber"].empty_label = "No prescriber"


class ReminderWordingForm(forms.Form):
    """The program's reminder wording; the service checks it (`names_program`, length)."""

    reminder_text = forms.CharField(
        label="Reminder wording",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        strip=False,
    )
