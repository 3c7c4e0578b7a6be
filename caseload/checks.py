"""System checks that keep a misconfigured process from starting and then serving 500s."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import Error, register
from django.core.files.storage import storages


@register("staticfiles", deploy=True)
def static_manifest_collected(app_configs=None, **kwargs) -> list[Error]:
    """With a manifest storage (production), every static URL needs `collectstatic` first."""
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return []
    manifest = Path(settings.STATIC_ROOT) / storage.manifest_name
    if manifest.is_file():
        return []
    return [
        Error(
            f"Static files have not been collected: {manifest} is missing, so every page "
            "that links a static file (the API docs, the admin) would answer 500.",
            hint="Run `manage.py collectstatic --noinput` before starting the server.",
            id="caseload.E001",
        )
    ]
