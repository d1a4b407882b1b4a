"""The profile service's own SQLModel registry, base table class and outbox."""

from sqlmodel import SQLModel

from kit.db import make_registry
from kit.outbox import define_outbox

profile_registry = make_registry()


class ProfileTable(SQLModel, registry=profile_registry):
    """Base of every profile service table."""


metadata = profile_registry.metadata
outbox = define_outbox(metadata)
