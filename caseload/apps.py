from django.apps import AppConfig


class CaseloadConfig(AppConfig):
    name = "caseload"
    verbose_name = "Caseload"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
