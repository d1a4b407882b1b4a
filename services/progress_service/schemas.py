"""Request and response bodies of the progress service.

The statement model here accepts the core of an xAPI statement (actor, verb, object, result,
context, timestamp); the full xAPI validation replaces it as the LRS grows.
"""

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, AnyUrl, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

COMPETENCY_EXTENSION = "https://plp.dev/xapi/extensions/competency"


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcTimestamp = Annotated[datetime, AfterValidator(_as_utc)]
"""An ISO 8601 timestamp, normalised to UTC; one without a time zone is read as UTC."""


class XapiModel(BaseModel):
    """xAPI objects keep the spec's camelCase names and allow extra properties for now."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Account(XapiModel):
    """An account on a system: `name` is the learner's roster sourcedId."""

    home_page: AnyUrl = Field(alias="homePage")
    name: str = Field(min_length=1, max_length=255)


class Agent(XapiModel):
    """The actor: identified by an account or an mbox."""

    object_type: str = Field(default="Agent", alias="objectType")
    account: Account | None = None
    mbox: str | None = Field(default=None, pattern=r"^mailto:[^@\s]+@[^@\s]+$")

    @model_validator(mode="after")
    def one_identifier(self) -> "Agent":
        """Exactly one inverse functional identifier."""
        if (self.account is None) == (self.mbox is None):
            raise ValueError("an agent needs exactly one of account or mbox")
        return self


class Verb(XapiModel):
    """What the actor did."""

    id: AnyUrl


class ActivityDefinition(XapiModel):
    """What the activity is; extensions may name the competencies it evidences."""

    extensions: dict[str, Any] | None = None


class Activity(XapiModel):
    """The object of a statement."""

    object_type: str = Field(default="Activity", alias="objectType")
    id: AnyUrl
    definition: ActivityDefinition | None = None


class Score(XapiModel):
    """A result score; `scaled` is in [-1, 1]."""

    scaled: float | None = Field(default=None, ge=-1, le=1)


class Result(XapiModel):
    """How it went."""

    success: bool | None = None
    completion: bool | None = None
    score: Score | None = None


class StatementIn(XapiModel):
    """An incoming xAPI statement."""

    id: UUID | None = None
    actor: Agent
    verb: Verb
    object: Activity
    result: Result | None = None
    timestamp: UtcTimestamp | None = None

    def competency_ids(self) -> list[str]:
        """The competencies this statement is evidence for (from the activity's extensions)."""
        extensions = (self.object.definition.extensions if self.object.definition else None) or {}
        value = extensions.get(COMPETENCY_EXTENSION)
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [str(v) for v in value]
        return []

    def correctness(self) -> bool | None:
        """Whether the response was correct, from `success` or else `score.scaled`."""
        if self.result is None:
            return None
        if self.result.success is not None:
            return self.result.success
        if self.result.score is not None and self.result.score.scaled is not None:
            return self.result.score.scaled >= 0.5
        return None


class MasteryPublic(BaseModel):
    """One competency's mastery estimate for a learner."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    competency_id: str
    estimate: float = Field(description="P(known) under Bayesian Knowledge Tracing.")
    status: str = Field(description="not_started, in_progress or mastered.")
    evidence_count: int
    last_evidence_at: datetime
