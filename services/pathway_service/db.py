"""The pathway service's own SQLModel registry, base table class and outbox."""

from sqlmodel import SQLModel

from kit.db import make_registry
from kit.outbox import define_outbox

pathway_registry = make_registry()


class PathwayTable(SQLModel, registry=pathway_registry):
    """Base of every pathway service table."""


metadata = pathway_registry.metadata
outbox = define_outbox(metadata)
