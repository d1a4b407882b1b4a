"""Identifier formats shared by every service.

A roster `sourcedId` travels in paths, query strings and event subjects, so all services
accept the same conservative alphabet: letters, digits and `. _ : @ -`, starting with a letter
or digit, at most 255 characters.
"""

from typing import Annotated

from fastapi import Path

SOURCED_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@\-]{0,254}$"

LearnerIdPath = Annotated[str, Path(pattern=SOURCED_ID, description="The learner's sourcedId.")]
ClassIdPath = Annotated[str, Path(pattern=SOURCED_ID, description="The class's sourcedId.")]
