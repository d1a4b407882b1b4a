"""The OneRoster 1.2 rostering reads under `/ims/oneroster/rostering/v1p2/`.

Every collection, single-object and nested endpoint of the spec, with `limit`, `offset`,
`sort`, `orderBy`, `fields` and `filter`. Every endpoint checks the caller's OAuth scopes and
reads only the caller's tenant. Writes are in `oneroster_write_routes`.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.auth import CurrentPrincipal, Principal
from kit.db import SessionDep
from kit.identifiers import SOURCED_ID
from kit.pagination import OffsetPage, link_header
from services.profile_service.oneroster_errors import OneRosterError
from services.profile_service.oneroster_kinds import (
    BASE_PATH,
    CLASS,
    CLASS_TERM,
    ENROLLMENT,
    KINDS,
    ORG,
    SESSION,
    USER,
    USER_ROLE,
    Kind,
)
from services.profile_service.oneroster_reads import (
    ListParamsDep,
    collection_query,
    count_rows,
    fetch_page,
    load_children,
    render,
    selected_fields,
    stream_page,
)

router = APIRouter(prefix=BASE_PATH, tags=["oneroster"])
IdPath = Annotated[str, Path(pattern=SOURCED_ID, description="A sourcedId.")]
Conditions = Callable[..., list[sa.ColumnElement[bool]]]


def base_href(request: Request) -> str:
    """The absolute base of OneRoster `href`s for this request."""
    return str(request.base_url).rstrip("/") + BASE_PATH


def require_scopes(principal: Principal, accepted: Sequence[str], what: str) -> None:
    """Refuse (403 `forbidden`) a caller holding none of the `accepted` scopes for `what`."""
    if not principal.has_scope(*accepted):
        raise OneRosterError(403, "forbidden", f"{what} needs one of the scopes: {' '.join(accepted)}.")


def _has_role(role: str) -> sa.ColumnElement[bool]:
    """Users holding `role` (as their primary role or in `roles[]`)."""
    listed = sa.exists().where(
        USER_ROLE.c.tenant_id == USER.c.tenant_id,
        USER_ROLE.c.user_sourced_id == USER.c.sourced_id,
        USER_ROLE.c.role == role,
    )
    return sa.or_(USER.c.role == role, listed)


@dataclass(frozen=True)
class Collection:
    """A readable collection: which kind, and which of the tenant's objects it holds."""

    kind: str
    conditions: Conditions = lambda *_ids: []
    parents: tuple[tuple[str, Conditions], ...] = ()
    """Objects that must exist first, one per path id: (kind, conditions on that id)."""


def _of_type(table: sa.Table, type_name: str) -> Conditions:
    return lambda *_ids: [table.c.type == type_name]


SCHOOL = ("org", lambda school_id: [ORG.c.sourced_id == school_id, ORG.c.type == "school"])
TERM = ("academicSession", lambda term_id: [SESSION.c.sourced_id == term_id, SESSION.c.type == "term"])


def _user_of_role(role: str) -> tuple[str, Conditions]:
    return ("user", lambda user_id: [USER.c.sourced_id == user_id, _has_role(role)])


def _class_at_school(school_id: str, class_id: str) -> list[sa.ColumnElement[bool]]:
    return [CLASS.c.sourced_id == class_id, CLASS.c.school_sourced_id == school_id]


def _classes_of_user(user_id: str) -> list[sa.ColumnElement[bool]]:
    enrolled = sa.exists().where(
        ENROLLMENT.c.tenant_id == CLASS.c.tenant_id,
        ENROLLMENT.c.class_sourced_id == CLASS.c.sourced_id,
        ENROLLMENT.c.user_sourced_id == user_id,
        ENROLLMENT.c.status == "active",
    )
    return [enrolled]


def _members(role: str) -> Conditions:
    def conditions(*ids: str) -> list[sa.ColumnElement[bool]]:
        class_id = ids[-1]
        enrolled = sa.exists().where(
            ENROLLMENT.c.tenant_id == USER.c.tenant_id,
            ENROLLMENT.c.user_sourced_id == USER.c.sourced_id,
            ENROLLMENT.c.class_sourced_id == class_id,
            ENROLLMENT.c.role == role,
            ENROLLMENT.c.status == "active",
        )
        return [enrolled]

    return conditions


def _at_school(role: str) -> Conditions:
    def conditions(school_id: str) -> list[sa.ColumnElement[bool]]:
        role_there = sa.exists().where(
            USER_ROLE.c.tenant_id == USER.c.tenant_id,
            USER_ROLE.c.user_sourced_id == USER.c.sourced_id,
            USER_ROLE.c.org_sourced_id == school_id,
            USER_ROLE.c.role == role,
        )
        return [sa.or_(role_there, sa.and_(USER.c.primary_org_sourced_id == school_id, USER.c.role == role))]

    return conditions


def _enrollments_at_school(*ids: str) -> list[sa.ColumnElement[bool]]:
    school_id = ids[0]
    class_ids = sa.select(CLASS.c.sourced_id).where(
        CLASS.c.tenant_id == ENROLLMENT.c.tenant_id, CLASS.c.school_sourced_id == school_id
    )
    scoped = [sa.or_(ENROLLMENT.c.school_sourced_id == school_id, ENROLLMENT.c.class_sourced_id.in_(class_ids))]
    if len(ids) > 1:
        scoped.append(ENROLLMENT.c.class_sourced_id == ids[1])
    return scoped


def _terms_at_school(school_id: str) -> list[sa.ColumnElement[bool]]:
    used = sa.exists().where(
        CLASS_TERM.c.tenant_id == SESSION.c.tenant_id,
        CLASS_TERM.c.term_sourced_id == SESSION.c.sourced_id,
        CLASS.c.tenant_id == CLASS_TERM.c.tenant_id,
        CLASS.c.sourced_id == CLASS_TERM.c.class_sourced_id,
        CLASS.c.school_sourced_id == school_id,
    )
    return [SESSION.c.type == "term", used]


def _classes_in_term(term_id: str) -> list[sa.ColumnElement[bool]]:
    in_term = sa.exists().where(
        CLASS_TERM.c.tenant_id == CLASS.c.tenant_id,
        CLASS_TERM.c.class_sourced_id == CLASS.c.sourced_id,
        CLASS_TERM.c.term_sourced_id == term_id,
    )
    return [in_term]


CLASS_AT_SCHOOL = ("class", _class_at_school)
COLLECTIONS: dict[str, Collection] = {
    "/orgs": Collection("org"),
    "/schools": Collection("org", _of_type(ORG, "school")),
    "/academicSessions": Collection("academicSession"),
    "/terms": Collection("academicSession", _of_type(SESSION, "term")),
    "/gradingPeriods": Collection("academicSession", _of_type(SESSION, "gradingPeriod")),
    "/courses": Collection("course"),
    "/classes": Collection("class"),
    "/users": Collection("user"),
    "/students": Collection("user", lambda: [_has_role("student")]),
    "/teachers": Collection("user", lambda: [_has_role("teacher")]),
    "/enrollments": Collection("enrollment"),
    "/demographics": Collection("demographics"),
    "/schools/{school_id}/classes": Collection(
        "class", lambda school_id: [CLASS.c.school_sourced_id == school_id], (SCHOOL,)
    ),
    "/schools/{school_id}/courses": Collection(
        "course", lambda school_id: [KINDS["course"].table.c.org_sourced_id == school_id], (SCHOOL,)
    ),
    "/schools/{school_id}/enrollments": Collection("enrollment", _enrollments_at_school, (SCHOOL,)),
    "/schools/{school_id}/students": Collection("user", _at_school("student"), (SCHOOL,)),
    "/schools/{school_id}/teachers": Collection("user", _at_school("teacher"), (SCHOOL,)),
    "/schools/{school_id}/terms": Collection("academicSession", _terms_at_school, (SCHOOL,)),
    "/schools/{school_id}/classes/{class_id}/enrollments": Collection(
        "enrollment", _enrollments_at_school, (SCHOOL, CLASS_AT_SCHOOL)
    ),
    "/schools/{school_id}/classes/{class_id}/students": Collection(
        "user", _members("student"), (SCHOOL, CLASS_AT_SCHOOL)
    ),
    "/schools/{school_id}/classes/{class_id}/teachers": Collection(
        "user", _members("teacher"), (SCHOOL, CLASS_AT_SCHOOL)
    ),
    "/classes/{class_id}/students": Collection(
        "user", _members("student"), (("class", lambda class_id: [CLASS.c.sourced_id == class_id]),)
    ),
    "/classes/{class_id}/teachers": Collection(
        "user", _members("teacher"), (("class", lambda class_id: [CLASS.c.sourced_id == class_id]),)
    ),
    "/courses/{course_id}/classes": Collection(
        "class",
        lambda course_id: [CLASS.c.course_sourced_id == course_id],
        (("course", lambda course_id: [KINDS["course"].table.c.sourced_id == course_id]),),
    ),
    "/users/{user_id}/classes": Collection(
        "class", _classes_of_user, (("user", lambda user_id: [USER.c.sourced_id == user_id]),)
    ),
    "/students/{user_id}/classes": Collection("class", _classes_of_user, (_user_of_role("student"),)),
    "/teachers/{user_id}/classes": Collection("class", _classes_of_user, (_user_of_role("teacher"),)),
    "/terms/{term_id}/classes": Collection("class", _classes_in_term, (TERM,)),
    "/terms/{term_id}/gradingPeriods": Collection(
        "academicSession",
        lambda term_id: [SESSION.c.type == "gradingPeriod", SESSION.c.parent_sourced_id == term_id],
        (TERM,),
    ),
}
"""Every readable collection of the spec, by path under the base path."""

SINGLE_OBJECTS: dict[str, tuple[str, Conditions]] = {
    "/orgs/{sourced_id}": ("org", lambda i: [ORG.c.sourced_id == i]),
    "/schools/{sourced_id}": SCHOOL,
    "/academicSessions/{sourced_id}": ("academicSession", lambda i: [SESSION.c.sourced_id == i]),
    "/terms/{sourced_id}": TERM,
    "/gradingPeriods/{sourced_id}": (
        "academicSession",
        lambda i: [SESSION.c.sourced_id == i, SESSION.c.type == "gradingPeriod"],
    ),
    "/courses/{sourced_id}": ("course", lambda i: [KINDS["course"].table.c.sourced_id == i]),
    "/classes/{sourced_id}": ("class", lambda i: [CLASS.c.sourced_id == i]),
    "/users/{sourced_id}": ("user", lambda i: [USER.c.sourced_id == i]),
    "/students/{sourced_id}": _user_of_role("student"),
    "/teachers/{sourced_id}": _user_of_role("teacher"),
    "/enrollments/{sourced_id}": ("enrollment", lambda i: [ENROLLMENT.c.sourced_id == i]),
    "/demographics/{sourced_id}": ("demographics", lambda i: [KINDS["demographics"].table.c.sourced_id == i]),
}
"""Every single-object read of the spec."""


async def _exists(connection: AsyncConnection, kind: Kind, tenant_id: str, conditions: list[Any]) -> bool:
    table = kind.table
    found = await connection.scalar(sa.select(table.c.sourced_id).where(table.c.tenant_id == tenant_id, *conditions))
    return found is not None


async def _read_collection(
    request: Request, principal: Principal, session: SessionDep, params: Any, path: str, ids: Sequence[str]
) -> Response:
    collection = COLLECTIONS[path]
    kind = KINDS[collection.kind]
    require_scopes(principal, kind.read_scopes, f"Reading {kind.collection}")
    fields = selected_fields(kind, params.fields)
    connection = await session.connection()
    for position, (parent_kind, parent_conditions) in enumerate(collection.parents):
        path_ids = ids[: position + 1]  # a parent's conditions see the ids up to its own, e.g. (school, class)
        if not await _exists(connection, KINDS[parent_kind], principal.tenant_id, parent_conditions(*path_ids)):
            raise OneRosterError(404, "unknownobject", f"No {parent_kind} {path_ids[-1]!r}.")
    query = collection_query(kind, principal.tenant_id, collection.conditions(*ids), params)
    total = await count_rows(connection, query)
    rows = await fetch_page(connection, query, params.limit, params.offset)
    children = await load_children(connection, kind, principal.tenant_id, [r["sourced_id"] for r in rows])
    headers = {
        "X-Total-Count": str(total),
        "Link": link_header(request, OffsetPage(params.limit, params.offset), total),
    }
    body = stream_page(kind, rows, children, base_href(request), fields)
    return StreamingResponse(body, media_type="application/json", headers=headers)


def _collection_endpoint(path: str) -> Callable[..., Any]:
    names = [part.strip("{}") for part in path.split("/") if part.startswith("{")]
    if not names:

        async def read_all(
            request: Request, principal: CurrentPrincipal, session: SessionDep, params: ListParamsDep
        ) -> Response:
            return await _read_collection(request, principal, session, params, path, ())

        return read_all
    if len(names) == 1:

        async def read_nested(
            request: Request, parent_id: IdPath, principal: CurrentPrincipal, session: SessionDep, params: ListParamsDep
        ) -> Response:
            return await _read_collection(request, principal, session, params, path, (parent_id,))

        return read_nested

    async def read_nested_twice(
        request: Request,
        school_id: IdPath,
        class_id: IdPath,
        principal: CurrentPrincipal,
        session: SessionDep,
        params: ListParamsDep,
    ) -> Response:
        return await _read_collection(request, principal, session, params, path, (school_id, class_id))

    return read_nested_twice


async def read_object(
    connection: AsyncConnection, kind: Kind, tenant_id: str, conditions: list[Any], base: str
) -> dict[str, Any] | None:
    """One object in the JSON binding, or None."""
    table = kind.table
    row = (await connection.execute(sa.select(table).where(table.c.tenant_id == tenant_id, *conditions))).mappings()
    found = row.one_or_none()
    if found is None:
        return None
    children = await load_children(connection, kind, tenant_id, [found["sourced_id"]])
    return render(kind, found, children.get(found["sourced_id"], {}), base, None)


def _object_endpoint(path: str) -> Callable[..., Any]:
    kind_name, conditions = SINGLE_OBJECTS[path]
    kind = KINDS[kind_name]

    async def read_one(
        request: Request,
        sourced_id: IdPath,
        principal: CurrentPrincipal,
        session: SessionDep,
        fields: str | None = None,
    ) -> dict[str, Any]:
        require_scopes(principal, kind.read_scopes, f"Reading {kind.collection}")
        selection = selected_fields(kind, fields)
        found = await read_object(
            await session.connection(), kind, principal.tenant_id, conditions(sourced_id), base_href(request)
        )
        if found is None:
            raise OneRosterError(404, "unknownobject", f"No {kind.name} {sourced_id!r}.")
        return {kind.name: found if selection is None else {f: found[f] for f in selection}}

    return read_one


for _path in COLLECTIONS:
    _route_path = (
        _path if _path.count("{") != 1 else _path.replace(_path[_path.index("{") : _path.index("}") + 1], "{parent_id}")
    )
    router.add_api_route(
        _route_path,
        _collection_endpoint(_path),
        methods=["GET"],
        summary=f"List {_path}",
        response_class=StreamingResponse,
    )
for _path in SINGLE_OBJECTS:
    router.add_api_route(_path, _object_endpoint(_path), methods=["GET"], summary=f"Read {_path}")
