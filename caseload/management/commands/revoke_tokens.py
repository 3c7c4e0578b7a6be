from caseload.services.tokens import token_revoke_all

from ._output import JsonCommand


class Command(JsonCommand):
    help = "Revoke every personal API token of a staff member (e.g. a lost laptop)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        staff = self.staff_named(username)
        count = token_revoke_all(staff=staff, actor=None)
        self.emit({"username": staff.username, "revoked": count})
