"""Integration clients: created by an administrator, listed, disabled and rotated by supervisors.

The client secret is shown once, when it is made; django-oauth-toolkit stores only its hash.
Disabling a client or rotating its secret revokes every access token it holds, and the token
check refuses a disabled client's tokens on the next request whatever they say.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from caseload.errors import Conflict, InvalidInput
from caseload.locks import share_lock
from caseload.models import (
    AuditAction,
    Consent,
    DisclosureBasis,
    IntegrationClient,
    IntegrationPrincipal,
    IntegrationScope,
    Patient,
    Program,
    Staff,
)
from caseload.permissions import (
    SystemActor,
    client_consents_covering,
    integration_may_receive,
    require_manage_program,
    staff_or_none,
)

from .audit import audit_denial, audit_record
from .disclosures import ledger_client_disclosures

SECRET_BYTES = 48


def _checked_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted({scope for scope in scopes if scope})
    unknown = [scope for scope in chosen if scope not in IntegrationScope.values]
    if unknown or not chosen:
        allowed = ", ".join(IntegrationScope.values)
        raise InvalidInput(
            f"Name one or more scopes from: {allowed}.", field="scopes", code="invalid_choice"
        )
    return chosen


def integration_create(
    *,
    name: str,
    program: Program,
    scopes: Iterable[str],
    actor: Staff | SystemActor,
    basis: str = DisclosureBasis.QSOA,
    legal_name: str = "",
    address: str = "",
) -> tuple[IntegrationClient, str]:
    """Register a client of `program` (the operator's set-up command or a supervisor of the
    program); returns it with its secret, which is never stored. `legal_name` and `address` are
    how a patient's accounting of disclosures names it."""
    require_manage_program(actor, program.pk, model=IntegrationClient)
    chosen = _checked_scopes(scopes)
    _check_client_fields(program, name, basis)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    try:
        with transaction.atomic():
            application = _oauth_application(f"{program.code}:{name}", secret)
            client = IntegrationClient.objects.create(
                program=program,
                name=name,
                legal_name=legal_name.strip()[:200],
                address=address.strip()[:500],
                scopes=chosen,
                basis=basis,
                application=application,
                created_by=staff_or_none(actor),
                updated_by=staff_or_none(actor),
            )
            detail = {"scopes": chosen, "basis": basis}
            audit_record(actor=actor, action=AuditAction.CREATE, obj=client, detail=detail)
    except IntegrityError as exc:
        raise Conflict("A client of this name exists.", code="unique", field="name") from exc
    return client, secret


def _check_client_fields(program: Program, name: str, basis: str) -> None:
    if basis not in DisclosureBasis.values:
        raise InvalidInput(
            f"basis is one of {', '.join(DisclosureBasis.values)}.",
            field="basis",
            code="invalid_choice",
        )
    if not name.strip():
        raise InvalidInput("Give the client a name.", field="name", code="required")
    if IntegrationClient.objects.filter(program=program, name=name).exists():
        raise Conflict("A client of this name exists.", code="unique", field="name")


def _oauth_application(name: str, secret: str) -> Application:
    """The client-credentials application behind a client; its secret is stored hashed."""
    return Application.objects.create(
        name=name[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
        user=None,
    )


def integration_disable(*, client: IntegrationClient, actor: Staff) -> IntegrationClient:
    """Stop the client: its tokens stop working on the next request. Idempotent."""
    require_manage_program(actor, client.program_id, model=IntegrationClient)
    with transaction.atomic():
        locked = IntegrationClient.objects.select_for_update().get(pk=client.pk)
        if locked.disabled_at is None:
            locked.disabled_at = timezone.now()
            locked.updated_by = staff_or_none(actor)
            locked.version += 1
            locked.save(update_fields=["disabled_at", "updated_by", "version", "updated_at"])
            revoked = _revoke_tokens(locked)
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=locked,
                detail={"change": "disable", "tokens": revoked},
            )
    return locked


def integration_rotate_secret(
    *, client: IntegrationClient, actor: Staff
) -> tuple[IntegrationClient, str]:
    """Give the client a new secret (shown once); the old one and every token stop working."""
    require_manage_program(actor, client.program_id, model=IntegrationClient)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        locked = IntegrationClient.objects.select_for_update().get(pk=client.pk)
        application = locked.application
        application.client_secret = secret
        application.hash_client_secret = True
        application.save(update_fields=["client_secret", "hash_client_secret", "updated"])
        locked.updated_by = staff_or_none(actor)
        locked.version += 1
        locked.save(update_fields=["updated_by", "version", "updated_at"])
        revoked = _revoke_tokens(locked)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked,
            detail={"change": "rotate_secret", "tokens": revoked},
        )
    return locked, secret


def _revoke_tokens(client: IntegrationClient) -> int:
    deleted, _ = AccessToken.objects.filter(application_id=client.application_id).delete()
    return deleted


def integration_principal(
    *, application: Application, token_scopes: Iterable[str]
) -> IntegrationPrincipal | None:
    """Who a valid access token speaks for; None when the client is disabled or unknown.

    The scopes are the token's, less any the client no longer holds.
    """
    client = (
        IntegrationClient.objects.select_related("program")
        .filter(application=application, disabled_at__isnull=True)
        .first()
    )
    if client is None:
        return None
    return IntegrationPrincipal(client=client, scopes=frozenset(token_scopes) & set(client.scopes))


def integration_may_issue_token(*, client: IntegrationClient, secret_checked: str) -> bool:
    """Is the client still exactly as when its secret was checked (same version, enabled)?

    Call in the transaction that stores the new token: the client's row is locked `FOR SHARE`
    until it commits, so a rotation or disablement (which lock the row, bump its version and
    revoke every token) either waits and then revokes this token too, or has committed and is
    seen here. No token minted with an old secret outlives the rotation that retired it.

    `secret_checked` is the stored (hashed) secret the request's secret was checked against: the
    client's row may have been read after a rotation committed, but the secret it was checked
    against must still be the application's.
    """
    current = IntegrationClient.objects.filter(
        pk=client.pk,
        version=client.version,
        disabled_at__isnull=True,
        application__client_secret=secret_checked,
    )
    return bool(share_lock(current))


def integration_for_application(application: Application) -> IntegrationClient | None:
    """The enabled client behind a DOT application, for the token endpoint."""
    return IntegrationClient.objects.filter(
        application=application, disabled_at__isnull=True
    ).first()


QSOA_PURPOSE = "Services to the program under a qualified service organization agreement"


def integration_disclose(
    *, principal: IntegrationPrincipal, category: str, patient_ids: Iterable
) -> set[str]:
    """Ledger one payload about `patient_ids` for a client; returns the ids it may carry.

    Call inside the transaction that serves the payload, and send only records of the returned
    patients: the client's row and the consents relied on are locked (`FOR SHARE`) and checked
    again here, so a revocation or disablement that committed after the records were read
    drops its patients from the payload, and one that comes later waits for this transaction.
    What the client receives is exactly what is ledgered. One INSERT per purpose.
    """
    ids = sorted({str(pk) for pk in patient_ids if pk})
    if not ids:
        return set()
    relied_on = integration_lawful_basis(principal=principal, category=category, patient_ids=ids)
    by_purpose: dict[str, dict[str, str | None]] = {}
    for patient_id, (consent_id, purpose) in relied_on.items():
        by_purpose.setdefault(purpose, {})[patient_id] = consent_id
    for purpose, consents in sorted(by_purpose.items()):
        ledger_client_disclosures(
            client=principal.client,
            patients=list(consents),
            information=[category],
            purpose=purpose,
            basis=principal.client.basis,
            consents={k: v for k, v in consents.items() if v},
        )
    return set(relied_on)


def integration_lawful_basis(
    *, principal: IntegrationPrincipal, category: str, patient_ids: Iterable
) -> dict[str, tuple[str | None, str]]:
    """Patient id -> (consent id or None, purpose) for each patient whose `category` the client
    may lawfully receive now; the rows relied on stay locked until the transaction ends.

    The client must be enabled, of the patients' program, and hold the scope that discloses
    `category`; under basis `consent` the newest active consent naming it and covering the
    category is relied on (the rule of `client_consents_covering`).
    """
    ids = sorted({str(pk) for pk in patient_ids if pk})
    client = principal.client
    enabled = IntegrationClient.objects.filter(pk=client.pk, disabled_at__isnull=True)
    if not ids or not share_lock(enabled) or not integration_may_receive(principal, category):
        return {}
    in_program = _of_program(ids, client.program_id)
    if client.basis != DisclosureBasis.CONSENT:
        return {pk: (None, QSOA_PURPOSE) for pk in ids if pk in in_program}
    consents = client_consents_covering(principal, category).filter(patient_id__in=in_program)
    locked = share_lock(consents)
    relied_on: dict[str, tuple[str | None, str]] = {}
    newest_first = (
        Consent.objects.filter(pk__in=locked)
        .order_by("patient_id", "-signed_at")
        .values_list("patient_id", "pk", "purpose")
    )
    for patient_id, consent_id, purpose in newest_first:
        relied_on.setdefault(str(patient_id), (str(consent_id), purpose))
    return relied_on


def _of_program(ids: list[str], program_id) -> set[str]:
    """Which of the patients `ids` belong to the program. On PostgreSQL one array parameter
    (`= ANY`), not an IN list of 500 values each parsed and quoted by the ORM: on a feed page
    that was 7 % of the request (docs/performance.md)."""
    if connection.vendor != "postgresql":
        found = Patient.objects.filter(pk__in=ids, program_id=program_id)
        return set(map(str, found.values_list("pk", flat=True)))
    table = connection.ops.quote_name(Patient._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id::text FROM {table} WHERE program_id = %s AND id = ANY(%s::uuid[])",  # noqa: S608 - our table
            [program_id, ids],
        )
        return {row[0] for row in cursor.fetchall()}


def integration_access_refused(*, raw_token: str, reason: str = "invalid_token") -> None:
    """Audit an OAuth2 bearer token that was refused (unknown, expired, revoked, or its client
    disabled) as a `login_failed`. A token Caseload issued names its client and program; the
    token itself is never recorded."""
    checksum = hashlib.sha256(raw_token.encode()).hexdigest()
    token = (
        AccessToken.objects.select_related("application__integration")
        .filter(token_checksum=checksum)
        .first()
    )
    client = getattr(token.application, "integration", None) if token is not None else None
    audit_denial(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        resource_type="accesstoken",
        resource_id=token.pk if token is not None else "",
        status_code=401,
        program_id=client.program_id if client is not None else None,
        client=client.pk if client is not None else None,
        detail={"via": "oauth", "reason": reason},
    )


def integration_signin_refused(*, client_id: str, error: str, status_code: int) -> None:
    """Audit a refused `POST /o/token/` (wrong secret, unknown or disabled client, a scope not
    given) as a `login_failed` of that client, when the client id is one of ours. The secret is
    never recorded."""
    client = (
        IntegrationClient.objects.filter(application__client_id=client_id).first()
        if client_id
        else None
    )
    audit_denial(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        resource_type="integrationclient",
        resource_id=client.pk if client is not None else "",
        status_code=status_code,
        program_id=client.program_id if client is not None else None,
        client=client.pk if client is not None else None,
        detail={"via": "oauth_token", "error": error}
        | ({} if client is not None else {"client_id": client_id[:100]}),
    )
