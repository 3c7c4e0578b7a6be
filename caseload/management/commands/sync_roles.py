from caseload.permissions import roles_sync

from ._output import JsonCommand


class Command(JsonCommand):
    help = "Create or update one group per staff role with exactly its permissions."

    def handle(self, *args, **options):
        self.emit({"roles": roles_sync()})
