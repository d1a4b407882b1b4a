"""The GraphQL schema: every domain's queries merged into one root."""

import logging
from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.types import ExecutionContext

from gateway.errors import ErrorCodes, is_unexpected
from gateway.learners.queries import LearnerQueries

logger = logging.getLogger("plp.gateway")


@strawberry.type
class Query(LearnerQueries):
    """The root of every read."""


class Schema(strawberry.Schema):
    """The schema, logging only unexpected errors (expected ones are answers, not incidents)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log resolver failures that are bugs, with their traceback."""
        for error in errors:
            if is_unexpected(error):
                logger.error("resolver failed: %s", error.message, exc_info=error.original_error)


def build_schema(*, dev: bool) -> Schema:
    """The schema; introspection is allowed only in development."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [ErrorCodes]
    if not dev:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return Schema(query=Query, extensions=extensions)
