"""How errors reach GraphQL clients: `extensions.code` on every error, internals masked.

Expected failures (the kit's `AppError`s raised by resolvers or by the service clients) keep
their message and get a code; anything else becomes "Internal server error" (the schema logs it).
"""

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from kit.errors import (
    AppError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
)

CODES: dict[type[AppError], str] = {
    UnauthorizedError: "UNAUTHENTICATED",
    ForbiddenError: "FORBIDDEN",
    NotFoundError: "NOT_FOUND",
    UnavailableError: "UNAVAILABLE",
    ConflictError: "CONFLICT",
    BadRequestError: "BAD_USER_INPUT",
}


def code_for(error: AppError) -> str:
    """The GraphQL error code of an `AppError`."""
    for kind, code in CODES.items():
        if isinstance(error, kind):
            return code
    return "BAD_USER_INPUT"


def _with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None:
        return GraphQLError(
            error.message, nodes=error.nodes, path=error.path, extensions={"code": "GRAPHQL_VALIDATION_FAILED"}
        )
    if isinstance(original, AppError):
        return GraphQLError(
            original.detail, nodes=error.nodes, path=error.path, extensions={"code": code_for(original)}
        )
    return GraphQLError(
        "Internal server error", nodes=error.nodes, path=error.path, extensions={"code": "INTERNAL_SERVER_ERROR"}
    )


def is_unexpected(error: GraphQLError) -> bool:
    """Whether an error is a bug to log (not a validation error nor an expected `AppError`)."""
    return error.original_error is not None and not isinstance(error.original_error, AppError)


class ErrorCodes(SchemaExtension):
    """Rewrite each execution error with its `extensions.code`, masking unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        """Post-process the finished operation's errors."""
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [_with_code(e) for e in result.errors]
