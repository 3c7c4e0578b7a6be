"""Forms for treatment plans and level-of-care placements (docs/treatment-records.md).

As every console form, they check only the shape of what was typed, as the API's serializers
do (a date is a date, a started row has its required cells); every rule is the service's, and
its error is shown on the field it names. A plan's lists are typed into numbered rows whose
field names are the service's own paths (`goals.0.objectives.1.target_date`); rows left empty
are left out, so `field_for` turns a path the service names back into the row it came from.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from caseload.models import DIMENSIONS, HIGHEST_RATING, AsamLevel, Placement

from .forms import AnswerField, datetime_field, now_minute, staff_name

ROWS = {"problems": 3, "goals": 2, "interventions": 3}
OBJECTIVE_ROWS = 3
OBJECTIVE_STATUSES = [
    ("open", "Open"),
    ("met", "Met"),
    ("revised", "Revised"),
    ("discontinued", "Discontinued"),
]
REQUIRED = "This field is required."


def date_field(**kwargs) -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


def text(label: str, max_length: int = 1000) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=False)


class PlanContentForm(forms.Form):
    """A plan's problems, goals with their objectives, and interventions, as numbered rows:
    one more empty row of each than the plan holds, so there is always room to add one."""

    def __init__(self, *args, plan=None, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.staff_choices = [("", "Choose who is responsible")] + [
            (str(s.pk), staff_name(s)) for s in staff_choices
        ]
        self.rows = {
            name: max(count, len(getattr(plan, name, None) or []) + 1)
            for name, count in ROWS.items()
        }
        self.objective_rows = max(
            [OBJECTIVE_ROWS, *(len(g.get("objectives") or []) + 1 for g in _goals(plan))]
        )
        self._add_content_fields()
        if plan is not None:
            self.initial.update(flatten(plan))
        self.row_of: dict[str, str] = {}

    def _add_content_fields(self) -> None:
        for p in range(self.rows["problems"]):
            self.fields[f"problems.{p}.description"] = text("Description")
            self.fields[f"problems.{p}.asam_dimension"] = forms.TypedChoiceField(
                label="ASAM dimension",
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "None named"), *((n, str(n)) for n in range(1, 7))],
            )
        for g in range(self.rows["goals"]):
            self.fields[f"goals.{g}.description"] = text("Goal, in the patient's words")
            for o in range(self.objective_rows):
                row = f"goals.{g}.objectives.{o}"
                self.fields[f"{row}.description"] = text("Description, measurable")
                self.fields[f"{row}.target_date"] = date_field(label="Target date", required=False)
                self.fields[f"{row}.status"] = forms.ChoiceField(
                    label="Status", choices=OBJECTIVE_STATUSES, required=False
                )
        for i in range(self.rows["interventions"]):
            self.fields[f"interventions.{i}.kind"] = text("What", 200)
            self.fields[f"interventions.{i}.frequency"] = text("How often", 200)
            self.fields[f"interventions.{i}.responsible"] = AnswerField(
                label="Responsible", choices=self.staff_choices, required=False
            )

    # The rows, for the template: each a list of bound fields.
    def problem_rows(self):
        return [self._row(f"problems.{p}", ("description", "asam_dimension"))
                for p in range(self.rows["problems"])]  # fmt: skip

    def goal_rows(self):
        return [
            {
                "number": g + 1,
                "description": self[f"goals.{g}.description"],
                "objectives": [
                    self._row(f"goals.{g}.objectives.{o}", ("description", "target_date", "status"))
                    for o in range(self.objective_rows)
                ],
            }
            for g in range(self.rows["goals"])
        ]

    def intervention_rows(self):
        return [self._row(f"interventions.{i}", ("kind", "frequency", "responsible"))
                for i in range(self.rows["interventions"])]  # fmt: skip

    def _row(self, prefix: str, names) -> list:
        return [self[f"{prefix}.{name}"] for name in names]

    def clean(self):
        data = super().clean()
        self.row_of = {}
        content = {
            "problems": self._kept("problems", ("description",), ("asam_dimension",)),
            "goals": self._goals(),
            "interventions": self._kept("interventions", ("kind", "frequency", "responsible"), ()),
        }
        data["content"] = content
        return data

    def _kept(self, name: str, required, optional) -> list[dict]:
        """The started rows of one list, each required cell checked; rows left empty are left
        out, and `row_of` remembers which form row each kept one came from."""
        kept = []
        for n in range(self.rows[name]):
            row = f"{name}.{n}"
            cells = (*required, *optional)
            values = {cell: self.cleaned_data.get(f"{row}.{cell}") for cell in cells}
            if all(v in (None, "") for v in values.values()):
                continue
            for cell in required:
                if values[cell] in (None, ""):
                    self.add_error(f"{row}.{cell}", ValidationError(REQUIRED, code="required"))
            self.row_of[f"{name}.{len(kept)}"] = row
            kept.append({k: v for k, v in values.items() if v not in (None, "")})
        return kept

    def _goals(self) -> list[dict]:
        goals = []
        for g in range(self.rows["goals"]):
            row = f"goals.{g}"
            objectives = self._objectives(row, kept_as=f"goals.{len(goals)}.")
            description = self.cleaned_data.get(f"{row}.description") or ""
            if not description and not objectives:
                continue
            if not description:
                self.add_error(f"{row}.description", ValidationError(REQUIRED, code="required"))
            self.row_of[f"goals.{len(goals)}"] = row
            goals.append({"description": description, "objectives": objectives})
        return goals

    def _objectives(self, goal_row: str, kept_as: str) -> list[dict]:
        kept = []
        for o in range(self.objective_rows):
            row = f"{goal_row}.objectives.{o}"
            description = self.cleaned_data.get(f"{row}.description") or ""
            target = self.cleaned_data.get(f"{row}.target_date")
            if not description and target is None:
                continue
            for cell, value in (("description", description), ("target_date", target)):
                if value in (None, ""):
                    self.add_error(f"{row}.{cell}", ValidationError(REQUIRED, code="required"))
            self.row_of[f"{kept_as}objectives.{len(kept)}"] = row
            kept.append(
                {
                    "description": description,
                    "target_date": target.isoformat() if target else None,
                    "status": self.cleaned_data.get(f"{row}.status") or "open",
                }
            )
        return kept

    def field_for(self, path: str | None) -> str | None:
        """The form field a path the service named belongs to: its row's cell, or for a whole
        list (`goals.0.objectives`, `problems`) the first cell of its first row."""
        if not path:
            return None
        parts = path.split(".")
        for cut in range(len(parts), 0, -1):
            head = ".".join(parts[:cut])
            if head in self.row_of:
                path = ".".join([self.row_of[head], *parts[cut:]])
                break
        if path in self.fields:
            return path
        return next((name for name in self.fields if name.startswith(f"{path}.")), None)


def _goals(plan) -> list[dict]:
    return (getattr(plan, "goals", None) or []) if plan is not None else []


def flatten(plan) -> dict[str, Any]:
    """A stored plan's lists as the form's row fields."""
    values: dict[str, Any] = {}
    for name in ("problems", "goals", "interventions"):
        for n, item in enumerate(getattr(plan, name) or []):
            for key, value in item.items():
                if key == "objectives":
                    for o, objective in enumerate(value or []):
                        for cell, cell_value in objective.items():
                            values[f"{name}.{n}.objectives.{o}.{cell}"] = cell_value
                else:
                    values[f"{name}.{n}.{key}"] = value
    return values


class PlanDraftForm(PlanContentForm):
    """A draft plan: when it starts, when the patient signed it (if yet), and its content."""

    starts_on = date_field(label="Plan starts on")
    signed_by_patient_at = datetime_field(label="Signed by the patient at", required=False)

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, plan=plan, **kwargs)
        if plan is None:
            self.fields["starts_on"].initial = timezone.localdate()
        else:
            self.initial["starts_on"] = plan.starts_on
            self.initial["signed_by_patient_at"] = plan.signed_by_patient_at

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {"starts_on": data["starts_on"], **data["content"]}
        if data.get("signed_by_patient_at"):
            values["signed_by_patient_at"] = data["signed_by_patient_at"]
        return values

    def service_arguments(self, plan) -> dict[str, Any]:
        return {"changes": changed(plan, self.values())}


class PlanReviewForm(PlanContentForm):
    """A review of a signed plan: what it found, and the content as it stands after it."""

    note = forms.CharField(
        label="What the review found and changed",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
    )

    def service_arguments(self, plan) -> dict[str, Any]:
        return {
            "note": self.cleaned_data["note"],
            "changes": changed(plan, self.cleaned_data["content"]),
        }


class PlanSignForm(forms.Form):
    signed_by_patient_at = datetime_field(label="Signed by the patient at", required=False)


def changed(plan, values: dict[str, Any]) -> dict[str, Any]:
    """Only what differs from the stored plan: a form sends every field back."""
    return {name: value for name, value in values.items() if getattr(plan, name) != value}


def _rating_label(name: str) -> str:
    meaning = Placement._meta.get_field(name).help_text.removesuffix(" (0-4).")
    return f"Dimension {name[-1]}: {meaning}"


class PlacementForm(forms.Form):
    """A level-of-care placement: the six dimension ratings, the level recommended and the
    level given, and why they differ. The clinician chooses; nothing is computed."""

    assessed_at = datetime_field(label="Assessed at")
    recommended_level = forms.ChoiceField(
        label="Level recommended", choices=[("", "Choose a level"), *AsamLevel.choices]
    )
    actual_level = forms.ChoiceField(
        label="Level given", choices=[("", "Choose a level"), *AsamLevel.choices]
    )
    reason_for_difference = forms.CharField(
        label="Why the level given differs from the one recommended",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessed_at"].initial = now_minute()
        for name in DIMENSIONS:
            self.fields[name] = forms.TypedChoiceField(
                label=_rating_label(name),
                coerce=int,
                choices=[(n, str(n)) for n in range(HIGHEST_RATING + 1)],
                widget=forms.RadioSelect,
            )

    def ratings(self) -> list:
        return [self[name] for name in DIMENSIONS]


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(
        label="Why this placement was entered in error",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
    )
