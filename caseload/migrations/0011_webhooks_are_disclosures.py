"""Webhook signing secrets stored encrypted (caseload/secret_box.py), a previous secret kept
through a rotation, and deliveries withheld when no legal basis covers them."""

from django.db import migrations, models


def encrypt_secrets(apps, schema_editor):
    from caseload.secret_box import seal_secret

    Subscription = apps.get_model("caseload", "WebhookSubscription")
    for subscription in Subscription.objects.all().only("pk", "secret"):
        Subscription.objects.filter(pk=subscription.pk).update(
            secret_encrypted=seal_secret(subscription.secret)
        )


class Migration(migrations.Migration):
    dependencies = [("caseload", "0010_list_order_indexes")]

    operations = [
        migrations.AddField(
            model_name="webhooksubscription",
            name="secret_encrypted",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.RunPython(encrypt_secrets, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="webhooksubscription", name="secret"),
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret_encrypted",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="withheld_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("no_client", "The subscription names no integration client"),
                    ("client_disabled", "The integration client is disabled"),
                    ("other_program", "The client belongs to another program"),
                    ("no_scope", "The client lacks the appointments:read scope"),
                    (
                        "no_consent",
                        "No active consent names the client and covers appointments",
                    ),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed (gave up)"),
                    ("withheld", "Withheld (no legal basis to disclose)"),
                ],
                default="pending",
                max_length=20,
            ),
        ),
    ]
