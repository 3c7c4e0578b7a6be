"""Who may see and change what: roles as data, and the policy API every layer asks.

Two questions decide every access:
1. Does the staff member's *role* allow the action on the record type? (role → model permission
   codenames, synced to one group per role by `manage.py sync_roles`.)
2. Is the *patient* visible to them? Supervisors and front desk see their whole program;
   counselors and prescribers see the patients they hold a django-guardian object grant for.
   Grants are given and taken only by `caseload.services.care_team`.
Objects of another program are never visible, whatever the role.

Integration clients are not staff and hold no role. An integration reads only lists its OAuth2
scopes name (`appointments:read`: appointments; `patients:read`: patient demographics and
contact details), in its program, for the patients it may lawfully receive: every patient of the
program under a qualified service organization agreement (basis `qsoa`), or only those whose
active consent names the client and covers the category (basis `consent`). It writes nothing and
receives no clinical content.

Break-the-glass widens only what a clinician may *read*: a patient of their own program they
opened with a stated reason is visible until the access expires, but never writable
(`patients_writable_by` leaves it out, and the write services ask `can_write_patient`).

Caseload acting on its own account is a `SystemActor`, never "anyone who is not staff": the
scheduler (no-shows) and the operator (set-up commands run on the server) each hold only the
grants they name. Every write service asks `require_may` once, for the actor, the action and
the record (or its type), so a command or a task is held to the same rules as a request.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.db import models
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from caseload.context import current_request
from caseload.errors import Forbidden
from caseload.models import (
    Appointment,
    BreakGlass,
    Consent,
    DisclosureBasis,
    InformationCategory,
    IntegrationClient,
    IntegrationPrincipal,
    IntegrationScope,
    Patient,
    Role,
    is_integration,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from caseload.models import Staff

VIEW, ADD, CHANGE = "view", "add", "change"
DECIDE = "decide"  # accept or deny an amendment request
CARE_TEAM_CODENAME = "view_patient"
CARE_TEAM_PERMISSION = f"caseload.{CARE_TEAM_CODENAME}"


def _perms(model: str, *actions: str) -> set[str]:
    return {f"{action}_{model}" for action in actions}


_CARE_TEAM_READ = (
    _perms("casenote", VIEW)
    | _perms("enrollment", VIEW)
    | _perms("medicationrecord", VIEW)
    | _perms("referral", VIEW)
)
_CLINICAL_RECORDS = ("assessment", "drugscreen")
# Treatment records: written by the patient's counselor (and supervisors), read by prescribers.
_TREATMENT_RECORDS = ("placement", "treatmentplan")
# Part 2: consents are read by the patient's clinicians and written by counselors and
# supervisors; the disclosure ledger is read-only for everyone.
_COMPLIANCE_READ = _perms("consent", VIEW) | _perms("disclosure", VIEW)

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.COUNSELOR: (
        _perms("patient", VIEW, CHANGE)
        | _perms("casenote", VIEW, ADD, CHANGE)
        | _perms("appointment", VIEW, ADD, CHANGE)
        | _perms("referral", VIEW, ADD, CHANGE)
        | set().union(*(_perms(m, VIEW, ADD, CHANGE) for m in _CLINICAL_RECORDS))
        | _CARE_TEAM_READ
        | _COMPLIANCE_READ
        | _perms("consent", ADD, CHANGE)
        | _perms("amendmentrequest", VIEW, ADD, CHANGE)
        | _perms("breakglass", ADD)
        | set().union(*(_perms(m, VIEW, ADD, CHANGE) for m in _TREATMENT_RECORDS))
    ),
    Role.PRESCRIBER: (
        _perms("patient", VIEW)
        | _perms("appointment", VIEW, ADD, CHANGE)
        | _perms("medicationrecord", VIEW, ADD, CHANGE)
        | set().union(*(_perms(m, VIEW, ADD, CHANGE) for m in _CLINICAL_RECORDS))
        | _CARE_TEAM_READ
        | _COMPLIANCE_READ
        | _perms("amendmentrequest", VIEW)
        | _perms("breakglass", ADD)
        | set().union(*(_perms(m, VIEW) for m in _TREATMENT_RECORDS))
    ),
    Role.SUPERVISOR: (
        set().union(
            *(
                _perms(m, VIEW, ADD, CHANGE)
                for m in (
                    "patient",
                    "enrollment",
                    "casenote",
                    "appointment",
                    "staff",
                    "referral",
                    "medicationrecord",
                    "consent",
                    "amendmentrequest",
                    *_CLINICAL_RECORDS,
                    *_TREATMENT_RECORDS,
                )
            )
        )
        | _perms("auditevent", VIEW)
        | {"decide_amendmentrequest"}
        # Disclosures made outside the system are recorded by a supervisor.
        | _perms("disclosure", VIEW, ADD)
        | _perms("breakglass", VIEW, CHANGE)
    ),
    Role.FRONT_DESK: _perms("patient", VIEW, CHANGE) | _perms("appointment", VIEW, ADD, CHANGE),
}

# Roles that see their whole program rather than their own caseload.
PROGRAM_WIDE_ROLES = {Role.SUPERVISOR, Role.FRONT_DESK}
# Roles that give a patient a copy of their own record (42 CFR 2.23, HIPAA 164.524): the
# patient's counselor, or a supervisor of the program.
RECORD_COPY_ROLES = {Role.COUNSELOR, Role.SUPERVISOR}
# Roles that may break the glass: clinicians who work from a caseload.
BREAK_GLASS_ROLES = {Role.COUNSELOR, Role.PRESCRIBER}

# Patient fields front desk may change; everything else on a patient is a counselor's.
FRONT_DESK_PATIENT_FIELDS = {
    "phone",
    "email",
    "address_line",
    "city",
    "state",
    "postal_code",
    "reminder_channel",
}
# Patient fields that are clinical content, hidden from roles that see none.
CLINICAL_PATIENT_FIELDS = frozenset({"last_use_at", "withdrawal_phase", "withdrawal_phase_label"})
# Fields unique across the program. A change that collides with a patient the caller cannot see
# would reveal that patient's MRN, so only roles that see the whole program may change them.
PROGRAM_UNIQUE_PATIENT_FIELDS = {"mrn"}


@dataclass(frozen=True, eq=False)
class SystemActor:
    """Caseload itself acting: a scheduled task or a set-up command run on the server.

    Not staff and not an integration: it holds exactly `grants`, (action, model name) pairs,
    acts across programs (it has none of its own), and is named in the audit log as
    `role: system` with its name.
    """

    name: str
    grants: frozenset[tuple[str, str]]

    role = "system"
    is_system = True
    is_authenticated = False
    is_integration = False
    pk = None
    id = None
    program_id = None

    def __str__(self) -> str:
        return f"system:{self.name}"


# The worker: marks overdue bookings as no-shows (an appointment transition). Follow-ups for
# plan reviews that fell due are its own work items and need no grant on a clinical record.
SCHEDULER = SystemActor("scheduler", frozenset({(CHANGE, "appointment")}))
# Set-up commands an administrator runs on the server (docs/operations.md, "Set-up
# commands"): open an enrollment and assign the care team, create and manage integration
# clients, lift sign-in locks.
OPERATOR = SystemActor(
    "operator",
    frozenset(
        {
            (ADD, "enrollment"),
            (CHANGE, "enrollment"),
            (CHANGE, "integrationclient"),
            (CHANGE, "staff"),  # lift a sign-in lock (`unlock_signin`)
        }
    ),
)


def is_system(actor: object) -> bool:
    return isinstance(actor, SystemActor)


def staff_or_none(actor: object):
    """The staff member a row names as author or updater: none for a system actor or a client."""
    return actor if getattr(actor, "pk", None) else None


def may(
    actor: object,
    action: str,
    target: models.Model | type[models.Model],
    *,
    patient: Patient | None = None,
) -> bool:
    """May `actor` take `action` (view, add, change) on this record or record type?

    The role (or a system actor's grants, or an integration's scopes) decides the type; for a
    change to a patient's records (the record's own, or `patient` for a record not made yet),
    the patient must be one the actor may write to.
    """
    model = target if isinstance(target, type) else type(target)
    allowed = _type_allowed(actor, action, model)
    if not allowed or action == VIEW:
        return allowed
    patient = patient or patient_of(target)
    return patient is None or may_write_patient(actor, patient)


def may_each(
    actor: object, asks: Iterable[tuple[str, type[models.Model]]], *, patient: Patient
) -> tuple[bool, dict[tuple[str, type[models.Model]], bool]]:
    """Whether the actor may write to `patient`, and `may(actor, action, model,
    patient=patient)` for each ask: one question about the patient for a page offering
    several forms, not one per form."""
    writable = may_write_patient(actor, patient)
    answers = {}
    for action, model in asks:
        allowed = _type_allowed(actor, action, model)
        answers[(action, model)] = allowed and (action == VIEW or writable)
    return writable, answers


def _type_allowed(actor: object, action: str, model: type[models.Model]) -> bool:
    """The record type half of `may`: a system actor's grants, an integration's scopes, or
    the role."""
    if is_system(actor):
        return (action, model._meta.model_name) in actor.grants
    if is_integration(actor):
        return action == VIEW and integration_may_list(actor, model)
    return has_role_permission(actor, action, model)


def require_may(
    actor: object,
    action: str,
    target: models.Model | type[models.Model],
    *,
    patient: Patient | None = None,
) -> None:
    """`may`, or Forbidden naming why: break-the-glass access is read-only (its own code)."""
    if may(actor, action, target, patient=patient):
        return
    model = target if isinstance(target, type) else type(target)
    patient = patient or patient_of(target)
    if (
        patient is not None
        and has_role_permission(actor, action, model)
        and patient.pk in break_glass_access(actor)
    ):
        raise Forbidden(
            "Break-the-glass access is read-only.", code="break_glass_read_only", field="patient"
        )
    if patient is not None and has_role_permission(actor, action, model):
        raise Forbidden("You may not change this patient's records.", field="patient")
    who = getattr(actor, "role", "") or "caller"
    raise Forbidden(f"A {who} may not {action} {model._meta.verbose_name} records.")


def patient_of(target) -> Patient | None:
    """The patient a record (or a patient) belongs to; None for a record type or a record of no
    patient."""
    if isinstance(target, type):
        return None
    return target if isinstance(target, Patient) else getattr(target, "patient", None)


def may_write_patient(actor: object, patient: Patient) -> bool:
    """Staff write to their caseload (or program); a system actor to any patient its grants
    reach; nobody else."""
    if is_system(actor):
        return True
    return can_write_patient(actor, patient)


def may_manage_program(actor: object, program_id, *, model: type[models.Model]) -> bool:
    """Administration of a program (its integrations, webhooks, staff sign-in locks): its
    supervisors, or the operator (for what its grants name)."""
    if is_system(actor):
        return (CHANGE, model._meta.model_name) in actor.grants
    return (
        is_staff_member(actor)
        and actor.role == Role.SUPERVISOR
        and str(actor.program_id) == str(program_id)
    )


def may_read_program_reports(actor: object) -> bool:
    """Program reports (census, admissions and discharges, plan reviews, continuity of
    pharmacotherapy) are for the program's supervisors."""
    return is_staff_member(actor) and actor.role == Role.SUPERVISOR


def may_give_record_copy(actor: object, patient: Patient) -> bool:
    """A copy of the patient's own record is made for the patient by their counselor or a
    supervisor of the program; break-the-glass access (read-only) is not enough."""
    return (
        is_staff_member(actor)
        and actor.role in RECORD_COPY_ROLES
        and can_write_patient(actor, patient)
    )


def require_manage_program(actor: object, program_id, *, model: type[models.Model]) -> None:
    if not may_manage_program(actor, program_id, model=model):
        raise Forbidden(
            f"Only a supervisor of the program manages its {model._meta.verbose_name}s."
        )


def roles_sync() -> dict[str, int]:
    """Create one group per role holding exactly its permissions. Idempotent."""
    synced = {}
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        perms = list(
            Permission.objects.filter(content_type__app_label="caseload", codename__in=codenames)
        )
        missing = codenames - {p.codename for p in perms}
        if missing:
            raise LookupError(f"Unknown permissions for {role}: {sorted(missing)}")
        group.permissions.set(perms)
        synced[str(role)] = len(perms)
    return synced


def role_group_name(role: str) -> str:
    return f"role:{role}"


def is_staff_member(user: object) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "program_id", None)
        and not is_integration(user)
    )


def has_role_permission(user: Staff, action: str, model: type[models.Model]) -> bool:
    """Does the user's role allow `action` (view/add/change) on this record type?

    An integration client holds no role: see `integration_may_list`.
    """
    if not is_staff_member(user) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    # The role's permissions are this module's `ROLE_PERMISSIONS`, which `roles_sync` copies into
    # the role's group: asking the groups (`user.has_perm`) cost a query on every request.
    return f"{action}_{model._meta.model_name}" in ROLE_PERMISSIONS.get(user.role, ())


# Integration scopes: what each lets a client list, and the consent category it discloses.
INTEGRATION_SCOPE_MODELS: dict[str, type[models.Model]] = {
    IntegrationScope.APPOINTMENTS_READ: Appointment,
    IntegrationScope.PATIENTS_READ: Patient,
}
DISCLOSED_CATEGORY: dict[type[models.Model], str] = {
    Appointment: InformationCategory.APPOINTMENTS,
    Patient: InformationCategory.DEMOGRAPHICS,
}
# Appointment fields an integration never receives: free text that may be clinical, and
# internal scheduling details.
INTEGRATION_HIDDEN_APPOINTMENT_FIELDS = frozenset(
    {"cancellation_reason", "overlap_allowed", "reminder_due_at", "created_at"}
)


def integration_may_list(user: object, model: type[models.Model]) -> bool:
    """May this integration client list records of `model`? Only what a scope names.

    Integrations read collections only (the REST list, FHIR search and read); every other
    route and every write is refused.
    """
    if not is_integration(user):
        return False
    return any(
        scope in user.scopes and scoped is model
        for scope, scoped in INTEGRATION_SCOPE_MODELS.items()
    )


def integration_may_receive(principal: IntegrationPrincipal, category: str) -> bool:
    """Does the client hold a scope whose records disclose `category`?"""
    return any(
        DISCLOSED_CATEGORY[model] == category and scope in principal.scopes
        for scope, model in INTEGRATION_SCOPE_MODELS.items()
    )


def _active_consents(principal: IntegrationPrincipal) -> models.QuerySet[Consent]:
    """The client's active consents: an index range scan of `consent_recipient_active`
    (client, patient) whatever the number of consents."""
    return Consent.objects.active().filter(
        recipient_client=principal.client.pk, program_id=principal.program_id
    )


def client_consents_covering(
    principal: IntegrationPrincipal, category: str
) -> models.QuerySet[Consent]:
    """Active consents naming this client that cover `category` (42 CFR 2.31), by the rule in
    `caseload/models/consent.py` that every disclosure channel applies."""
    return _active_consents(principal).covering([category])


# Up to this many consented patients are sent to the database as a list of ids, which lets it
# walk the feed's ordered index and stop at the page's end; more are a subquery.
CONSENTED_IDS_AS_LIST = 10_000


def patients_disclosable_to(
    principal: IntegrationPrincipal, category: str
) -> models.QuerySet[Patient]:
    """The patients whose `category` information this client may receive."""
    in_program = Patient.objects.filter(program_id=principal.program_id)
    if principal.client.basis == DisclosureBasis.QSOA:
        return in_program
    return in_program.filter(pk__in=consented_patient_ids(principal, category))


def consented_patient_ids(principal: IntegrationPrincipal, category: str):
    """The ids of the patients an active consent naming the client covers for `category`: a list
    (read once, by index) when there are at most CONSENTED_IDS_AS_LIST, else a subquery.

    Given a list, the planner sees how many patients it covers and reads a feed page in change
    order from the feed's index, stopping at the page's end; given a subquery it cannot, and
    reads every covered appointment and sorts them, page after page (a walk from the epoch then
    times out).
    """
    consenting = client_consents_covering(principal, category).values_list("patient_id", flat=True)
    ids = list(consenting.order_by()[: CONSENTED_IDS_AS_LIST + 1])
    return ids if len(ids) <= CONSENTED_IDS_AS_LIST else consenting


def access_fingerprint(user: object) -> str:
    """Changes whenever the set of patients the user may see could have changed by more than
    new records: a sync link issued under another fingerprint can no longer be honoured.
    """
    if is_integration(user):
        parts = [f"client:{user.client.pk}", user.client.basis, *sorted(user.scopes)]
        if user.client.basis == DisclosureBasis.CONSENT:
            ids = _active_consents(user).order_by("pk").values_list("pk", flat=True)
            parts += [str(pk) for pk in ids]
    elif is_staff_member(user):
        parts = [f"staff:{user.pk}", str(user.role), str(user.program_id)]
        if user.role not in PROGRAM_WIDE_ROLES:
            granted = patients_visible_to(user).order_by("pk").values_list("pk", flat=True)
            parts += [str(pk) for pk in granted]
    else:
        parts = ["nobody"]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def patients_visible_to(user: Staff) -> models.QuerySet[Patient]:
    """Every patient this user may open: their caseload, and patients of their program they
    broke the glass for while that access lasts. Never crosses the user's program. An
    integration sees the patients it may lawfully receive."""
    if is_integration(user):
        return patients_disclosable_to(user, InformationCategory.DEMOGRAPHICS)
    caseload = patients_writable_by(user)
    if not is_staff_member(user) or user.role in PROGRAM_WIDE_ROLES:
        return caseload
    opened = break_glass_access(user)
    if not opened:
        return caseload
    return Patient.objects.filter(program_id=user.program_id).filter(
        models.Q(pk__in=caseload.values("pk")) | models.Q(pk__in=list(opened))
    )


def patients_writable_by(user: Staff) -> models.QuerySet[Patient]:
    """Every patient whose records this user's role may change: their caseload, or the whole
    program for program-wide roles. Break-the-glass access never adds to it."""
    if not is_staff_member(user):
        return Patient.objects.none()
    in_program = Patient.objects.filter(program_id=user.program_id)
    if user.role in PROGRAM_WIDE_ROLES:
        return in_program
    # The query is built once per request (django-guardian builds it anew on every call, which
    # cost more than running it); each caller gets an unevaluated copy, so every read still
    # asks the database.
    request = current_request()
    key = ("care_team", user.pk)
    if request is not None and key in request.memo:
        return request.memo[key].all()
    care_team = get_objects_for_user(
        user,
        CARE_TEAM_PERMISSION,
        klass=in_program,
        accept_global_perms=False,
        with_superuser=False,
    )
    if request is not None:
        request.memo[key] = care_team
        return care_team.all()
    return care_team


def can_view_patient(user: Staff, patient: Patient) -> bool:
    return patients_visible_to(user).filter(pk=patient.pk).exists()


def can_write_patient(user: Staff, patient: Patient) -> bool:
    """May this user change records of `patient` (role rules aside)?"""
    if not is_staff_member(user) or patient.program_id != user.program_id:
        return False
    if user.role in PROGRAM_WIDE_ROLES:
        return True
    return patients_writable_by(user).filter(pk=patient.pk).exists()


def break_glass_access(user: Staff) -> dict[uuid.UUID, uuid.UUID]:
    """Patient id -> break-glass id for each unexpired break-the-glass access of the user.

    Asked once per request (the answer is kept for the rest of it); expiry needs no job, since
    an access past `expires_at` is simply not found.
    """
    if not is_staff_member(user) or user.role not in BREAK_GLASS_ROLES:
        return {}
    until = getattr(user, "break_glass_until", None)
    if until is None or until <= timezone.now():
        return {}  # none open: the common case costs no query
    request = current_request()
    key = ("break_glass", user.pk)
    if request is not None and key in request.memo:
        return request.memo[key]
    opened = dict(
        BreakGlass.objects.filter(
            staff=user,
            program_id=user.program_id,
            patient__program_id=user.program_id,
            expires_at__gt=timezone.now(),
        )
        .order_by("expires_at")
        .values_list("patient_id", "id")
    )
    if request is not None:
        request.memo[key] = opened
    return opened


def forget_break_glass_access(user: Staff) -> None:
    """Drop the request's memo after the user's break-the-glass accesses changed."""
    request = current_request()
    if request is not None:
        request.memo.pop(("break_glass", user.pk), None)


def records_visible_to(user: Staff, model: type[models.Model]) -> models.QuerySet:
    """Records of `model` (each with a `patient`) the user may read: role and patient both."""
    if is_integration(user):
        if not integration_may_list(user, model):
            return model._default_manager.none()
        category = DISCLOSED_CATEGORY[model]
        if model is not Patient and user.client.basis == DisclosureBasis.CONSENT:
            # Straight to the ids: a join through patients would hide them from the planner.
            return model._default_manager.filter(
                patient_id__in=consented_patient_ids(user, category)
            )
        if model is not Patient and has_program_column(model):
            # QSOA: the whole program, read by the record's own program column (its patient's,
            # kept so by the database), so the feed walks `(program, change_seq, id)`.
            return model._default_manager.filter(program_id=user.program_id)
        return model._default_manager.filter(patient__in=patients_disclosable_to(user, category))
    if not has_role_permission(user, VIEW, model):
        return model._default_manager.none()
    visible = model._default_manager.filter(patient__in=patients_visible_to(user))
    if model is not Patient and has_program_column(model):
        # The record's own program column (its patient's, kept so by the database): the list
        # then reads its program's part of `(program, start, id)`, not every program's rows.
        visible = visible.filter(program_id=user.program_id)
    return visible


def patient_records_visible_to(
    user: Staff, patient: Patient, model_types: Iterable[type[models.Model]]
) -> dict[type[models.Model], models.QuerySet]:
    """`records_visible_to(user, model).filter(patient=patient)` for each type, asking once
    whether the user may open the patient rather than inside every type's query: the answer
    for one patient is the same for each, and a page reading nine record types built and
    planned the caseload's subquery nine times."""
    if is_integration(user):
        return {m: records_visible_to(user, m).filter(patient=patient) for m in model_types}
    visible = can_view_patient(user, patient)
    return {
        m: m._default_manager.filter(patient_id=patient.pk)
        if visible and has_role_permission(user, VIEW, m)
        else m._default_manager.none()
        for m in model_types
    }


def has_program_column(model: type[models.Model]) -> bool:
    """Does the record carry its patient's program itself (migration 0021)?"""
    return any(field.name == "program" for field in model._meta.concrete_fields)


def patient_fields_barred(user: Staff, fields: set[str]) -> set[str]:
    """The subset of `fields` the user may NOT change on a visible patient."""
    if not has_role_permission(user, CHANGE, Patient):
        return set(fields)
    if user.role == Role.FRONT_DESK:
        return set(fields) - FRONT_DESK_PATIENT_FIELDS
    if user.role not in PROGRAM_WIDE_ROLES:
        return set(fields) & PROGRAM_UNIQUE_PATIENT_FIELDS
    return set()


def sees_clinical_content(user: Staff) -> bool:
    """Front desk handles demographics and scheduling only."""
    return is_staff_member(user) and user.role != Role.FRONT_DESK


def hidden_patient_fields(user: Staff) -> frozenset[str]:
    """Patient fields the user may not see (front desk and integrations: the clinical ones)."""
    return frozenset() if sees_clinical_content(user) else CLINICAL_PATIENT_FIELDS


def hidden_appointment_fields(user: object) -> frozenset[str]:
    """Appointment fields the user may not see (integrations: free text and internals)."""
    return INTEGRATION_HIDDEN_APPOINTMENT_FIELDS if is_integration(user) else frozenset()


def integration_clients_visible_to(user: object) -> models.QuerySet[IntegrationClient]:
    """A program's integration clients, for its supervisors only."""
    if not is_staff_member(user) or user.role != Role.SUPERVISOR:
        return IntegrationClient.objects.none()
    return IntegrationClient.objects.filter(program_id=user.program_id)
