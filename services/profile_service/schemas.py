"""Request and response bodies of the profile service (camelCase on the wire, as OneRoster)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kit.identifiers import SOURCED_ID


class CamelModel(BaseModel):
    """Base for wire models: camelCase aliases, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class LearnerCreate(CamelModel):
    """A learner to add to the roster."""

    sourced_id: str = Field(pattern=SOURCED_ID, description="The learner's id in the district's systems.")
    given_name: str = Field(min_length=1, max_length=255)
    family_name: str = Field(min_length=1, max_length=255)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    username: str | None = Field(default=None, max_length=255)
    grades: list[str] = Field(default_factory=list, max_length=20, description="Grade levels, e.g. `07`.")
    primary_org_sourced_id: str | None = Field(default=None, pattern=SOURCED_ID, description="The learner's school.")


class LearnerPublic(CamelModel):
    """A learner as the API shows it."""

    sourced_id: str
    status: str
    date_last_modified: datetime
    given_name: str
    family_name: str
    email: str | None
    username: str | None
    grades: list[str]
    primary_org_sourced_id: str | None


class LearnerRelation(CamelModel):
    """How the caller relates to a learner: why they may read the learner's data."""

    learner_sourced_id: str
    relation: str = Field(description="One of self, guardian, teacher, admin, partner.")


class LearnerLookup(CamelModel):
    """Email addresses to resolve to roster learners (xAPI actors identified by `mbox`)."""

    emails: list[str] = Field(max_length=1000, description="Addresses, without `mailto:`; matched case-insensitively.")


class LearnerLookupResult(CamelModel):
    """The active learners found, by the address as it was sent; addresses with no learner are left out."""

    learners: dict[str, str] = Field(description="Email address -> learner sourcedId.")
