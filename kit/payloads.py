"""Request body shapes shared by the services.

`OneOrMany[Model]` accepts one object or a JSON array of them (xAPI statements, bulk roster
writes). A discriminator picks the branch from the JSON shape, so a bad body is reported
against the branch that was sent only, and the branch tags are dropped from error field names:
`verb.id` for one object, `1.verb.id` for the second item of an array.
"""

from typing import Annotated, Any, TypeVar

from pydantic import Discriminator, Tag

ONE = "@one"
MANY = "@many"
UNION_BRANCH_TAGS = frozenset({ONE, MANY})

M = TypeVar("M")


def _shape(value: Any) -> str:
    return MANY if isinstance(value, list) else ONE


OneOrMany = Annotated[
    Annotated[M, Tag(ONE)] | Annotated[list[M], Tag(MANY)],
    Discriminator(_shape),
]


def as_list(value: M | list[M]) -> list[M]:
    """The items of a `OneOrMany` value, in order."""
    return value if isinstance(value, list) else [value]
