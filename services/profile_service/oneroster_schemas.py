"""OneRoster 1.2 JSON bodies accepted by our write extension (PUT and bulk), as roster records.

Field names and shapes are the spec's JSON binding, so an object read from any OneRoster
server can be written back unchanged. Server-owned fields (`dateLastModified`, `children`,
`href`) and read-only lists the spec defines but we do not store (`resources`,
`userProfiles`) are accepted and ignored; any other unknown field is refused by name.
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kit.identifiers import SOURCED_ID
from services.profile_service.oneroster_kinds import (
    CLASS_TYPES,
    DEMOGRAPHIC_FIELDS,
    ENROLLMENT_ROLES,
    ORG_TYPES,
    ROLE_TYPES,
    SESSION_TYPES,
    SEXES,
    USER_ROLES,
)
from services.profile_service.roster_store import RosterRecord

EXTENSION = "ext:"


def _vocabulary(allowed: frozenset[str]) -> AfterValidator:
    """A OneRoster enumeration: one of `allowed`, or an `ext:` extension value."""

    def check(value: str) -> str:
        if value in allowed or (value.startswith(EXTENSION) and len(value) > len(EXTENSION)):
            return value
        raise ValueError(f"must be one of {', '.join(sorted(allowed))}, or start with {EXTENSION!r}")

    return AfterValidator(check)


SourcedId = Annotated[str, Field(pattern=SOURCED_ID, description="The object's id in the district's systems.")]
Text = Annotated[str, Field(min_length=1, max_length=255)]
OptionalText = Annotated[str | None, Field(default=None, max_length=255)]
Codes = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(default_factory=list, max_length=50)]


class WireModel(BaseModel):
    """camelCase on the wire; unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class GuidRef(WireModel):
    """A reference to another object: `{sourcedId, type, href}` (only `sourcedId` is used)."""

    sourced_id: SourcedId
    type: str | None = None
    href: str | None = None


class ObjectIn(WireModel):
    """Fields every object has."""

    sourced_id: SourcedId
    status: Literal["active", "tobedeleted"] = "active"
    date_last_modified: Any = Field(default=None, description="Ignored: the server sets it.")
    metadata: dict[str, Any] | None = Field(default=None, description="Extension data, stored as given.")

    def _record(self, kind: str, values: dict[str, Any], **children: list[dict[str, Any]]) -> RosterRecord:
        return RosterRecord(
            kind=kind,
            sourced_id=self.sourced_id,
            status=self.status,
            values={"metadata": self.metadata, **values},
            children=dict(children),
        )


def _id(reference: GuidRef | None) -> str | None:
    return reference.sourced_id if reference is not None else None


class OrgIn(ObjectIn):
    """An org: district, school, department..."""

    name: Text
    type: Annotated[str, _vocabulary(ORG_TYPES)]
    identifier: OptionalText
    parent: GuidRef | None = None
    children: Any = Field(default=None, description="Ignored: derived from the children's `parent`.")

    def to_record(self) -> RosterRecord:
        """As a roster record."""
        values = {"name": self.name, "type": self.type, "identifier": self.identifier}
        return self._record("org", {**values, "parent_sourced_id": _id(self.parent)})


class AcademicSessionIn(ObjectIn):
    """A school year, semester, term or grading period."""

    title: Text
    type: Annotated[str, _vocabulary(SESSION_TYPES)]
    start_date: date
    end_date: date
    parent: GuidRef | None = None
    children: Any = Field(default=None, description="Ignored: derived from the children's `parent`.")
    school_year: Annotated[str, Field(pattern=r"^\d{4}$", description="The ending year, e.g. `2027`.")]

    def to_record(self) -> RosterRecord:
        """As a roster record."""
        return self._record(
            "academicSession",
            {
                "title": self.title,
                "type": self.type,
                "start_date": self.start_date,
                "end_date": self.end_date,
                "parent_sourced_id": _id(self.parent),
                "school_year": self.school_year,
            },
        )


class CourseIn(ObjectIn):
    """A course offered by an org."""

    title: Text
    school_year: GuidRef | None = None
    course_code: Annotated[str | None, Field(default=None, max_length=64)]
    grades: Codes
    subjects: Codes
    org: GuidRef
    subject_codes: Codes
    resources: Any = Field(default=None, description="Ignored.")

    def to_record(self) -> RosterRecord:
        """As a roster record."""
        return self._record(
            "course",
            {
                "title": self.title,
                "school_year_sourced_id": _id(self.school_year),
                "course_code": self.course_code,
                "grades": self.grades,
                "subjects": self.subjects,
                "subject_codes": self.subject_codes,
                "org_sourced_id": self.org.sourced_id,
            },
        )


class ClassIn(ObjectIn):
    """A class: a section of a course at a school, in one or more terms."""

    title: Text
    class_code: Annotated[str | None, Field(default=None, max_length=64)]
    class_type: Annotated[str, _vocabulary(CLASS_TYPES)] = "scheduled"
    location: OptionalText
    grades: Codes
    subjects: Codes
    course: GuidRef | None = None
    school: GuidRef
    terms: Annotated[list[GuidRef], Field(default_factory=list, max_length=50)]
    subject_codes: Codes
    periods: Codes
    resources: Any = Field(default=None, description="Ignored.")

    def to_record(self) -> RosterRecord:
        """As a roster record."""
        values = {
            "title": self.title,
            "class_code": self.class_code,
            "class_type": self.class_type,
            "location": self.location,
            "grades": self.grades,
            "subjects": self.subjects,
            "subject_codes": self.subject_codes,
            "periods": self.periods,
            "course_sourced_id": _id(self.course),
            "school_sourced_id": self.school.sourced_id,
        }
        terms = [{"term_sourced_id": t.sourced_id} for t in self.terms]
        return self._record("class", values, terms=_unique(terms))


class UserIdIn(WireModel):
    """An identifier of the user in another system."""

    type: Text
    identifier: Text


class RoleIn(WireModel):
    """One of a user's roles: a role at an org."""

    role_type: Annotated[str, _vocabulary(ROLE_TYPES)]
    role: Annotated[str, _vocabulary(USER_ROLES)]
    org: GuidRef
    user_profile: OptionalText
    begin_date: date | None = None
    end_date: date | None = None


class UserIn(ObjectIn):
    """A user: student, teacher, guardian, administrator..."""

    user_master_identifier: OptionalText
    username: OptionalText
    user_ids: Annotated[list[UserIdIn], Field(default_factory=list, max_length=20)]
    enabled_user: bool = True
    given_name: Text
    family_name: Text
    middle_name: OptionalText
    preferred_first_name: OptionalText
    preferred_middle_name: OptionalText
    preferred_last_name: OptionalText
    pronouns: Annotated[str | None, Field(default=None, max_length=64)]
    roles: Annotated[list[RoleIn], Field(min_length=1, max_length=50)]
    user_profiles: Any = Field(default=None, description="Ignored.")
    primary_org: GuidRef | None = None
    identifier: OptionalText
    email: Annotated[str | None, Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
    sms: Annotated[str | None, Field(default=None, max_length=64)]
    phone: Annotated[str | None, Field(default=None, max_length=64)]
    agents: Annotated[list[GuidRef], Field(default_factory=list, max_length=50)]
    grades: Codes
    password: Any = Field(default=None, description="Ignored: never stored.")
    resources: Any = Field(default=None, description="Ignored.")

    def to_record(self) -> RosterRecord:
        """As a roster record; `role` is the first primary role (or the first role)."""
        primary = next((r for r in self.roles if r.role_type == "primary"), self.roles[0])
        values = {
            "role": primary.role,
            "enabled_user": self.enabled_user,
            "username": self.username,
            "user_ids": [u.model_dump() for u in self.user_ids],
            "given_name": self.given_name,
            "family_name": self.family_name,
            "middle_name": self.middle_name,
            "preferred_given_name": self.preferred_first_name,
            "preferred_middle_name": self.preferred_middle_name,
            "preferred_family_name": self.preferred_last_name,
            "pronouns": self.pronouns,
            "email": self.email,
            "sms": self.sms,
            "phone": self.phone,
            "identifier": self.identifier,
            "user_master_identifier": self.user_master_identifier,
            "grades": self.grades,
            "primary_org_sourced_id": _id(self.primary_org),
        }
        roles = [
            {
                "org_sourced_id": r.org.sourced_id,
                "role": r.role,
                "role_type": r.role_type,
                "user_profile": r.user_profile,
                "begin_date": r.begin_date,
                "end_date": r.end_date,
            }
            for r in self.roles
        ]
        agents = [{"agent_sourced_id": a.sourced_id} for a in self.agents]
        return self._record("user", values, roles=_unique(roles, ("org_sourced_id", "role")), agents=_unique(agents))


class EnrollmentIn(ObjectIn):
    """A user's membership of a class."""

    user: GuidRef
    class_: GuidRef = Field(alias="class")
    school: GuidRef | None = None
    role: Annotated[str, _vocabulary(ENROLLMENT_ROLES)]
    primary: bool = False
    begin_date: date | None = None
    end_date: date | None = None

    def to_record(self) -> RosterRecord:
        """As a roster record."""
        return self._record(
            "enrollment",
            {
                "class_sourced_id": self.class_.sourced_id,
                "user_sourced_id": self.user.sourced_id,
                "school_sourced_id": _id(self.school),
                "role": self.role,
                "primary": self.primary,
                "begin_date": self.begin_date,
                "end_date": self.end_date,
            },
        )


class DemographicsIn(ObjectIn):
    """A user's demographics (its `sourcedId` is the user's)."""

    birth_date: date | None = None
    sex: Annotated[str | None, _vocabulary(SEXES)] = None
    american_indian_or_alaska_native: bool | None = None
    asian: bool | None = None
    black_or_african_american: bool | None = None
    native_hawaiian_or_other_pacific_islander: bool | None = None
    white: bool | None = None
    demographic_race_two_or_more_races: bool | None = None
    hispanic_or_latino_ethnicity: bool | None = None
    country_of_birth_code: Annotated[str | None, Field(default=None, max_length=8)]
    state_of_birth_abbreviation: Annotated[str | None, Field(default=None, max_length=8)]
    city_of_birth: OptionalText
    public_school_residence_status: Annotated[str | None, Field(default=None, max_length=64)]

    def to_record(self) -> RosterRecord:
        """As a roster record."""
        return self._record("demographics", {column: getattr(self, column) for column in DEMOGRAPHIC_FIELDS.values()})


def _unique(entries: list[dict[str, Any]], key: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Entries without repeats (by `key` columns, or whole entries), first one kept."""
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for entry in entries:
        identity = tuple(entry[k] for k in key) if key else tuple(sorted(entry.items()))
        if identity not in seen:
            seen.add(identity)
            kept.append(entry)
    return kept


ObjectModel = OrgIn | AcademicSessionIn | CourseIn | ClassIn | UserIn | EnrollmentIn | DemographicsIn
WRITE_MODELS: dict[str, type[ObjectModel]] = {
    "org": OrgIn,
    "academicSession": AcademicSessionIn,
    "course": CourseIn,
    "class": ClassIn,
    "user": UserIn,
    "enrollment": EnrollmentIn,
    "demographics": DemographicsIn,
}
"""The body model of each kind, by kind name (the JSON wrapper key of a single object)."""
