from django.db import transaction

from caseload.models import WebhookSubscription
from caseload.secret_box import reseal_secret

from ._output import JsonCommand


class Command(JsonCommand):
    help = (
        "Re-encrypt every stored secret (webhook signing secrets) under the first key of "
        "CASELOAD_SECRET_KEYS; run after putting a new key first, before dropping the old one. "
        'Prints {"resealed": N}.'
    )

    def handle(self, *args, **options):
        resealed = 0
        with transaction.atomic():
            for subscription in WebhookSubscription.objects.select_for_update().order_by("pk"):
                subscription.secret_encrypted = reseal_secret(subscription.secret_encrypted)
                if subscription.previous_secret_encrypted:
                    subscription.previous_secret_encrypted = reseal_secret(
                        subscription.previous_secret_encrypted
                    )
                subscription.save(
                    update_fields=["secret_encrypted", "previous_secret_encrypted", "updated_at"]
                )
                resealed += 1
        self.emit({"resealed": resealed})
