from django.core.management.base import CommandError

from caseload.models import Staff
from caseload.permissions import OPERATOR
from caseload.services.signins import signin_unlock

from ._output import JsonCommand


class Command(JsonCommand):
    help = 'Lift every sign-in lock of a staff member. Prints {"username": ..., "lifted": N}.'

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        staff = Staff.objects.filter(username=username).first()
        if staff is None:
            raise CommandError(f"username: no staff member {username!r}")
        self.emit(
            {"username": staff.username, "lifted": signin_unlock(staff=staff, actor=OPERATOR)}
        )
