"""Reading OneRoster CSV zips: manifest and header checks, each file's rows as records, row errors
with their lines, 1.1 users, multi-value and metadata columns."""

from datetime import date

import pytest

from services.profile_service import oneroster_csv
from services.profile_service.oneroster_csv import RejectedRow, RosterFileError, RosterZip, RowError, open_roster
from services.profile_service.roster_store import RosterRecord
from tests.profile_service.csv_district import HEADERS, District, district, manifest, roster_zip, zip_files

Item = RosterRecord | RejectedRow


def opened(files: dict[str, str], modes: dict[str, str] | None = None, version: str = "1.2") -> RosterZip:
    """A zip of `files` (name without `.csv` -> content), each bulk unless `modes` says otherwise."""
    chosen = dict.fromkeys(files, "bulk") | (modes or {})
    content: dict[str, str | bytes] = {"manifest.csv": manifest(chosen, version)}
    content.update({f"{name}.csv": text for name, text in files.items()})
    return open_roster(zip_files(content))


def read(roster: RosterZip, kind: str) -> list[Item]:
    """Every item of `kind`'s file."""
    return list(roster.read(kind))


def records(items: list[Item]) -> dict[str, RosterRecord]:
    """The records among `items`, by sourcedId."""
    return {i.sourced_id: i for i in items if isinstance(i, RosterRecord)}


def errors(items: list[Item]) -> list[RowError]:
    """Every row error among `items`."""
    return [e for i in items if isinstance(i, RejectedRow) for e in i.errors]


def refusal(content: bytes) -> str:
    """The message `open_roster` refuses `content` with."""
    with pytest.raises(RosterFileError) as refused:
        open_roster(content)
    return str(refused.value)


ORGS = "sourcedId,name,type,parentSourcedId\nd,Riverbend,district,\ns1,North,school,d\n"
USERS = "sourcedId,enabledUser,givenName,familyName\n"
ROLES = "sourcedId,userSourcedId,roleType,role,orgSourcedId\n"


class TestRefusals:
    def test_not_a_zip(self) -> None:
        assert refusal(b"sourcedId,name\n") == "The upload is not a zip file: send a OneRoster CSV zip."

    def test_no_manifest(self) -> None:
        assert "no manifest.csv" in refusal(zip_files({"orgs.csv": ORGS}))

    def test_a_manifest_without_its_header(self) -> None:
        assert "propertyName,value" in refusal(zip_files({"manifest.csv": "oneroster.version,1.2\n"}))

    @pytest.mark.parametrize("version", ["1.0", "2.0", ""])
    def test_an_unknown_version(self, version: str) -> None:
        message = refusal(zip_files({"manifest.csv": manifest({}, version)}))

        assert "oneroster.version" in message
        assert "1.2" in message

    def test_an_unknown_mode(self) -> None:
        assert "file.orgs is 'full'" in refusal(
            zip_files({"manifest.csv": manifest({"orgs": "full"}), "orgs.csv": ORGS})
        )

    def test_a_file_the_manifest_announces_is_missing(self) -> None:
        content = zip_files({"manifest.csv": manifest({"orgs": "bulk", "users": "delta"}), "orgs.csv": ORGS})

        assert refusal(content) == "manifest.csv marks users.csv delta, but the zip has no such file."

    def test_an_unknown_column(self) -> None:
        with pytest.raises(RosterFileError, match=r"orgs.csv: unknown column\(s\) nickname"):
            opened({"orgs": "sourcedId,name,type,nickname\n"})

    def test_a_missing_required_column(self) -> None:
        with pytest.raises(RosterFileError, match=r"courses.csv: missing required column\(s\) orgSourcedId"):
            opened({"courses": "sourcedId,title\n"})

    def test_a_repeated_column(self) -> None:
        with pytest.raises(RosterFileError, match=r"appear more than once"):
            opened({"orgs": "sourcedId,name,type,name\n"})

    def test_an_empty_file(self) -> None:
        with pytest.raises(RosterFileError, match=r"orgs.csv is empty"):
            opened({"orgs": ""})

    def test_users_need_roles(self) -> None:
        with pytest.raises(RosterFileError, match=r"users need roles"):
            opened({"users": USERS})

    def test_roles_need_users(self) -> None:
        with pytest.raises(RosterFileError, match=r"only read with users.csv"):
            opened({"roles": ROLES})

    def test_version_1_1_users_need_their_role_columns(self) -> None:
        with pytest.raises(RosterFileError, match=r"missing required column\(s\) role, orgSourcedIds, username"):
            opened({"users": USERS, "roles": ROLES}, version="1.1")

    def test_too_much_once_uncompressed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(oneroster_csv, "MAX_UNCOMPRESSED_BYTES", 100)

        assert "once uncompressed" in refusal(roster_zip(district()))

    def test_text_that_is_not_utf8(self) -> None:
        content: dict[str, str | bytes] = {
            "manifest.csv": manifest({"orgs": "bulk"}),
            "orgs.csv": ORGS.encode() + b"s2,S\xfcd,school\n",
        }

        assert refusal(zip_files(content)) == "orgs.csv is not UTF-8 text."

    def test_text_that_stops_being_utf8_further_down_fails_the_read(self) -> None:
        rows = "".join(f"s{n},School {n},school\n" for n in range(2_000))
        content: dict[str, str | bytes] = {
            "manifest.csv": manifest({"orgs": "bulk"}),
            "orgs.csv": (ORGS + rows).encode() + b"x,\xff,school\n",
        }

        with open_roster(zip_files(content)) as roster, pytest.raises(RosterFileError, match=r"orgs.csv is not UTF-8"):
            read(roster, "org")


class TestManifest:
    def test_modes_and_files_not_imported(self) -> None:
        content = zip_files(
            {"manifest.csv": manifest({"orgs": "delta", "lineItems": "bulk", "results": "absent"}), "orgs.csv": ORGS}
        )

        with open_roster(content) as roster:
            assert roster.manifest.version == "1.2"
            assert roster.mode("orgs") == "delta"
            assert roster.mode("users") == "absent"
            assert roster.manifest.not_imported == ("lineItems.csv",)

    def test_a_set_zipped_inside_a_folder(self) -> None:
        content = zip_files({"export/manifest.csv": manifest({"orgs": "bulk"}), "export/orgs.csv": ORGS})

        with open_roster(content) as roster:
            assert sorted(records(read(roster, "org"))) == ["d", "s1"]

    def test_absent_files_are_ignored_even_if_present(self) -> None:
        with opened({"orgs": "not,a,roster\n"}, {"orgs": "absent"}) as roster:
            assert read(roster, "org") == []

    def test_version_1_1(self) -> None:
        with opened({"orgs": ORGS}, version="1.1") as roster:
            assert roster.manifest.version == "1.1"

    def test_counts_rows(self) -> None:
        tables = district()

        with open_roster(roster_zip(tables)) as roster:
            assert roster.count_rows("enrollments") == len(tables["enrollments"].rows)
            assert roster.count_rows("demographics") == 0


class TestEachFile:
    def test_the_demo_sized_district_reads_without_errors(self) -> None:
        tables: District = district(demographics=5)

        with open_roster(roster_zip(tables)) as roster:
            for kind, name in (("org", "orgs"), ("class", "classes"), ("user", "users"), ("enrollment", "enrollments")):
                items = read(roster, kind)
                assert errors(items) == []
                assert len(records(items)) == len(tables[name].rows)

    def test_orgs_and_academic_sessions(self) -> None:
        sessions = (
            "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\n"
            "y,active,2026-01-01T00:00:00Z,2026-27,schoolYear,2026-08-15,2027-06-15,,2027\n"
            "fall,,,Fall,term,2026-08-15,2026-12-20,y,2027\n"
        )
        with opened({"orgs": ORGS, "academicSessions": sessions}) as roster:
            orgs = records(read(roster, "org"))
            found = records(read(roster, "academicSession"))

        assert orgs["s1"].values["parent_sourced_id"] == "d"
        assert orgs["d"].values["parent_sourced_id"] is None
        assert orgs["s1"].origin == "orgs.csv:3"
        assert found["fall"].values["start_date"] == date(2026, 8, 15)
        assert found["fall"].values["parent_sourced_id"] == "y"
        assert found["y"].status == "active"

    def test_courses_and_classes_with_multiple_values(self) -> None:
        courses = (
            "sourcedId,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes\n"
            'm,y,Math,M6,"06,07",s1,"Math, Algebra",math\n'
        )
        classes = (
            "sourcedId,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,periods\n"
            'c1,Math A,06,m,MA,scheduled,Room 4,s1,"fall,spring","1,2"\n'
        )
        with opened({"courses": courses, "classes": classes}) as roster:
            course = records(read(roster, "course"))["m"]
            klass = records(read(roster, "class"))["c1"]

        assert course.values["grades"] == ["06", "07"]
        assert course.values["subjects"] == ["Math", "Algebra"]
        assert course.values["school_year_sourced_id"] == "y"
        assert klass.children["terms"] == [{"term_sourced_id": "fall"}, {"term_sourced_id": "spring"}]
        assert klass.values["periods"] == ["1", "2"]
        assert klass.values["course_sourced_id"] == "m"

    def test_users_with_their_roles_from_roles_csv(self) -> None:
        users = (
            ",".join(HEADERS["users"])
            + '\nu1,,,true,ada,"{LDAP:123},{SIS:456}",Ada,Lovelace,Byron,A1,ada@example.org,,555,p1,"06,07",'
            "secret,M1,,Addie,,Love,s1,she/her\n"
        )
        roles = (
            "sourcedId,userSourcedId,roleType,role,orgSourcedId,beginDate,endDate,userProfileSourcedId\n"
            "r1,u1,primary,student,s1,2026-08-15,,\n"
            "r2,u1,secondary,aide,d,,,profile-9\n"
        )
        with opened({"users": users, "roles": roles}) as roster:
            items = read(roster, "user")

        assert errors(items) == []
        user = records(items)["u1"]
        assert user.values["user_ids"] == [{"type": "LDAP", "identifier": "123"}, {"type": "SIS", "identifier": "456"}]
        assert user.values["preferred_given_name"] == "Addie"
        assert user.values["preferred_family_name"] == "Love"
        assert user.values["primary_org_sourced_id"] == "s1"
        assert user.values["grades"] == ["06", "07"]
        assert user.values["pronouns"] == "she/her"
        assert user.values["role"] == "student"
        assert "secret" not in repr(user)
        assert user.children["agents"] == [{"agent_sourced_id": "p1"}]
        assert [
            (r["role"], r["org_sourced_id"], r["role_type"], r["user_profile"]) for r in user.children["roles"]
        ] == [
            ("student", "s1", "primary", None),
            ("aide", "d", "secondary", "profile-9"),
        ]
        assert user.children["roles"][0]["begin_date"] == date(2026, 8, 15)

    def test_version_1_1_users_take_role_and_org_sourced_ids(self) -> None:
        users = (
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
            "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n"
            'u1,,,true,"s1,s2",teacher,tea,,Tom,Teach,,,,,,,,\n'
        )
        with opened({"users": users}, version="1.1") as roster:
            user = records(read(roster, "user"))["u1"]

        assert [(r["role"], r["org_sourced_id"], r["role_type"]) for r in user.children["roles"]] == [
            ("teacher", "s1", "primary"),
            ("teacher", "s2", "secondary"),
        ]
        assert user.values["role"] == "teacher"

    def test_enrollments_and_demographics(self) -> None:
        enrollments = (
            "sourcedId,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n"
            "e1,c1,s1,t1,teacher,true,2026-08-15,2027-06-15\n"
            "e2,c1,,u1,student,false,,\n"
        )
        demographics = (
            ",".join(HEADERS["demographics"])
            + "\nu1,,,2014-03-01,female,false,false,false,false,true,false,true,US,WA,"
            "Tacoma,resident\n"
        )
        with opened({"enrollments": enrollments, "demographics": demographics}) as roster:
            found = records(read(roster, "enrollment"))
            person = records(read(roster, "demographics"))["u1"]

        assert found["e1"].values["primary"] is True
        assert found["e1"].values["begin_date"] == date(2026, 8, 15)
        assert found["e2"].values["school_sourced_id"] is None
        assert found["e2"].values["primary"] is False
        assert person.values["birth_date"] == date(2014, 3, 1)
        assert (person.values["white"], person.values["asian"], person.values["hispanic_or_latino_ethnicity"]) == (
            True,
            False,
            True,
        )
        assert person.values["city_of_birth"] == "Tacoma"

    def test_metadata_columns_and_any_column_order(self) -> None:
        orgs = "type,metadata.jp.kanaName,name,sourcedId,metadata.region\nschool,ノース,North,s1,\n"

        with opened({"orgs": orgs}) as roster:
            org = records(read(roster, "org"))["s1"]

        assert org.values["metadata"] == {"jp.kanaName": "ノース"}
        assert (org.values["name"], org.values["type"]) == ("North", "school")

    def test_a_tobedeleted_row_needs_only_its_sourced_id(self) -> None:
        with opened({"orgs": "sourcedId,status,name,type\ns9,tobedeleted,,\n"}, {"orgs": "delta"}) as roster:
            (item,) = read(roster, "org")

        assert isinstance(item, RosterRecord)
        assert (item.sourced_id, item.status, item.values) == ("s9", "tobedeleted", {})


class TestRowErrors:
    def test_bad_cells_are_reported_with_file_line_and_column(self) -> None:
        orgs = "sourcedId,name,type\nd,Riverbend,district\ns1,,school\ns2,South,castle\n!bad,X,school\n"

        with opened({"orgs": orgs}) as roster:
            items = read(roster, "org")

        assert sorted(records(items)) == ["d"]
        assert [(e.file, e.line, e.field) for e in errors(items)] == [
            ("orgs.csv", 3, "name"),
            ("orgs.csv", 4, "type"),
            ("orgs.csv", 5, "sourcedId"),
        ]
        assert errors(items)[0].reason == "a value is required"
        assert "district" in errors(items)[1].reason

    def test_a_reference_column_is_named_as_in_the_file(self) -> None:
        with opened({"courses": "sourcedId,title,orgSourcedId\nm,Math,\n"}) as roster:
            (error,) = errors(read(roster, "course"))

        assert (error.field, error.line) == ("orgSourcedId", 2)

    def test_quoted_line_breaks_keep_line_numbers(self) -> None:
        orgs = 'sourcedId,name,type\nd,"River\nbend",district\ns1,North,planet\n'

        with opened({"orgs": orgs}) as roster:
            items = read(roster, "org")

        assert records(items)["d"].values["name"] == "River\nbend"
        assert [(e.line, e.field) for e in errors(items)] == [(4, "type")]

    def test_more_values_than_columns(self) -> None:
        with opened({"orgs": "sourcedId,name,type\nd,Riverbend,district,extra\n"}) as roster:
            (error,) = errors(read(roster, "org"))

        assert (error.line, error.field) == (2, "row")
        assert "1 more value" in error.reason

    def test_bad_user_ids_and_booleans(self) -> None:
        users = "sourcedId,enabledUser,givenName,familyName,userIds\nu1,true,A,B,LDAP-123\nu2,maybe,C,D,\n"
        roles = ROLES + "r1,u1,primary,student,s1\nr2,u2,primary,student,s1\n"

        with opened({"users": users, "roles": roles}) as roster:
            items = read(roster, "user")

        assert [(e.line, e.field) for e in errors(items)] == [(2, "userIds"), (3, "enabledUser")]
        assert "{type:identifier}" in errors(items)[0].reason

    def test_a_bad_role_points_into_roles_csv(self) -> None:
        users = USERS + "u1,true,Ada,Lovelace\n"
        roles = ROLES + "r1,u1,primary,student,s1\nr2,u1,tertiary,wizard,s1\n"

        with opened({"users": users, "roles": roles}) as roster:
            items = read(roster, "user")

        rejected = [i for i in items if isinstance(i, RejectedRow)]
        assert [(r.file, r.line, r.sourced_id) for r in rejected] == [("users.csv", 2, "u1")]
        assert [(e.file, e.line, e.field) for e in rejected[0].errors] == [
            ("roles.csv", 3, "roleType"),
            ("roles.csv", 3, "role"),
        ]

    def test_users_without_roles_and_roles_without_users(self) -> None:
        users = USERS + "u1,true,Ada,Lovelace\nu2,true,Bo,Diddley\n"
        roles = ROLES + "r1,u1,primary,student,s1\nr2,u9,primary,student,s1\nr3,,primary,student,s1\n"

        with opened({"users": users, "roles": roles}) as roster:
            items = read(roster, "user")

        assert sorted(records(items)) == ["u1"]
        assert [(e.file, e.line, e.field) for e in errors(items)] == [
            ("roles.csv", 4, "userSourcedId"),
            ("users.csv", 3, "roles"),
            ("roles.csv", 3, "userSourcedId"),
        ]
        assert errors(items)[2].reason == "no row for user 'u9' in users.csv"
