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
        ("caseload", "0016_consent_recipient_active"),
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
    ]
