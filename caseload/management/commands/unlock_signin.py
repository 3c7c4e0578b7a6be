from caseload.permissions import OPERATOR
from caseload.services.signins import signin_unlock

from ._output import JsonCommand


class Command(JsonCommand):
    help = 'Lift every sign-in lock of a staff member. Prints {"username": ..., "lifted": N}.'

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        staff = self.staff_named(username)
        self.emit(
            {"username": staff.username, "lifted": signin_unlock(staff=staff, actor=OPERATOR)}
        )
