"""Treatment records: consent to treatment, coded discharge reasons, level-of-care placements,
treatment plans.

Data carried over (docs/treatment-records.md, "Upgrading"):
- A discharge reason recorded as free text becomes the code `other`, the text kept, whole, in
  `discharge_reason_detail` (on the enrollment and on every historical version of it). A
  discharged enrollment with no reason becomes `other` with no detail.
- An enrollment already `active` had no consent to treatment on record: it is given
  `treatment_consent_signed_at` = its admission date at 00:00 UTC (consent to treatment is signed
  at admission), so it keeps working. Intake and discharged enrollments are left without one.
  The history of each such enrollment does not show this change; programs confirm these dates
  against the signed paper consents.
"""

import datetime
import uuid

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def carry_over(apps, schema_editor):
    Enrollment = apps.get_model("caseload", "Enrollment")
    History = apps.get_model("caseload", "HistoricalEnrollment")
    for model, key in ((Enrollment, "pk"), (History, "history_id")):
        free_text = model.objects.exclude(discharge_reason="").exclude(
            discharge_reason__in=["other"]
        )
        for row in free_text.only(key, "discharge_reason").iterator():
            model.objects.filter(**{key: getattr(row, key)}).update(
                discharge_reason="other", discharge_reason_detail=row.discharge_reason[:500]
            )
    Enrollment.objects.filter(status="discharged", discharge_reason="").update(
        discharge_reason="other"
    )
    for row in Enrollment.objects.filter(
        status="active", treatment_consent_signed_at__isnull=True
    ).only("pk", "admitted_on"):
        signed = datetime.datetime.combine(row.admitted_on, datetime.time.min, datetime.UTC)
        Enrollment.objects.filter(pk=row.pk).update(treatment_consent_signed_at=signed)


class Migration(migrations.Migration):
    dependencies = [
        ("caseload", "0017_stable_list_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollment",
            name="asam_level",
            field=models.CharField(
                blank=True,
                choices=[
                    ("0.5", "0.5"),
                    ("OTP", "OTP"),
                    ("1", "1"),
                    ("2.1", "2.1"),
                    ("2.5", "2.5"),
                    ("3.1", "3.1"),
                    ("3.3", "3.3"),
                    ("3.5", "3.5"),
                    ("3.7", "3.7"),
                    ("4", "4"),
                    ("1-WM", "1-WM"),
                    ("2-WM", "2-WM"),
                    ("3.2-WM", "3.2-WM"),
                    ("3.7-WM", "3.7-WM"),
                    ("4-WM", "4-WM"),
                ],
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="enrollment",
            name="discharge_reason_detail",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="enrollment",
            name="treatment_consent_signed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="historicalenrollment",
            name="asam_level",
            field=models.CharField(
                blank=True,
                choices=[
                    ("0.5", "0.5"),
                    ("OTP", "OTP"),
                    ("1", "1"),
                    ("2.1", "2.1"),
                    ("2.5", "2.5"),
                    ("3.1", "3.1"),
                    ("3.3", "3.3"),
                    ("3.5", "3.5"),
                    ("3.7", "3.7"),
                    ("4", "4"),
                    ("1-WM", "1-WM"),
                    ("2-WM", "2-WM"),
                    ("3.2-WM", "3.2-WM"),
                    ("3.7-WM", "3.7-WM"),
                    ("4-WM", "4-WM"),
                ],
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="historicalenrollment",
            name="discharge_reason_detail",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="historicalenrollment",
            name="treatment_consent_signed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="enrollment",
            name="discharge_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("completed", "Treatment completed"),
                    ("dropped_out", "Left before completing"),
                    ("terminated", "Terminated by the facility"),
                    ("transferred", "Transferred to another program or facility"),
                    ("incarcerated", "Incarcerated"),
                    ("died", "Died"),
                    ("other", "Other"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="historicalenrollment",
            name="discharge_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("completed", "Treatment completed"),
                    ("dropped_out", "Left before completing"),
                    ("terminated", "Terminated by the facility"),
                    ("transferred", "Transferred to another program or facility"),
                    ("incarcerated", "Incarcerated"),
                    ("died", "Died"),
                    ("other", "Other"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="enrollment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "discharge_reason__in",
                            [
                                "completed",
                                "dropped_out",
                                "terminated",
                                "transferred",
                                "incarcerated",
                                "died",
                                "other",
                            ],
                        ),
                        ("status", "discharged"),
                    ),
                    models.Q(
                        models.Q(("status", "discharged"), _negated=True), ("discharge_reason", "")
                    ),
                    _connector="OR",
                ),
                name="enrollment_discharge_reason_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="enrollment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "active"), _negated=True),
                    ("treatment_consent_signed_at__isnull", False),
                    _connector="OR",
                ),
                name="enrollment_active_has_treatment_consent",
            ),
        ),
        migrations.AddConstraint(
            model_name="enrollment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("asam_level", ""),
                    (
                        "asam_level__in",
                        [
                            "0.5",
                            "OTP",
                            "1",
                            "2.1",
                            "2.5",
                            "3.1",
                            "3.3",
                            "3.5",
                            "3.7",
                            "4",
                            "1-WM",
                            "2-WM",
                            "3.2-WM",
                            "3.7-WM",
                            "4-WM",
                        ],
                    ),
                    _connector="OR",
                ),
                name="enrollment_asam_level_valid",
            ),
        ),
        migrations.AddField(
            model_name="followup",
            name="due_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="followup",
            name="appointment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="follow_ups",
                to="caseload.appointment",
            ),
        ),
        migrations.AlterField(
            model_name="followup",
            name="reason",
            field=models.CharField(
                choices=[
                    ("noshow", "Missed appointment"),
                    ("plan_review", "Treatment plan review due"),
                ],
                default="noshow",
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="HistoricalPlacement",
            fields=[
                ("id", models.UUIDField(db_index=True, default=uuid.uuid4, editable=False)),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("updated_at", models.DateTimeField(blank=True, db_index=True, editable=False)),
                ("version", models.PositiveIntegerField(default=1)),
                ("entered_in_error_reason", models.CharField(blank=True, max_length=500)),
                ("assessed_at", models.DateTimeField()),
                (
                    "dimension_1",
                    models.PositiveSmallIntegerField(
                        help_text="Acute intoxication and/or withdrawal potential (0-4)."
                    ),
                ),
                (
                    "dimension_2",
                    models.PositiveSmallIntegerField(
                        help_text="Biomedical conditions and complications (0-4)."
                    ),
                ),
                (
                    "dimension_3",
                    models.PositiveSmallIntegerField(
                        help_text="Emotional, behavioural or cognitive conditions and complications (0-4)."
                    ),
                ),
                (
                    "dimension_4",
                    models.PositiveSmallIntegerField(help_text="Readiness to change (0-4)."),
                ),
                (
                    "dimension_5",
                    models.PositiveSmallIntegerField(
                        help_text="Relapse, continued use or continued problem potential (0-4)."
                    ),
                ),
                (
                    "dimension_6",
                    models.PositiveSmallIntegerField(
                        help_text="Recovery/living environment (0-4)."
                    ),
                ),
                (
                    "recommended_level",
                    models.CharField(
                        choices=[
                            ("0.5", "0.5"),
                            ("OTP", "OTP"),
                            ("1", "1"),
                            ("2.1", "2.1"),
                            ("2.5", "2.5"),
                            ("3.1", "3.1"),
                            ("3.3", "3.3"),
                            ("3.5", "3.5"),
                            ("3.7", "3.7"),
                            ("4", "4"),
                            ("1-WM", "1-WM"),
                            ("2-WM", "2-WM"),
                            ("3.2-WM", "3.2-WM"),
                            ("3.7-WM", "3.7-WM"),
                            ("4-WM", "4-WM"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "actual_level",
                    models.CharField(
                        choices=[
                            ("0.5", "0.5"),
                            ("OTP", "OTP"),
                            ("1", "1"),
                            ("2.1", "2.1"),
                            ("2.5", "2.5"),
                            ("3.1", "3.1"),
                            ("3.3", "3.3"),
                            ("3.5", "3.5"),
                            ("3.7", "3.7"),
                            ("4", "4"),
                            ("1-WM", "1-WM"),
                            ("2-WM", "2-WM"),
                            ("3.2-WM", "3.2-WM"),
                            ("3.7-WM", "3.7-WM"),
                            ("4-WM", "4-WM"),
                        ],
                        max_length=10,
                    ),
                ),
                ("reason_for_difference", models.CharField(blank=True, max_length=500)),
                (
                    "status",
                    models.CharField(
                        choices=[("final", "Final"), ("entered_in_error", "Entered in error")],
                        default="final",
                        max_length=20,
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "enrollment",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="caseload.enrollment",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="caseload.patient",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical placement",
                "verbose_name_plural": "historical placements",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalTreatmentPlan",
            fields=[
                ("id", models.UUIDField(db_index=True, default=uuid.uuid4, editable=False)),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("updated_at", models.DateTimeField(blank=True, db_index=True, editable=False)),
                ("version", models.PositiveIntegerField(default=1)),
                ("entered_in_error_reason", models.CharField(blank=True, max_length=500)),
                ("starts_on", models.DateField()),
                ("problems", models.JSONField(default=list)),
                ("goals", models.JSONField(default=list)),
                ("interventions", models.JSONField(default=list)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("signed", "Signed"),
                            ("entered_in_error", "Entered in error"),
                        ],
                        default="draft",
                        max_length=20,
                    ),
                ),
                ("signed_by_patient_at", models.DateTimeField(blank=True, null=True)),
                ("signed_at", models.DateTimeField(blank=True, null=True)),
                ("review_due_on", models.DateField(blank=True, null=True)),
                ("reviewed_at", models.DateTimeField(blank=True, null=True)),
                ("review_note", models.TextField(blank=True)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "enrollment",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="caseload.enrollment",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="caseload.patient",
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "signed_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical treatment plan",
                "verbose_name_plural": "historical treatment plans",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Placement",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("version", models.PositiveIntegerField(default=1)),
                ("entered_in_error_reason", models.CharField(blank=True, max_length=500)),
                ("assessed_at", models.DateTimeField()),
                (
                    "dimension_1",
                    models.PositiveSmallIntegerField(
                        help_text="Acute intoxication and/or withdrawal potential (0-4)."
                    ),
                ),
                (
                    "dimension_2",
                    models.PositiveSmallIntegerField(
                        help_text="Biomedical conditions and complications (0-4)."
                    ),
                ),
                (
                    "dimension_3",
                    models.PositiveSmallIntegerField(
                        help_text="Emotional, behavioural or cognitive conditions and complications (0-4)."
                    ),
                ),
                (
                    "dimension_4",
                    models.PositiveSmallIntegerField(help_text="Readiness to change (0-4)."),
                ),
                (
                    "dimension_5",
                    models.PositiveSmallIntegerField(
                        help_text="Relapse, continued use or continued problem potential (0-4)."
                    ),
                ),
                (
                    "dimension_6",
                    models.PositiveSmallIntegerField(
                        help_text="Recovery/living environment (0-4)."
                    ),
                ),
                (
                    "recommended_level",
                    models.CharField(
                        choices=[
                            ("0.5", "0.5"),
                            ("OTP", "OTP"),
                            ("1", "1"),
                            ("2.1", "2.1"),
                            ("2.5", "2.5"),
                            ("3.1", "3.1"),
                            ("3.3", "3.3"),
                            ("3.5", "3.5"),
                            ("3.7", "3.7"),
                            ("4", "4"),
                            ("1-WM", "1-WM"),
                            ("2-WM", "2-WM"),
                            ("3.2-WM", "3.2-WM"),
                            ("3.7-WM", "3.7-WM"),
                            ("4-WM", "4-WM"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "actual_level",
                    models.CharField(
                        choices=[
                            ("0.5", "0.5"),
                            ("OTP", "OTP"),
                            ("1", "1"),
                            ("2.1", "2.1"),
                            ("2.5", "2.5"),
                            ("3.1", "3.1"),
                            ("3.3", "3.3"),
                            ("3.5", "3.5"),
                            ("3.7", "3.7"),
                            ("4", "4"),
                            ("1-WM", "1-WM"),
                            ("2-WM", "2-WM"),
                            ("3.2-WM", "3.2-WM"),
                            ("3.7-WM", "3.7-WM"),
                            ("4-WM", "4-WM"),
                        ],
                        max_length=10,
                    ),
                ),
                ("reason_for_difference", models.CharField(blank=True, max_length=500)),
                (
                    "status",
                    models.CharField(
                        choices=[("final", "Final"), ("entered_in_error", "Entered in error")],
                        default="final",
                        max_length=20,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "enrollment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="placements",
                        to="caseload.enrollment",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="placements",
                        to="caseload.patient",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-assessed_at", "-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="TreatmentPlan",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("version", models.PositiveIntegerField(default=1)),
                ("entered_in_error_reason", models.CharField(blank=True, max_length=500)),
                ("starts_on", models.DateField()),
                ("problems", models.JSONField(default=list)),
                ("goals", models.JSONField(default=list)),
                ("interventions", models.JSONField(default=list)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("signed", "Signed"),
                            ("entered_in_error", "Entered in error"),
                        ],
                        default="draft",
                        max_length=20,
                    ),
                ),
                ("signed_by_patient_at", models.DateTimeField(blank=True, null=True)),
                ("signed_at", models.DateTimeField(blank=True, null=True)),
                ("review_due_on", models.DateField(blank=True, null=True)),
                ("reviewed_at", models.DateTimeField(blank=True, null=True)),
                ("review_note", models.TextField(blank=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "enrollment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="treatment_plans",
                        to="caseload.enrollment",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="treatment_plans",
                        to="caseload.patient",
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "signed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-starts_on", "-created_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="followup",
            name="treatment_plan",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="follow_ups",
                to="caseload.treatmentplan",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.UniqueConstraint(
                condition=models.Q(("treatment_plan__isnull", False)),
                fields=("treatment_plan", "due_on"),
                name="follow_up_one_per_plan_review",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("appointment__isnull", False), ("reason", "noshow")),
                    models.Q(
                        ("due_on__isnull", False),
                        ("reason", "plan_review"),
                        ("treatment_plan__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="follow_up_names_its_subject",
            ),
        ),
        migrations.AddIndex(
            model_name="placement",
            index=models.Index(fields=["-assessed_at", "-created_at", "-id"], name="placement_list_order"),
        ),
        migrations.AddIndex(
            model_name="placement",
            index=models.Index(fields=["enrollment", "-assessed_at"], name="placement_latest"),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "entered_in_error"), _negated=True),
                    models.Q(("entered_in_error_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="placement_error_has_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(("dimension_1__lte", 4)), name="placement_dimension_1_rating"
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(("dimension_2__lte", 4)), name="placement_dimension_2_rating"
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(("dimension_3__lte", 4)), name="placement_dimension_3_rating"
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(("dimension_4__lte", 4)), name="placement_dimension_4_rating"
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(("dimension_5__lte", 4)), name="placement_dimension_5_rating"
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(("dimension_6__lte", 4)), name="placement_dimension_6_rating"
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "recommended_level__in",
                        [
                            "0.5",
                            "OTP",
                            "1",
                            "2.1",
                            "2.5",
                            "3.1",
                            "3.3",
                            "3.5",
                            "3.7",
                            "4",
                            "1-WM",
                            "2-WM",
                            "3.2-WM",
                            "3.7-WM",
                            "4-WM",
                        ],
                    ),
                    (
                        "actual_level__in",
                        [
                            "0.5",
                            "OTP",
                            "1",
                            "2.1",
                            "2.5",
                            "3.1",
                            "3.3",
                            "3.5",
                            "3.7",
                            "4",
                            "1-WM",
                            "2-WM",
                            "3.2-WM",
                            "3.7-WM",
                            "4-WM",
                        ],
                    ),
                ),
                name="placement_levels_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("recommended_level", models.F("actual_level")),
                    models.Q(("reason_for_difference", ""), _negated=True),
                    _connector="OR",
                ),
                name="placement_difference_has_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["final", "entered_in_error"])),
                name="placement_status_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="treatmentplan",
            index=models.Index(
                fields=["-starts_on", "-created_at", "-id"], name="treatmentplan_list_order"
            ),
        ),
        migrations.AddIndex(
            model_name="treatmentplan",
            index=models.Index(fields=["status", "review_due_on"], name="treatmentplan_review_due"),
        ),
        migrations.AddConstraint(
            model_name="treatmentplan",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "entered_in_error"), _negated=True),
                    models.Q(("entered_in_error_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="treatmentplan_error_has_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="treatmentplan",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ("draft", "signed"))),
                fields=("enrollment",),
                name="treatmentplan_one_current_per_enrollment",
            ),
        ),
        migrations.AddConstraint(
            model_name="treatmentplan",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["draft", "signed", "entered_in_error"])),
                name="treatmentplan_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="treatmentplan",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "signed"), _negated=True),
                    models.Q(
                        ("review_due_on__isnull", False),
                        ("signed_at__isnull", False),
                        ("signed_by__isnull", False),
                        ("signed_by_patient_at__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="treatmentplan_signed_is_complete",
            ),
        ),
    ]
