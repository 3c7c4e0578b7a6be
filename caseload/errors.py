"""Domain errors. The API layer turns each into one JSON error shape with a stable code."""


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        errors: list[tuple[str, str, str]] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors
        if code:
            self.code = code

    def field_errors(self) -> list[tuple[str, str, str]]:
        """(field, code, message) for every failing field: `errors` when given, else `field`."""
        if self.errors:
            return list(self.errors)
        return [(self.field, self.code, self.message)] if self.field else []


class InvalidInput(DomainError):
    """Input that passed the serializer but breaks a domain rule; names the field."""

    code = "invalid"
    status = 400


class Forbidden(DomainError):
    code = "permission_denied"
    status = 403


class Conflict(DomainError):
    """The request is well formed but conflicts with the record's current state."""

    code = "conflict"
    status = 409


class PreconditionFailed(DomainError):
    code = "precondition_failed"
    status = 412


class LockedOut(DomainError):
    """Too many failed sign-ins for this username: refused, whatever the password, for a while."""

    code = "locked_out"
    status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
