"""The OneRoster 1.2 object kinds: their tables, JSON binding, filterable fields and references.

One `Kind` per object type (org, academicSession, course, class, user, enrollment, demographics)
is the single description the REST reads, the writes and the CSV import all work from.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from kit.db import table_of
from services.profile_service import scopes
from services.profile_service.models import (
    AcademicSession,
    ClassTerm,
    Course,
    Demographics,
    Enrollment,
    Org,
    RosterClass,
    RosterUser,
    UserAgent,
    UserRole,
)
from services.profile_service.oneroster_sql import Field, FilterField, RelatedField

BASE_PATH = "/ims/oneroster/rostering/v1p2"
STATUSES = frozenset({"active", "tobedeleted"})
ORG_TYPES = frozenset({"department", "school", "district", "local", "state", "national"})
SESSION_TYPES = frozenset({"gradingPeriod", "semester", "schoolYear", "term"})
CLASS_TYPES = frozenset({"homeroom", "scheduled"})
ROLE_TYPES = frozenset({"primary", "secondary"})
USER_ROLES = frozenset(
    {
        "administrator",
        "aide",
        "counselor",
        "districtAdministrator",
        "guardian",
        "parent",
        "principal",
        "proctor",
        "relative",
        "siteAdministrator",
        "student",
        "systemAdministrator",
        "teacher",
    }
)
ENROLLMENT_ROLES = frozenset({"administrator", "proctor", "student", "teacher"})
SEXES = frozenset({"male", "female", "unspecified", "other"})


@dataclass(frozen=True)
class Reference:
    """A column of one kind holding the `sourcedId` of an object of another (or the same) kind."""

    column: str
    target: str
    wire_name: str


@dataclass(frozen=True)
class ChildList:
    """A list inside an object stored as rows of its own table (a user's roles, a class's terms)."""

    name: str
    table: sa.Table
    parent_column: str
    columns: tuple[str, ...]
    references: tuple[Reference, ...] = ()


Renderer = Callable[[RowMapping, Mapping[str, Sequence[RowMapping]], str], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """One OneRoster object type."""

    name: str
    collection: str
    table: sa.Table
    read_scopes: tuple[str, ...]
    wire_fields: tuple[str, ...]
    filters: Mapping[str, Field]
    render: Renderer
    references: tuple[Reference, ...] = ()
    children: tuple[ChildList, ...] = ()
    inverse_column: str | None = None
    """A column of this same table pointing at the parent: the object's `children` are found through it."""
    sortable: Mapping[str, sa.ColumnElement[Any]] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        """The table's own columns, minus the key and bookkeeping columns."""
        skip = {"tenant_id", "sourced_id", "status", "date_last_modified"}
        return tuple(c.key for c in self.table.columns if c.key not in skip)


def format_timestamp(value: datetime) -> str:
    """OneRoster's `dateLastModified`: UTC, milliseconds, `Z`."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def ref(base: str, collection: str, type_name: str, sourced_id: str | None) -> dict[str, str] | None:
    """A OneRoster GUID reference: `{href, sourcedId, type}`."""
    if sourced_id is None:
        return None
    return {"href": f"{base}/{collection}/{sourced_id}", "sourcedId": sourced_id, "type": type_name}


def _common(row: RowMapping) -> dict[str, Any]:
    return {
        "sourcedId": row["sourced_id"],
        "status": row["status"],
        "dateLastModified": format_timestamp(row["date_last_modified"]),
        "metadata": row["metadata"],
    }


def _common_filters(table: sa.Table) -> dict[str, Field]:
    return {
        "sourcedId": FilterField("string", table.c.sourced_id),
        "status": FilterField("enum", table.c.status, STATUSES),
        "dateLastModified": FilterField("datetime", table.c.date_last_modified),
    }


def _sortable(filters: Mapping[str, Field]) -> dict[str, sa.ColumnElement[Any]]:
    return {
        name: f.column
        for name, f in filters.items()
        if isinstance(f, FilterField) and f.kind != "list" and "." not in name
    }


# --- orgs -----------------------------------------------------------------------------------

ORG = table_of(Org)


def _render_org(row: RowMapping, children: Mapping[str, Sequence[RowMapping]], base: str) -> dict[str, Any]:
    return {
        **_common(row),
        "name": row["name"],
        "type": row["type"],
        "identifier": row["identifier"],
        "parent": ref(base, "orgs", "org", row["parent_sourced_id"]),
        "children": [ref(base, "orgs", "org", c["sourced_id"]) for c in children.get("children", ())],
    }


_org_filters: dict[str, Field] = {
    **_common_filters(ORG),
    "name": FilterField("string", ORG.c.name),
    "type": FilterField("enum", ORG.c.type, ORG_TYPES),
    "identifier": FilterField("string", ORG.c.identifier),
    "parent.sourcedId": FilterField("string", ORG.c.parent_sourced_id),
}

# --- academic sessions ----------------------------------------------------------------------

SESSION = table_of(AcademicSession)


def _render_session(row: RowMapping, children: Mapping[str, Sequence[RowMapping]], base: str) -> dict[str, Any]:
    return {
        **_common(row),
        "title": row["title"],
        "type": row["type"],
        "startDate": _date(row["start_date"]),
        "endDate": _date(row["end_date"]),
        "parent": ref(base, "academicSessions", "academicSession", row["parent_sourced_id"]),
        "children": [
            ref(base, "academicSessions", "academicSession", c["sourced_id"]) for c in children.get("children", ())
        ],
        "schoolYear": row["school_year"],
    }


_session_filters: dict[str, Field] = {
    **_common_filters(SESSION),
    "title": FilterField("string", SESSION.c.title),
    "type": FilterField("enum", SESSION.c.type, SESSION_TYPES),
    "startDate": FilterField("date", SESSION.c.start_date),
    "endDate": FilterField("date", SESSION.c.end_date),
    "schoolYear": FilterField("string", SESSION.c.school_year),
    "parent.sourcedId": FilterField("string", SESSION.c.parent_sourced_id),
}

# --- courses --------------------------------------------------------------------------------

COURSE = table_of(Course)


def _render_course(row: RowMapping, _children: Mapping[str, Sequence[RowMapping]], base: str) -> dict[str, Any]:
    return {
        **_common(row),
        "title": row["title"],
        "schoolYear": ref(base, "academicSessions", "academicSession", row["school_year_sourced_id"]),
        "courseCode": row["course_code"],
        "grades": row["grades"],
        "subjects": row["subjects"],
        "org": ref(base, "orgs", "org", row["org_sourced_id"]),
        "subjectCodes": row["subject_codes"],
    }


_course_filters: dict[str, Field] = {
    **_common_filters(COURSE),
    "title": FilterField("string", COURSE.c.title),
    "courseCode": FilterField("string", COURSE.c.course_code),
    "grades": FilterField("list", COURSE.c.grades),
    "subjects": FilterField("list", COURSE.c.subjects),
    "subjectCodes": FilterField("list", COURSE.c.subject_codes),
    "org.sourcedId": FilterField("string", COURSE.c.org_sourced_id),
    "schoolYear.sourcedId": FilterField("string", COURSE.c.school_year_sourced_id),
}

# --- classes --------------------------------------------------------------------------------

CLASS = table_of(RosterClass)
CLASS_TERM = table_of(ClassTerm)


def _render_class(row: RowMapping, children: Mapping[str, Sequence[RowMapping]], base: str) -> dict[str, Any]:
    return {
        **_common(row),
        "title": row["title"],
        "classCode": row["class_code"],
        "classType": row["class_type"],
        "location": row["location"],
        "grades": row["grades"],
        "subjects": row["subjects"],
        "course": ref(base, "courses", "course", row["course_sourced_id"]),
        "school": ref(base, "schools", "org", row["school_sourced_id"]),
        "terms": [
            ref(base, "academicSessions", "academicSession", t["term_sourced_id"]) for t in children.get("terms", ())
        ],
        "subjectCodes": row["subject_codes"],
        "periods": row["periods"],
    }


_class_filters: dict[str, Field] = {
    **_common_filters(CLASS),
    "title": FilterField("string", CLASS.c.title),
    "classCode": FilterField("string", CLASS.c.class_code),
    "classType": FilterField("enum", CLASS.c.class_type, CLASS_TYPES),
    "location": FilterField("string", CLASS.c.location),
    "grades": FilterField("list", CLASS.c.grades),
    "subjects": FilterField("list", CLASS.c.subjects),
    "subjectCodes": FilterField("list", CLASS.c.subject_codes),
    "periods": FilterField("list", CLASS.c.periods),
    "course.sourcedId": FilterField("string", CLASS.c.course_sourced_id),
    "school.sourcedId": FilterField("string", CLASS.c.school_sourced_id),
    "terms.sourcedId": RelatedField(
        "string",
        CLASS_TERM.c.term_sourced_id,
        sa.and_(CLASS_TERM.c.tenant_id == CLASS.c.tenant_id, CLASS_TERM.c.class_sourced_id == CLASS.c.sourced_id),
    ),
}

# --- users ----------------------------------------------------------------------------------

USER = table_of(RosterUser)
USER_ROLE = table_of(UserRole)
USER_AGENT = table_of(UserAgent)
_role_of_user = sa.and_(USER_ROLE.c.tenant_id == USER.c.tenant_id, USER_ROLE.c.user_sourced_id == USER.c.sourced_id)


def _render_user(row: RowMapping, children: Mapping[str, Sequence[RowMapping]], base: str) -> dict[str, Any]:
    return {
        **_common(row),
        "userMasterIdentifier": row["user_master_identifier"],
        "username": row["username"],
        "userIds": row["user_ids"],
        "enabledUser": row["enabled_user"],
        "givenName": row["given_name"],
        "familyName": row["family_name"],
        "middleName": row["middle_name"],
        "preferredFirstName": row["preferred_given_name"],
        "preferredMiddleName": row["preferred_middle_name"],
        "preferredLastName": row["preferred_family_name"],
        "pronouns": row["pronouns"],
        "roles": [
            {
                "roleType": r["role_type"],
                "role": r["role"],
                "org": ref(base, "orgs", "org", r["org_sourced_id"]),
                "userProfile": r["user_profile"],
                "beginDate": _date(r["begin_date"]),
                "endDate": _date(r["end_date"]),
            }
            for r in children.get("roles", ())
        ],
        "primaryOrg": ref(base, "orgs", "org", row["primary_org_sourced_id"]),
        "identifier": row["identifier"],
        "email": row["email"],
        "sms": row["sms"],
        "phone": row["phone"],
        "agents": [ref(base, "users", "user", a["agent_sourced_id"]) for a in children.get("agents", ())],
        "grades": row["grades"],
    }


_user_filters: dict[str, Field] = {
    **_common_filters(USER),
    "username": FilterField("string", USER.c.username),
    "userMasterIdentifier": FilterField("string", USER.c.user_master_identifier),
    "enabledUser": FilterField("boolean", USER.c.enabled_user),
    "givenName": FilterField("string", USER.c.given_name),
    "familyName": FilterField("string", USER.c.family_name),
    "middleName": FilterField("string", USER.c.middle_name),
    "preferredFirstName": FilterField("string", USER.c.preferred_given_name),
    "preferredLastName": FilterField("string", USER.c.preferred_family_name),
    "identifier": FilterField("string", USER.c.identifier),
    "email": FilterField("string", USER.c.email),
    "sms": FilterField("string", USER.c.sms),
    "phone": FilterField("string", USER.c.phone),
    "grades": FilterField("list", USER.c.grades),
    "primaryOrg.sourcedId": FilterField("string", USER.c.primary_org_sourced_id),
    "role": RelatedField("enum", USER_ROLE.c.role, _role_of_user, USER_ROLES),
    "roles.role": RelatedField("enum", USER_ROLE.c.role, _role_of_user, USER_ROLES),
    "roles.roleType": RelatedField("enum", USER_ROLE.c.role_type, _role_of_user, ROLE_TYPES),
    "roles.org.sourcedId": RelatedField("string", USER_ROLE.c.org_sourced_id, _role_of_user),
    "agents.sourcedId": RelatedField(
        "string",
        USER_AGENT.c.agent_sourced_id,
        sa.and_(USER_AGENT.c.tenant_id == USER.c.tenant_id, USER_AGENT.c.user_sourced_id == USER.c.sourced_id),
    ),
}

# --- enrollments ----------------------------------------------------------------------------

ENROLLMENT = table_of(Enrollment)


def _render_enrollment(row: RowMapping, _children: Mapping[str, Sequence[RowMapping]], base: str) -> dict[str, Any]:
    return {
        **_common(row),
        "user": ref(base, "users", "user", row["user_sourced_id"]),
        "class": ref(base, "classes", "class", row["class_sourced_id"]),
        "school": ref(base, "schools", "org", row["school_sourced_id"]),
        "role": row["role"],
        "primary": row["primary"],
        "beginDate": _date(row["begin_date"]),
        "endDate": _date(row["end_date"]),
    }


_enrollment_filters: dict[str, Field] = {
    **_common_filters(ENROLLMENT),
    "role": FilterField("enum", ENROLLMENT.c.role, ENROLLMENT_ROLES),
    "primary": FilterField("boolean", ENROLLMENT.c.primary),
    "beginDate": FilterField("date", ENROLLMENT.c.begin_date),
    "endDate": FilterField("date", ENROLLMENT.c.end_date),
    "user.sourcedId": FilterField("string", ENROLLMENT.c.user_sourced_id),
    "class.sourcedId": FilterField("string", ENROLLMENT.c.class_sourced_id),
    "school.sourcedId": FilterField("string", ENROLLMENT.c.school_sourced_id),
}

# --- demographics ---------------------------------------------------------------------------

DEMOGRAPHICS = table_of(Demographics)
DEMOGRAPHIC_FIELDS = {
    "birthDate": "birth_date",
    "sex": "sex",
    "americanIndianOrAlaskaNative": "american_indian_or_alaska_native",
    "asian": "asian",
    "blackOrAfricanAmerican": "black_or_african_american",
    "nativeHawaiianOrOtherPacificIslander": "native_hawaiian_or_other_pacific_islander",
    "white": "white",
    "demographicRaceTwoOrMoreRaces": "demographic_race_two_or_more_races",
    "hispanicOrLatinoEthnicity": "hispanic_or_latino_ethnicity",
    "countryOfBirthCode": "country_of_birth_code",
    "stateOfBirthAbbreviation": "state_of_birth_abbreviation",
    "cityOfBirth": "city_of_birth",
    "publicSchoolResidenceStatus": "public_school_residence_status",
}


def _render_demographics(row: RowMapping, _children: Mapping[str, Sequence[RowMapping]], _base: str) -> dict[str, Any]:
    values = {wire: row[column] for wire, column in DEMOGRAPHIC_FIELDS.items()}
    values["birthDate"] = _date(row["birth_date"])
    return {**_common(row), **values}


_demographic_filters: dict[str, Field] = {
    **_common_filters(DEMOGRAPHICS),
    "birthDate": FilterField("date", DEMOGRAPHICS.c.birth_date),
    "sex": FilterField("enum", DEMOGRAPHICS.c.sex, SEXES),
    **{
        wire: FilterField("boolean", DEMOGRAPHICS.c[column])
        for wire, column in DEMOGRAPHIC_FIELDS.items()
        if isinstance(DEMOGRAPHICS.c[column].type, sa.Boolean)
    },
    "countryOfBirthCode": FilterField("string", DEMOGRAPHICS.c.country_of_birth_code),
    "stateOfBirthAbbreviation": FilterField("string", DEMOGRAPHICS.c.state_of_birth_abbreviation),
    "cityOfBirth": FilterField("string", DEMOGRAPHICS.c.city_of_birth),
    "publicSchoolResidenceStatus": FilterField("string", DEMOGRAPHICS.c.public_school_residence_status),
}

# --- the registry ---------------------------------------------------------------------------

_COMMON_WIRE = ("sourcedId", "status", "dateLastModified", "metadata")
_CORE = (scopes.ROSTER_CORE_READ, scopes.ROSTER_READ)


def _kind(name: str, collection: str, table: sa.Table, filters: dict[str, Field], **kwargs: Any) -> Kind:
    wire = tuple(kwargs.pop("wire"))
    return Kind(
        name=name,
        collection=collection,
        table=table,
        filters=filters,
        sortable=_sortable(filters),
        wire_fields=_COMMON_WIRE + wire,
        **kwargs,
    )


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _kind(
            "org",
            "orgs",
            ORG,
            _org_filters,
            read_scopes=_CORE,
            render=_render_org,
            references=(Reference("parent_sourced_id", "org", "parent"),),
            inverse_column="parent_sourced_id",
            wire=("name", "type", "identifier", "parent", "children"),
        ),
        _kind(
            "academicSession",
            "academicSessions",
            SESSION,
            _session_filters,
            read_scopes=_CORE,
            render=_render_session,
            references=(Reference("parent_sourced_id", "academicSession", "parent"),),
            inverse_column="parent_sourced_id",
            wire=("title", "type", "startDate", "endDate", "parent", "children", "schoolYear"),
        ),
        _kind(
            "course",
            "courses",
            COURSE,
            _course_filters,
            read_scopes=_CORE,
            render=_render_course,
            references=(
                Reference("org_sourced_id", "org", "org"),
                Reference("school_year_sourced_id", "academicSession", "schoolYear"),
            ),
            wire=("title", "schoolYear", "courseCode", "grades", "subjects", "org", "subjectCodes"),
        ),
        _kind(
            "class",
            "classes",
            CLASS,
            _class_filters,
            read_scopes=_CORE,
            render=_render_class,
            references=(
                Reference("school_sourced_id", "org", "school"),
                Reference("course_sourced_id", "course", "course"),
            ),
            children=(
                ChildList(
                    "terms",
                    CLASS_TERM,
                    "class_sourced_id",
                    ("term_sourced_id",),
                    (Reference("term_sourced_id", "academicSession", "terms"),),
                ),
            ),
            wire=(
                "title",
                "classCode",
                "classType",
                "location",
                "grades",
                "subjects",
                "course",
                "school",
                "terms",
                "subjectCodes",
                "periods",
            ),
        ),
        _kind(
            "user",
            "users",
            USER,
            _user_filters,
            read_scopes=_CORE,
            render=_render_user,
            references=(Reference("primary_org_sourced_id", "org", "primaryOrg"),),
            children=(
                ChildList(
                    "roles",
                    USER_ROLE,
                    "user_sourced_id",
                    ("org_sourced_id", "role", "role_type", "user_profile", "begin_date", "end_date"),
                    (Reference("org_sourced_id", "org", "roles.org"),),
                ),
                ChildList(
                    "agents",
                    USER_AGENT,
                    "user_sourced_id",
                    ("agent_sourced_id",),
                    (Reference("agent_sourced_id", "user", "agents"),),
                ),
            ),
            wire=(
                "userMasterIdentifier",
                "username",
                "userIds",
                "enabledUser",
                "givenName",
                "familyName",
                "middleName",
                "preferredFirstName",
                "preferredMiddleName",
                "preferredLastName",
                "pronouns",
                "roles",
                "primaryOrg",
                "identifier",
                "email",
                "sms",
                "phone",
                "agents",
                "grades",
            ),
        ),
        _kind(
            "enrollment",
            "enrollments",
            ENROLLMENT,
            _enrollment_filters,
            read_scopes=(scopes.ROSTER_READ,),
            render=_render_enrollment,
            references=(
                Reference("user_sourced_id", "user", "user"),
                Reference("class_sourced_id", "class", "class"),
                Reference("school_sourced_id", "org", "school"),
            ),
            wire=("user", "class", "school", "role", "primary", "beginDate", "endDate"),
        ),
        _kind(
            "demographics",
            "demographics",
            DEMOGRAPHICS,
            _demographic_filters,
            read_scopes=(scopes.DEMOGRAPHICS_READ,),
            render=_render_demographics,
            references=(Reference("sourced_id", "user", "sourcedId"),),
            wire=tuple(DEMOGRAPHIC_FIELDS),
        ),
    )
}
"""Every kind by name, in dependency order (a kind only references kinds before it, or itself)."""
