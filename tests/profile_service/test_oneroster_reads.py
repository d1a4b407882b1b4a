"""OneRoster 1.2 rostering reads: collections, single objects, nested collections, query
parameters, paging headers, delta reads, errors in the spec's shape, scopes and tenancy.

The district (from `oneroster_data.district()`): district `d`, schools `s1`, `s2`; term `fall`
with grading period `fall-q1`; teacher `t1` teaches `c1` (s1) to `u1`, `u2`; `t2` teaches `c2`
(s2) to `u3`; parent `p1` of `u1`.
"""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.profile_service import scopes
from tests.profile_service.oneroster_data import BASE, READ_ALL, load_district, partner, writer
from tests.tokens import TokenFactory


def ids(response: httpx.Response, key: str) -> list[str]:
    """The sourcedIds of a 200 collection response under `key`."""
    assert response.status_code == 200, response.text
    return [item["sourcedId"] for item in response.json()[key]]


def code_minor(response: httpx.Response) -> str:
    """The OneRoster codeMinor of an error response."""
    value: str = response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    return value


def links(response: httpx.Response) -> dict[str, dict[str, list[str]]]:
    """The `Link` header as {rel: query parameters}."""
    found = {}
    for part in response.headers["link"].split(", "):
        url, rel = part.split("; ")
        found[rel.removeprefix('rel="').removesuffix('"')] = parse_qs(urlsplit(url.strip("<>")).query)
    return found


@pytest.fixture
async def district(profile: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Any]:
    """The district written into tenant t1."""
    return await load_district(profile, tokens)


@pytest.mark.usefixtures("district")
class TestCollections:
    @pytest.mark.parametrize(
        ("path", "key", "expected"),
        [
            ("/orgs", "orgs", ["d", "s1", "s2"]),
            ("/schools", "orgs", ["s1", "s2"]),
            ("/academicSessions", "academicSessions", ["fall", "fall-q1", "y2027"]),
            ("/terms", "academicSessions", ["fall"]),
            ("/gradingPeriods", "academicSessions", ["fall-q1"]),
            ("/courses", "courses", ["math6", "sci7"]),
            ("/classes", "classes", ["c1", "c2"]),
            ("/users", "users", ["p1", "t1", "t2", "u1", "u2", "u3"]),
            ("/students", "users", ["u1", "u2", "u3"]),
            ("/teachers", "users", ["t1", "t2"]),
            ("/enrollments", "enrollments", ["c1-t1", "c1-u1", "c1-u2", "c2-t2", "c2-u3"]),
            ("/demographics", "demographics", ["u1", "u3"]),
        ],
    )
    async def test_lists_every_object_of_the_collection_in_sourced_id_order(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, path: str, key: str, expected: list[str]
    ) -> None:
        response = await profile.get(BASE + path, headers=partner(tokens, *READ_ALL))

        assert ids(response, key) == expected
        assert response.headers["x-total-count"] == str(len(expected))
        assert response.headers["content-type"] == "application/json"

    async def test_a_user_carries_roles_agents_grades_and_references_as_the_json_binding(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await profile.get(f"{BASE}/users/u1", headers=partner(tokens, scopes.ROSTER_CORE_READ))

        assert response.status_code == 200, response.text
        user = response.json()["user"]
        assert user["roles"] == [
            {
                "roleType": "primary",
                "role": "student",
                "org": {"href": f"http://profile.test{BASE}/orgs/s1", "sourcedId": "s1", "type": "org"},
                "userProfile": None,
                "beginDate": None,
                "endDate": None,
            }
        ]
        assert [a["sourcedId"] for a in user["agents"]] == ["p1"]
        assert user["grades"] == ["06"]
        assert user["familyName"] == "O'Brien"
        assert user["primaryOrg"]["sourcedId"] == "s1"
        assert user["status"] == "active"
        assert user["dateLastModified"].endswith("Z")
        assert len(user["dateLastModified"]) == len("2026-11-23T10:00:00.000Z")

    async def test_a_class_carries_its_school_course_and_terms(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await profile.get(f"{BASE}/classes/c1", headers=partner(tokens, scopes.ROSTER_CORE_READ))

        klass = response.json()["class"]
        assert klass["school"]["sourcedId"] == "s1"
        assert klass["course"]["sourcedId"] == "math6"
        assert [t["sourcedId"] for t in klass["terms"]] == ["fall"]

    async def test_an_org_lists_its_children_and_parent(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        district = (await profile.get(f"{BASE}/orgs/d", headers=partner(tokens, scopes.ROSTER_READ))).json()["org"]
        school = (await profile.get(f"{BASE}/schools/s1", headers=partner(tokens, scopes.ROSTER_READ))).json()["org"]

        assert [c["sourcedId"] for c in district["children"]] == ["s1", "s2"]
        assert school["parent"]["sourcedId"] == "d"

    @pytest.mark.parametrize(
        "path",
        [
            "/users/nobody",
            "/schools/d",
            "/terms/y2027",
            "/students/t1",
            "/teachers/u1",
            "/classes/c9",
            "/demographics/u2",
        ],
    )
    async def test_an_unknown_object_is_unknownobject(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, path: str
    ) -> None:
        response = await profile.get(BASE + path, headers=partner(tokens, *READ_ALL))

        assert response.status_code == 404
        assert code_minor(response) == "unknownobject"
        assert response.json()["imsx_codeMajor"] == "failure"


@pytest.mark.usefixtures("district")
class TestNestedCollections:
    @pytest.mark.parametrize(
        ("path", "key", "expected"),
        [
            ("/schools/s1/classes", "classes", ["c1"]),
            ("/schools/s1/courses", "courses", ["math6"]),
            ("/schools/s1/enrollments", "enrollments", ["c1-t1", "c1-u1", "c1-u2"]),
            ("/schools/s1/students", "users", ["u1", "u2"]),
            ("/schools/s2/teachers", "users", ["t2"]),
            ("/schools/s1/terms", "academicSessions", ["fall"]),
            ("/schools/s1/classes/c1/enrollments", "enrollments", ["c1-t1", "c1-u1", "c1-u2"]),
            ("/schools/s1/classes/c1/students", "users", ["u1", "u2"]),
            ("/schools/s1/classes/c1/teachers", "users", ["t1"]),
            ("/classes/c1/students", "users", ["u1", "u2"]),
            ("/classes/c2/teachers", "users", ["t2"]),
            ("/courses/sci7/classes", "classes", ["c2"]),
            ("/users/u3/classes", "classes", ["c2"]),
            ("/students/u1/classes", "classes", ["c1"]),
            ("/teachers/t1/classes", "classes", ["c1"]),
            ("/terms/fall/classes", "classes", ["c1", "c2"]),
            ("/terms/fall/gradingPeriods", "academicSessions", ["fall-q1"]),
        ],
    )
    async def test_lists_the_related_objects(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, path: str, key: str, expected: list[str]
    ) -> None:
        response = await profile.get(BASE + path, headers=partner(tokens, scopes.ROSTER_READ))

        assert ids(response, key) == expected

    async def test_filters_apply_on_nested_collections(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        headers = writer(tokens)
        deleted = await profile.delete(f"{BASE}/classes/c1", headers=headers)
        assert deleted.status_code == 204

        active = await profile.get(f"{BASE}/teachers/t1/classes?filter=status='active'", headers=headers)
        every = await profile.get(f"{BASE}/teachers/t1/classes", headers=headers)

        assert ids(active, "classes") == []
        assert ids(every, "classes") == ["c1"]

    @pytest.mark.parametrize(
        "path",
        [
            "/schools/nowhere/classes",
            "/schools/d/classes",
            "/classes/c9/students",
            "/teachers/u1/classes",
            "/schools/s2/classes/c1/students",
            "/terms/fall-q1/classes",
        ],
    )
    async def test_an_unknown_parent_is_unknownobject(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, path: str
    ) -> None:
        response = await profile.get(BASE + path, headers=partner(tokens, scopes.ROSTER_READ))

        assert response.status_code == 404
        assert code_minor(response) == "unknownobject"


@pytest.mark.usefixtures("district")
class TestQueryParameters:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("filter=role='teacher'", ["t1", "t2"]),
            ("filter=roles.role='parent'", ["p1"]),
            ("filter=email='u2@riverbend.example'", ["u2"]),
            ("filter=familyName='O''Brien'", ["u1"]),
            ("filter=familyName~'brien'", ["u1"]),
            ("filter=givenName='U3'", ["u3"]),
            ("filter=grades='07'", ["u3"]),
            ("filter=status='active' AND primaryOrg.sourcedId='s2'", ["t2", "u3"]),
            ("filter=givenName='U1' OR givenName='T2'", ["t2", "u1"]),
            ("filter=identifier='none'", []),
            ("filter=status!='active'", []),
            ("filter=agents.sourcedId='u1'", ["p1"]),
        ],
    )
    async def test_filters_users_on_every_field(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, query: str, expected: list[str]
    ) -> None:
        response = await profile.get(f"{BASE}/users?{query}", headers=partner(tokens, scopes.ROSTER_READ))

        assert ids(response, "users") == expected
        assert response.headers["x-total-count"] == str(len(expected))

    async def test_filters_dates_as_dates(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        headers = partner(tokens, scopes.ROSTER_READ)
        before = await profile.get(f"{BASE}/academicSessions?filter=endDate<'2026-12-31'", headers=headers)
        birth = await profile.get(
            f"{BASE}/demographics?filter=birthDate>='2014-01-01'", headers=partner(tokens, scopes.DEMOGRAPHICS_READ)
        )

        assert ids(before, "academicSessions") == ["fall", "fall-q1"]
        assert ids(birth, "demographics") == ["u1"]

    async def test_sorts_by_a_field_in_either_order(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        headers = partner(tokens, scopes.ROSTER_READ)
        ascending = await profile.get(f"{BASE}/classes?sort=title", headers=headers)
        descending = await profile.get(f"{BASE}/users?sort=familyName&orderBy=desc", headers=headers)

        assert ids(ascending, "classes") == ["c1", "c2"]
        assert ids(descending, "users")[-1] == "u1"  # O'Brien sorts after the Rivers, so last in descending order

    async def test_fields_selects_the_returned_fields(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        headers = partner(tokens, scopes.ROSTER_READ)
        listed = await profile.get(f"{BASE}/users?fields=sourcedId,givenName&limit=1", headers=headers)
        single = await profile.get(f"{BASE}/classes/c1?fields=title", headers=headers)

        assert listed.json() == {"users": [{"sourcedId": "p1", "givenName": "P1"}]}
        assert single.json() == {"class": {"title": "Math 6 A"}}

    async def test_pages_carry_the_total_and_links_first_prev_next_last(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        headers = partner(tokens, scopes.ROSTER_READ)
        response = await profile.get(f"{BASE}/users?limit=2&offset=2&filter=status='active'", headers=headers)

        assert ids(response, "users") == ["t2", "u1"]
        assert response.headers["x-total-count"] == "6"
        found = links(response)
        assert {rel: q["offset"] for rel, q in found.items()} == {
            "first": ["0"],
            "prev": ["0"],
            "next": ["4"],
            "last": ["4"],
        }
        assert found["next"]["filter"] == ["status='active'"]
        assert found["next"]["limit"] == ["2"]

    async def test_the_default_limit_is_100_and_10000_is_served(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        headers = partner(tokens, scopes.ROSTER_READ)
        default = await profile.get(f"{BASE}/users", headers=headers)
        large = await profile.get(f"{BASE}/users?limit=10000", headers=headers)

        assert links(default)["last"]["limit"] == ["100"]
        assert len(large.json()["users"]) == 6

    @pytest.mark.parametrize(
        ("query", "expected_code", "field"),
        [
            ("filter=shoeSize='9'", "invalid_filter_field", "filter"),
            ("filter=status='gone'", "invalid_filter_field", "filter"),
            ("filter=status=active", "invalid_filter_field", "filter"),
            ("filter=status='active' AND", "invalid_filter_field", "filter"),
            ("filter=givenName='a' AND familyName='b' OR email='c'", "invalid_filter_field", "filter"),
            ("filter=dateLastModified>'yesterday'", "invalid_filter_field", "filter"),
            ("filter=status='active'; DROP TABLE roster_user;--", "invalid_filter_field", "filter"),
            ("fields=sourcedId,shoeSize", "invalid_selection_field", "fields"),
            ("sort=shoeSize", "invalid_sort_field", "sort"),
            ("limit=0", "invaliddata", "limit"),
            ("limit=10001", "invaliddata", "limit"),
            ("offset=-1", "invaliddata", "offset"),
            ("orderBy=sideways", "invaliddata", "orderBy"),
        ],
    )
    async def test_bad_parameters_are_refused_in_the_specs_error_shape_naming_them(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, query: str, expected_code: str, field: str
    ) -> None:
        response = await profile.get(f"{BASE}/users?{query}", headers=partner(tokens, scopes.ROSTER_READ))

        assert response.status_code == 400, response.text
        assert code_minor(response) == expected_code
        body = response.json()
        assert body["imsx_severity"] == "error"
        assert body["field"] == field
        assert body["imsx_description"]

    async def test_an_injection_attempt_in_a_value_is_only_a_value(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        headers = partner(tokens, scopes.ROSTER_READ)
        response = await profile.get(f"{BASE}/users?filter=givenName='x'' OR ''1''=''1'", headers=headers)
        still_there = await profile.get(f"{BASE}/users", headers=headers)

        assert ids(response, "users") == []
        assert len(ids(still_there, "users")) == 6


class TestDeltaReads:
    async def test_changed_and_deleted_objects_since_a_time_are_returned_with_their_tombstones(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, district: dict[str, Any]
    ) -> None:
        headers = writer(tokens)
        listed = await profile.get(f"{BASE}/enrollments", headers=headers)
        since = max(e["dateLastModified"] for e in listed.json()["enrollments"])
        assert (await profile.delete(f"{BASE}/enrollments/c1-u2", headers=headers)).status_code == 204

        delta = await profile.get(f"{BASE}/enrollments?filter=dateLastModified>'{since}'", headers=headers)

        assert [(e["sourcedId"], e["status"]) for e in delta.json()["enrollments"]] == [("c1-u2", "tobedeleted")]
        tombstone = await profile.get(f"{BASE}/enrollments/c1-u2", headers=headers)
        assert tombstone.json()["enrollment"]["status"] == "tobedeleted"

    async def test_paging_stays_stable_while_objects_change(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, district: dict[str, Any]
    ) -> None:
        headers = writer(tokens)
        first = await profile.get(f"{BASE}/users?limit=3", headers=headers)
        update = {"user": {**_user_body(await profile.get(f"{BASE}/users/p1", headers=headers)), "givenName": "Pat"}}
        assert (await profile.put(f"{BASE}/users/p1", json=update, headers=headers)).status_code == 200
        second = await profile.get(f"{BASE}/users?limit=3&offset=3", headers=headers)

        assert ids(first, "users") + ids(second, "users") == ["p1", "t1", "t2", "u1", "u2", "u3"]


def _user_body(response: httpx.Response) -> dict[str, Any]:
    user: dict[str, Any] = response.json()["user"]
    return {k: v for k, v in user.items() if k not in {"dateLastModified"}}


@pytest.mark.usefixtures("district")
class TestAuthorization:
    @pytest.mark.parametrize("path", ["/users", "/classes/c1", "/schools/s1/students", "/enrollments"])
    async def test_an_unauthenticated_caller_is_unauthorisedrequest(
        self, profile: httpx.AsyncClient, unauthenticated: dict[str, str], path: str
    ) -> None:
        response = await profile.get(BASE + path, headers=unauthenticated)

        assert response.status_code == 401
        assert code_minor(response) == "unauthorisedrequest"
        assert response.headers["www-authenticate"] == "Bearer"

    @pytest.mark.parametrize(
        ("path", "granted"),
        [
            ("/users", ()),
            ("/enrollments", (scopes.ROSTER_CORE_READ,)),
            ("/schools/s1/enrollments", (scopes.ROSTER_CORE_READ,)),
            ("/demographics", (scopes.ROSTER_READ,)),
            ("/demographics/u1", (scopes.ROSTER_READ, scopes.ROSTER_CORE_READ)),
            ("/users", (scopes.DEMOGRAPHICS_READ, scopes.ROSTER_WRITE)),
        ],
    )
    async def test_a_partner_without_the_scope_is_forbidden(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, path: str, granted: tuple[str, ...]
    ) -> None:
        response = await profile.get(BASE + path, headers=partner(tokens, *granted))

        assert response.status_code == 403
        assert code_minor(response) == "forbidden"

    async def test_a_teacher_or_learner_token_without_roster_scopes_is_forbidden(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        for headers in (tokens.headers("t1", "teacher"), tokens.headers("u1", "learner")):
            response = await profile.get(f"{BASE}/classes/c1/students", headers=headers)
            assert response.status_code == 403

    async def test_another_tenant_sees_none_of_this_tenants_objects(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        other = partner(tokens, *READ_ALL, tenant="t2")

        listed = await profile.get(f"{BASE}/users", headers=other)
        single = await profile.get(f"{BASE}/users/u1", headers=other)
        nested = await profile.get(f"{BASE}/classes/c1/students", headers=other)

        assert ids(listed, "users") == []
        assert single.status_code == 404
        assert nested.status_code == 404

    async def test_the_same_ids_in_two_tenants_stay_apart(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await load_district(profile, tokens, tenant="t2")
        headers = writer(tokens, tenant="t2")
        renamed = {"org": {"sourcedId": "s1", "name": "Elsewhere", "type": "school", "parent": {"sourcedId": "d"}}}
        assert (await profile.put(f"{BASE}/orgs/s1", json=renamed, headers=headers)).status_code == 200

        mine = await profile.get(f"{BASE}/schools/s1", headers=writer(tokens))
        theirs = await profile.get(f"{BASE}/schools/s1", headers=headers)

        assert mine.json()["org"]["name"] == "North Elementary"
        assert theirs.json()["org"]["name"] == "Elsewhere"
