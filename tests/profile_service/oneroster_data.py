"""A small district in the OneRoster 1.2 JSON binding, and helpers to write and read it over REST."""

from typing import Any

import httpx

from services.profile_service import scopes
from tests.tokens import TokenFactory

BASE = "/ims/oneroster/rostering/v1p2"
READ_ALL = (scopes.ROSTER_READ, scopes.DEMOGRAPHICS_READ)


def ref(sourced_id: str, type_name: str) -> dict[str, str]:
    """A GUID reference as clients send it."""
    return {"sourcedId": sourced_id, "type": type_name}


def user(sourced_id: str, role: str, org: str, **fields: Any) -> dict[str, Any]:
    """A user with one primary role at `org`."""
    return {
        "sourcedId": sourced_id,
        "givenName": fields.pop("givenName", sourced_id.title()),
        "familyName": fields.pop("familyName", "Rivers"),
        "roles": [{"roleType": "primary", "role": role, "org": ref(org, "org")}],
        "primaryOrg": ref(org, "org"),
        **fields,
    }


def enrollment(class_id: str, user_id: str, role: str, **fields: Any) -> dict[str, Any]:
    """An enrollment of `user_id` in `class_id`."""
    return {
        "sourcedId": f"{class_id}-{user_id}",
        "class": ref(class_id, "class"),
        "user": ref(user_id, "user"),
        "role": role,
        **fields,
    }


def district() -> dict[str, list[dict[str, Any]]]:
    """District `d`, schools `s1`, `s2`; `t1` teaches `c1` (s1) to `u1`, `u2`; `t2` teaches `c2` (s2) to `u3`."""
    return {
        "orgs": [
            {"sourcedId": "d", "name": "Riverbend", "type": "district"},
            {"sourcedId": "s1", "name": "North Elementary", "type": "school", "parent": ref("d", "org")},
            {"sourcedId": "s2", "name": "South Middle", "type": "school", "parent": ref("d", "org")},
        ],
        "academicSessions": [
            {
                "sourcedId": "y2027",
                "title": "2026-27",
                "type": "schoolYear",
                "startDate": "2026-08-15",
                "endDate": "2027-06-15",
                "schoolYear": "2027",
            },
            {
                "sourcedId": "fall",
                "title": "Fall",
                "type": "term",
                "startDate": "2026-08-15",
                "endDate": "2026-12-20",
                "schoolYear": "2027",
                "parent": ref("y2027", "academicSession"),
            },
            {
                "sourcedId": "fall-q1",
                "title": "Q1",
                "type": "gradingPeriod",
                "startDate": "2026-08-15",
                "endDate": "2026-10-15",
                "schoolYear": "2027",
                "parent": ref("fall", "academicSession"),
            },
        ],
        "courses": [
            {"sourcedId": "math6", "title": "Math 6", "org": ref("s1", "org"), "grades": ["06"]},
            {"sourcedId": "sci7", "title": "Science 7", "org": ref("s2", "org"), "grades": ["07"]},
        ],
        "classes": [
            {
                "sourcedId": "c1",
                "title": "Math 6 A",
                "course": ref("math6", "course"),
                "school": ref("s1", "org"),
                "terms": [ref("fall", "academicSession")],
                "grades": ["06"],
            },
            {
                "sourcedId": "c2",
                "title": "Science 7 B",
                "course": ref("sci7", "course"),
                "school": ref("s2", "org"),
                "terms": [ref("fall", "academicSession")],
            },
        ],
        "users": [
            user("t1", "teacher", "s1", email="t1@riverbend.example"),
            user("t2", "teacher", "s2", email="t2@riverbend.example"),
            user("u1", "student", "s1", grades=["06"], familyName="O'Brien", agents=[ref("p1", "user")]),
            user("u2", "student", "s1", grades=["06"], email="u2@riverbend.example"),
            user("u3", "student", "s2", grades=["07"]),
            user("p1", "parent", "s1", agents=[ref("u1", "user")]),
        ],
        "enrollments": [
            enrollment("c1", "t1", "teacher", primary=True),
            enrollment("c1", "u1", "student"),
            enrollment("c1", "u2", "student"),
            enrollment("c2", "t2", "teacher", primary=True),
            enrollment("c2", "u3", "student"),
        ],
        "demographics": [
            {"sourcedId": "u1", "birthDate": "2014-03-01", "sex": "female"},
            {"sourcedId": "u3", "birthDate": "2013-01-20", "sex": "male"},
        ],
    }


def partner(tokens: TokenFactory, *granted: str, tenant: str = "t1") -> dict[str, str]:
    """Headers of a partner (API client) of `tenant` holding `granted` scopes."""
    return tokens.headers("sis-client", "partner", tenant=tenant, scopes=granted)


def writer(tokens: TokenFactory, tenant: str = "t1") -> dict[str, str]:
    """Headers of a partner that may write and read the whole roster."""
    return partner(tokens, scopes.ROSTER_WRITE, *READ_ALL, tenant=tenant)


async def load_district(client: httpx.AsyncClient, tokens: TokenFactory, tenant: str = "t1") -> dict[str, Any]:
    """Write `district()` through the bulk endpoint; returns its response body."""
    response = await client.post(f"{BASE}/bulk", json=district(), headers=writer(tokens, tenant))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "error" not in body["counts"], body
    return body
