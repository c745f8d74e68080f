"""Domain errors. Services raise these; the API and the web UI turn them into 4xx responses.

Every error names the field it is about (when there is one) so that a client can show it next to
the right input."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a request that cannot be carried out as asked."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_error"


class PermissionDenied(DomainError):
    status_code = 403
    code = "permission_denied"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The request is valid but the current state forbids it (e.g. a transition not allowed)."""

    status_code = 409
    code = "conflict"
