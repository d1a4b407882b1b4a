"""A deterministic district as OneRoster 1.2 CSV tables and zips, at any size (tests and `bench/roster_import.py`).

The default size is the demo district's: 2 schools, 8 teachers, 240 students each with a
guardian, 12 classes and 492 enrollments (every student in 2 classes, a teacher in each class).
Ids are predictable: `org-d`, `org-s001`, `tea-00001`, `stu-000001`, `gua-000001`, `cls-00001`,
`enr-0000001`, terms `term-fall` and `term-spring` in school year `year-2027`.
"""

import csv
import io
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HEADERS = {
    "orgs": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"),
    "academicSessions": (
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "type",
        "startDate",
        "endDate",
        "parentSourcedId",
        "schoolYear",
    ),
    "courses": (
        "sourcedId",
        "status",
        "dateLastModified",
        "schoolYearSourcedId",
        "title",
        "courseCode",
        "grades",
        "orgSourcedId",
        "subjects",
        "subjectCodes",
    ),
    "classes": (
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "grades",
        "courseSourcedId",
        "classCode",
        "classType",
        "location",
        "schoolSourcedId",
        "termSourcedIds",
        "subjects",
        "subjectCodes",
        "periods",
    ),
    "users": (
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "resourceSourcedIds",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ),
    "roles": (
        "sourcedId",
        "status",
        "dateLastModified",
        "userSourcedId",
        "roleType",
        "role",
        "beginDate",
        "endDate",
        "orgSourcedId",
        "userProfileSourcedId",
    ),
    "enrollments": (
        "sourcedId",
        "status",
        "dateLastModified",
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
        "primary",
        "beginDate",
        "endDate",
    ),
    "demographics": (
        "sourcedId",
        "status",
        "dateLastModified",
        "birthDate",
        "sex",
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander",
        "white",
        "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity",
        "countryOfBirthCode",
        "stateOfBirthAbbreviation",
        "cityOfBirth",
        "publicSchoolResidenceStatus",
    ),
}
"""The OneRoster 1.2 CSV headers, in the spec's column order."""

GIVEN = ("Ava", "Ben", "Chloe", "Diego", "Elif", "Farah", "Gus", "Hana", "Ivan", "Jada", "Kofi", "Lena", "Mateo")
FAMILY = ("Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Uddin", "Vega", "Weber", "Young")
SUBJECTS = (("Math", "math"), ("Science", "science"), ("English", "ela"), ("History", "social"))
GRADES = ("06", "07", "08")
CHANGED_AT = "2027-01-15T10:00:00.000Z"


@dataclass
class CsvTable:
    """One CSV file: its header and rows (cells as strings, "" for empty)."""

    header: tuple[str, ...]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, **cells: str) -> None:
        """Append a row given by column name (others empty)."""
        unknown = set(cells) - set(self.header)
        assert not unknown, unknown
        self.rows.append([cells.get(column, "") for column in self.header])

    def column(self, name: str) -> list[str]:
        """Every row's cell in column `name`."""
        index = self.header.index(name)
        return [row[index] for row in self.rows]

    def text(self) -> str:
        """The file's content."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return out.getvalue()


District = dict[str, CsvTable]


def table(name: str) -> CsvTable:
    """An empty table with the 1.2 header of file `name` (without `.csv`)."""
    return CsvTable(HEADERS[name])


def district(
    *,
    schools: int = 2,
    teachers: int = 8,
    students: int = 240,
    guardians: int = 240,
    classes: int = 12,
    enrollments: int = 492,
    demographics: int = 0,
    seed: int = 7,
) -> District:
    """A district of the given size; the same arguments always give the same rows.

    `enrollments` counts one teacher per class plus the students' enrollments, spread evenly
    over the students, each in distinct classes of their own school.
    """
    rng = random.Random(seed)  # noqa: S311 - deterministic test data, not secrets
    files = {name: table(name) for name in HEADERS}
    school_ids = [f"org-s{s + 1:03d}" for s in range(schools)]
    files["orgs"].add(sourcedId="org-d", name="Riverbend District", type="district", identifier="RB")
    for s, school in enumerate(school_ids):
        files["orgs"].add(sourcedId=school, name=f"School {s + 1}", type="school", parentSourcedId="org-d")
    sessions = files["academicSessions"]
    sessions.add(
        sourcedId="year-2027",
        title="2026-27",
        type="schoolYear",
        startDate="2026-08-15",
        endDate="2027-06-15",
        schoolYear="2027",
    )
    for term, start, end in (("fall", "2026-08-15", "2026-12-20"), ("spring", "2027-01-05", "2027-06-15")):
        sessions.add(
            sourcedId=f"term-{term}",
            title=term.title(),
            type="term",
            startDate=start,
            endDate=end,
            parentSourcedId="year-2027",
            schoolYear="2027",
        )
    courses_per_school = max(1, classes // schools // 6)
    for c in range(courses_per_school * schools):
        subject, code = SUBJECTS[c // schools % len(SUBJECTS)]
        grade = GRADES[c // schools % len(GRADES)]
        files["courses"].add(
            sourcedId=f"crs-{c + 1:04d}",
            schoolYearSourcedId="year-2027",
            title=f"{subject} {grade}",
            courseCode=f"{code.upper()}{grade}",
            grades=grade,
            orgSourcedId=school_ids[c % schools],
            subjects=subject,
            subjectCodes=code,
        )
    class_ids = [f"cls-{k + 1:05d}" for k in range(classes)]
    classes_at: list[list[str]] = [[] for _ in school_ids]
    for k, class_id in enumerate(class_ids):
        s = k % schools
        c = s + schools * (k // schools % courses_per_school)
        subject, code = SUBJECTS[c // schools % len(SUBJECTS)]
        grade = GRADES[c // schools % len(GRADES)]
        classes_at[s].append(class_id)
        files["classes"].add(
            sourcedId=class_id,
            title=f"{subject} {grade} section {k + 1}",
            grades=grade,
            courseSourcedId=f"crs-{c + 1:04d}",
            classCode=f"{code.upper()}{grade}-{k + 1}",
            classType="homeroom" if k % 10 == 0 else "scheduled",
            location=f"Room {100 + k % 300}",
            schoolSourcedId=school_ids[s],
            termSourcedIds="term-fall,term-spring" if k % 3 == 0 else ("term-fall" if k % 3 == 1 else "term-spring"),
            subjects=subject,
            subjectCodes=code,
            periods=str(1 + k % 7),
        )
    users, roles = files["users"], files["roles"]

    def add_user(sourced_id: str, role: str, school: str, n: int, **cells: str) -> None:
        given, family = GIVEN[n % len(GIVEN)], FAMILY[(n * 7) % len(FAMILY)]
        users.add(
            sourcedId=sourced_id,
            enabledUser="true",
            username=sourced_id,
            userIds=f"{{SIS:{n}}}",
            givenName=given,
            familyName=family,
            identifier=str(n),
            email=f"{sourced_id}@riverbend.example",
            primaryOrgSourcedId=school,
            **cells,
        )
        roles.add(
            sourcedId=f"role-{sourced_id}",
            userSourcedId=sourced_id,
            roleType="primary",
            role=role,
            orgSourcedId=school,
        )

    teacher_ids = [f"tea-{t + 1:05d}" for t in range(teachers)]
    for t, teacher in enumerate(teacher_ids):
        add_user(teacher, "teacher", school_ids[t % schools], 100_000 + t)
    student_ids = [f"stu-{i + 1:06d}" for i in range(students)]
    guardian_of = {i: f"gua-{i + 1:06d}" for i in range(min(guardians, students))}
    for i, student in enumerate(student_ids):
        grade = GRADES[i % len(GRADES)]
        agents = guardian_of.get(i, "")
        add_user(student, "student", school_ids[i % schools], i, grades=grade, agentSourcedIds=agents)
    for i, guardian in guardian_of.items():
        add_user(guardian, "guardian", school_ids[i % schools], 500_000 + i, agentSourcedIds=student_ids[i])
    enrolled = files["enrollments"]
    number = 0

    def enroll(class_id: str, user_id: str, school: str, role: str, primary: str) -> None:
        nonlocal number
        number += 1
        enrolled.add(
            sourcedId=f"enr-{number:07d}",
            classSourcedId=class_id,
            schoolSourcedId=school,
            userSourcedId=user_id,
            role=role,
            primary=primary,
        )

    for k, class_id in enumerate(class_ids):
        s = k % schools
        teacher = teacher_ids[(k // schools * schools + s) % teachers] if teachers else ""
        if teacher:
            enroll(class_id, teacher, school_ids[s], "teacher", "true")
    student_enrollments = max(0, enrollments - number)
    for i, student in enumerate(student_ids):
        share = student_enrollments // students + (1 if i < student_enrollments % students else 0)
        options = classes_at[i % schools]
        for class_id in rng.sample(options, min(share, len(options))):
            enroll(class_id, student, school_ids[i % schools], "student", "false")
    for i, student in enumerate(student_ids[:demographics]):
        files["demographics"].add(
            sourcedId=student,
            birthDate=f"{2013 + i % 3}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            sex=("female", "male", "other", "unspecified")[i % 4],
            white="true" if i % 2 else "false",
            hispanicOrLatinoEthnicity="false",
        )
    return files


def delta(base: District, *, fraction: float = 0.01, seed: int = 11) -> District:
    """A delta of `base`: `fraction` of users renamed (with their roles), and of enrollments half dropped, half new."""
    rng = random.Random(seed)  # noqa: S311 - deterministic test data, not secrets
    files = {name: table(name) for name in ("users", "roles", "enrollments")}
    users = base["users"]
    changed = rng.sample(range(len(users.rows)), max(1, int(len(users.rows) * fraction)))
    index = {name: i for i, name in enumerate(users.header)}
    roles_by_user = {row[3]: row for row in base["roles"].rows}
    for n in sorted(changed):
        row = list(users.rows[n])
        row[index["status"]] = "active"
        row[index["dateLastModified"]] = CHANGED_AT
        row[index["familyName"]] = row[index["familyName"]] + "-Lee"
        row[index["email"]] = "new." + row[index["email"]]
        files["users"].rows.append(row)
        files["roles"].rows.append(list(roles_by_user[row[0]]))
    enrollments = base["enrollments"]
    dropped = rng.sample(range(len(enrollments.rows)), max(1, int(len(enrollments.rows) * fraction / 2)))
    for n in sorted(dropped):
        row = list(enrollments.rows[n])
        row[1], row[2] = "tobedeleted", CHANGED_AT
        files["enrollments"].rows.append(row)
    students = [row for row in enrollments.rows if row[6] == "student"]
    for n in range(len(dropped)):
        source = students[rng.randrange(len(students))]
        row = list(source)
        row[0], row[1], row[2] = f"enr-new-{n + 1:07d}", "active", CHANGED_AT
        files["enrollments"].rows.append(row)
    return files


def manifest(modes: dict[str, str], version: str = "1.2") -> str:
    """`manifest.csv` with `modes` by file name (files not named are `absent`)."""
    names = (*HEADERS, "userProfiles", "resources", "lineItems", "results", "categories")
    lines = ["propertyName,value", "manifest.version,1.0", f"oneroster.version,{version}"]
    lines += [f"file.{name},{modes.get(name, 'absent')}" for name in names]
    lines += ["source.systemName,csv_district", "source.systemCode,test"]
    return "\n".join(lines) + "\n"


def zip_files(files: dict[str, str | bytes]) -> bytes:
    """A zip holding `files` (name -> content) as given."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def roster_zip(
    tables: District, mode: str = "bulk", version: str = "1.2", modes: dict[str, str] | None = None
) -> bytes:
    """A OneRoster CSV zip of `tables`, each in `mode` unless `modes` says otherwise."""
    chosen = dict.fromkeys(tables, mode) | (modes or {})
    files: dict[str, str | bytes] = {"manifest.csv": manifest(chosen, version)}
    files.update({f"{name}.csv": t.text() for name, t in tables.items() if chosen.get(name) != "absent"})
    return zip_files(files)


def write_roster_zip(path: Path, tables: District, mode: str = "bulk") -> Path:
    """Write `roster_zip(tables, mode)` to `path` (streamed file by file, for large districts)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("manifest.csv", manifest(dict.fromkeys(tables, mode)))
        for name, t in tables.items():
            with archive.open(f"{name}.csv", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
                writer = csv.writer(text, lineterminator="\n")
                writer.writerow(t.header)
                writer.writerows(t.rows)
    return path
