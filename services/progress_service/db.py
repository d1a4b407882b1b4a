"""The progress service's own SQLModel registry, base table class and outbox."""

from sqlmodel import SQLModel

from kit.db import make_registry
from kit.outbox import define_outbox

progress_registry = make_registry()


class ProgressTable(SQLModel, registry=progress_registry):
    """Base of every progress service table."""


metadata = progress_registry.metadata
outbox = define_outbox(metadata)
