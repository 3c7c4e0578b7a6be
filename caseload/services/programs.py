"""Programs and their staff."""

from __future__ import annotations

import re

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from caseload.errors import Conflict, InvalidInput
from caseload.models import AuditAction, Program, Role, Staff
from caseload.permissions import require_manage_program, role_group_name, roles_sync

from .audit import audit_record
from .records import ExpectedVersion, version_claim

REMINDER_TEXT_MAX = Program._meta.get_field("reminder_text").max_length


def program_create(*, code: str, name: str, reminder_text: str | None = None) -> Program:
    """A program; `reminder_text` is the neutral wording its appointment reminders start with."""
    program = Program(code=code, name=name)
    if reminder_text is not None:
        program.reminder_text = reminder_text.strip()
    try:
        program.full_clean()
    except DjangoValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(messages[0], field=field) from exc
    with transaction.atomic():
        program.save()
        audit_record(actor=None, action=AuditAction.CREATE, obj=program)
    return program


def program_reminder_text_update(
    *, program: Program, actor: Staff, text: str, expected_version: ExpectedVersion
) -> Program:
    """Change the neutral wording the program's appointment reminders start with (its
    supervisors). A reminder reaches a phone or a mailbox others may see, so the wording may
    not name the program: being its patient is itself protected (docs/background-work.md)."""
    require_manage_program(actor, program.pk, model=Program)
    text = " ".join((text or "").split())
    with transaction.atomic():
        fresh = version_claim(Program, program.pk, expected_version)
        _check_reminder_text(fresh, text)  # on the locked row: its name as it stands
        fresh.reminder_text = text
        fresh.updated_by = actor
        fresh.save(update_fields=["reminder_text", "updated_by", "updated_at"])
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=fresh, detail={"fields": ["reminder_text"]}
        )
    return fresh


def _check_reminder_text(program: Program, text: str) -> None:
    if not text:
        raise InvalidInput("Reminders need a wording.", field="reminder_text", code="required")
    if len(text) > REMINDER_TEXT_MAX:
        raise InvalidInput(
            f"At most {REMINDER_TEXT_MAX} characters.", field="reminder_text", code="max_length"
        )
    for name in (program.name, program.code):
        if name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE):
            raise InvalidInput(
                "The wording may not name the program: a reminder must not reveal that the "
                "person is its patient.",
                field="reminder_text",
                code="names_program",
            )


def staff_create(
    *,
    username: str,
    program: Program,
    role: str,
    password: str | None = None,
    actor: Staff | None = None,
    first_name: str = "",
    last_name: str = "",
) -> Staff:
    """Create a staff member in `program` with `role`; without a password they use tokens only."""
    if role not in Role.values:
        raise InvalidInput(f"Unknown role {role!r}; one of {', '.join(Role.values)}.", field="role")
    if Staff.objects.filter(username=username).exists():
        raise Conflict(f"Username {username!r} is taken.", code="username_taken", field="username")
    with transaction.atomic():
        staff = Staff(
            username=username,
            program=program,
            role=role,
            first_name=first_name,
            last_name=last_name,
        )
        if password:
            staff_password_check(staff=staff, password=password)
            staff.set_password(password)
        else:
            staff.set_unusable_password()
        staff.save()
        staff.groups.set([_role_group(role)])
        audit_record(actor=actor, action=AuditAction.CREATE, obj=staff, detail={"role": role})
    return staff


def staff_password_check(*, staff: Staff, password: str) -> None:
    """Run the AUTH_PASSWORD_VALIDATORS; every path that sets a password calls this first."""
    try:
        validate_password(password, user=staff)
    except DjangoValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="weak_password", field="password") from exc


def _role_group(role: str) -> Group:
    group = Group.objects.filter(name=role_group_name(role)).first()
    if group is None:
        roles_sync()
        group = Group.objects.get(name=role_group_name(role))
    return group
