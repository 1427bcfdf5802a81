"""The service's error hierarchy; the web layer maps each class to one HTTP status (see ``api.errors``)."""


class GeoServiceError(Exception):
    """Base class: a problem the caller can understand and act on."""


class NotFoundError(GeoServiceError):
    """A named thing (level, territory code, project...) does not exist."""


class InvalidInputError(GeoServiceError):
    """An argument is malformed; the message names the argument and the value received."""


class BadRequestError(GeoServiceError):
    """400: a query parameter the operation does not define, or a value it cannot read, where OGC API – Features
    asks for 400 (/req/core/query-param-unknown, /req/core/query-param-invalid) rather than the API's usual 422."""


class CostLimitError(InvalidInputError):
    """422: the request's parameters ask for more work than one request may (pairs, features, pixels); the
    message names the parameter, the estimated cost and the bound."""


class DataError(GeoServiceError):
    """The data on disk is missing, unreadable or inconsistent."""


class ConflictError(GeoServiceError):
    """The write contradicts what is stored (an id already taken, a project not deleted)."""


class AuthenticationError(GeoServiceError):
    """No credentials where a write needs them."""


class PermissionDeniedError(GeoServiceError):
    """Credentials that do not allow this (a wrong token, or writes disabled)."""


class PreconditionFailedError(GeoServiceError):
    """A conditional write (If-Match) found the resource at another version than the one the client read."""


class TooBusyError(GeoServiceError):
    """429: this client already has its share of costly work in progress, or the server has no room for more."""

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ClientGoneError(GeoServiceError):
    """The client left before its costly work started: the work is dropped (499 in the log; nobody reads it)."""
