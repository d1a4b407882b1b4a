"""Reading OneRoster CSV zips (1.2, and 1.1's users): the manifest, each file's header, rows as roster records.

Pure: stdlib `zipfile`/`csv` and the write models, no database. `open_roster` refuses a zip that
is not an importable OneRoster CSV set (`RosterFileError`) before anything is written; then
`RosterZip.read(kind)` turns each row into the JSON binding, validates it with the same model as
the REST writes (`WRITE_MODELS`) and yields a `RosterRecord` (origin `users.csv:12`) or a
`RejectedRow` with its `RowError`s. Users take their roles from `roles.csv` (1.2) or from the
`role` and `orgSourcedIds` columns of a 1.1 `users.csv`.
"""

import csv
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from kit.identifiers import SOURCED_ID
from services.profile_service.oneroster_kinds import DEMOGRAPHIC_FIELDS
from services.profile_service.oneroster_schemas import WRITE_MODELS
from services.profile_service.roster_store import RosterRecord

MODES = frozenset({"bulk", "delta", "absent"})
VERSIONS = ("1.1", "1.2")
MANIFEST = "manifest.csv"
MAX_UNCOMPRESSED_BYTES = 8 << 30
"""Refused above this (the files' sizes as the zip declares them): rows are streamed, but not forever."""
_COMMON = ("sourcedId", "status", "dateLastModified")
_SOURCED_ID = re.compile(SOURCED_ID)
_USER_ID = re.compile(r"\{([^{}:]+):([^{}]*)\}")


class RosterFileError(Exception):
    """The upload is not an importable OneRoster CSV zip; nothing was written."""


@dataclass(frozen=True)
class RowError:
    """One problem with one row: where it is, which column, and why."""

    file: str
    line: int
    field: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        """As reported in an import job."""
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported, with its problems (a user's may point into `roles.csv`)."""

    file: str
    line: int
    sourced_id: str | None
    errors: tuple[RowError, ...]


@dataclass(frozen=True)
class CsvFile:
    """One CSV file of the binding: its columns, and the kind its rows become."""

    name: str
    kind: str | None
    required: tuple[str, ...]
    optional: tuple[str, ...]
    columns_of_fields: Mapping[str, str] = field(default_factory=dict)
    """JSON field -> the CSV column it comes from, where the names differ (for error reports)."""

    @property
    def filename(self) -> str:
        """The file's name inside the zip."""
        return f"{self.name}.csv"


def _file(name: str, kind: str | None, required: str, optional: str, **columns_of_fields: str) -> CsvFile:
    return CsvFile(name, kind, tuple(required.split()), tuple(optional.split()), columns_of_fields)


FILES: dict[str, CsvFile] = {
    f.name: f
    for f in (
        _file("orgs", "org", "sourcedId name type", "identifier parentSourcedId", parent="parentSourcedId"),
        _file(
            "academicSessions",
            "academicSession",
            "sourcedId title type startDate endDate schoolYear",
            "parentSourcedId",
            parent="parentSourcedId",
        ),
        _file(
            "courses",
            "course",
            "sourcedId title orgSourcedId",
            "schoolYearSourcedId courseCode grades subjects subjectCodes",
            org="orgSourcedId",
            schoolYear="schoolYearSourcedId",
        ),
        _file(
            "classes",
            "class",
            "sourcedId title courseSourcedId classType schoolSourcedId termSourcedIds",
            "grades classCode location subjects subjectCodes periods",
            course="courseSourcedId",
            school="schoolSourcedId",
            terms="termSourcedIds",
        ),
        _file(
            "users",
            "user",
            "sourcedId enabledUser givenName familyName",
            "username userIds middleName identifier email sms phone agentSourcedIds grades password "
            "userMasterIdentifier resourceSourcedIds preferredGivenName preferredMiddleName preferredFamilyName "
            "primaryOrgSourcedId pronouns "
            "orgSourcedIds role",  # OneRoster 1.1's users carry their role and orgs
            agents="agentSourcedIds",
            primaryOrg="primaryOrgSourcedId",
            preferredFirstName="preferredGivenName",
            preferredLastName="preferredFamilyName",
            roles="role",
            **{"roles.org": "orgSourcedId"},
        ),
        _file(
            "roles",
            None,
            "sourcedId userSourcedId roleType role orgSourcedId",
            "beginDate endDate userProfileSourcedId",
        ),
        _file(
            "enrollments",
            "enrollment",
            "sourcedId classSourcedId userSourcedId role",
            "schoolSourcedId primary beginDate endDate",
            **{"class": "classSourcedId", "user": "userSourcedId", "school": "schoolSourcedId"},
        ),
        _file("demographics", "demographics", "sourcedId", " ".join(DEMOGRAPHIC_FIELDS)),
    )
}
"""The files we import, by name (without `.csv`); any other file a manifest lists is reported as not imported."""

FILE_OF_KIND = {f.kind: f for f in FILES.values() if f.kind is not None}
_USERS_1_1 = ("role", "orgSourcedIds", "username")


@dataclass(frozen=True)
class Manifest:
    """What `manifest.csv` says: the OneRoster version and each file's mode."""

    version: str
    modes: dict[str, str]
    """`bulk` | `delta` | `absent`, by file name (without `.csv`), for the files we import."""
    not_imported: tuple[str, ...]
    """Files present in the manifest (as bulk or delta) that we do not import."""


def _decode(raw: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def parse_manifest(text: Iterator[str] | io.TextIOWrapper) -> Manifest:
    """The manifest from `manifest.csv`'s lines; raises `RosterFileError` when it is not a OneRoster manifest."""
    reader = csv.reader(text)
    header = [h.strip() for h in next(reader, [])]
    if header[:2] != ["propertyName", "value"]:
        raise RosterFileError("manifest.csv must start with the header propertyName,value.")
    properties: dict[str, str] = {}
    for row in reader:
        if row and row[0].strip():
            properties[row[0].strip()] = row[1].strip() if len(row) > 1 else ""
    version = properties.get("oneroster.version", "")
    if not any(version == v or version.startswith(v + ".") for v in VERSIONS):
        found = repr(version) if version else "missing"
        raise RosterFileError(f"manifest.csv: oneroster.version is {found}; OneRoster 1.2 (or 1.1) CSV is expected.")
    if "manifest.version" not in properties:
        raise RosterFileError("manifest.csv: manifest.version is missing.")
    modes: dict[str, str] = {}
    not_imported = []
    for key, value in properties.items():
        if not key.startswith("file."):
            continue
        name = key.removeprefix("file.")
        if value not in MODES:
            raise RosterFileError(f"manifest.csv: {key} is {value!r}; use bulk, delta or absent.")
        if name in FILES:
            modes[name] = value
        elif value != "absent":
            not_imported.append(f"{name}.csv")
    for name in FILES:
        modes.setdefault(name, "absent")
    return Manifest(version=version[:3], modes=modes, not_imported=tuple(sorted(not_imported)))


def check_header(spec: CsvFile, header: list[str], version: str, *, has_roles_file: bool) -> None:
    """Raise `RosterFileError` unless `header` holds `spec`'s required columns and only known ones."""
    where = spec.filename
    if not header or header == [""]:
        raise RosterFileError(f"{where} is empty: it needs a header line.")
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise RosterFileError(f"{where}: column(s) {', '.join(repeated)} appear more than once.")
    known = {*_COMMON, *spec.required, *spec.optional}
    unknown = [h for h in header if h not in known and not h.startswith("metadata.")]
    if unknown:
        raise RosterFileError(f"{where}: unknown column(s) {', '.join(unknown)}.")
    required = list(spec.required)
    if spec.name == "users" and version == "1.1":
        required.extend(_USERS_1_1)
    missing = [c for c in required if c not in header]
    if missing:
        raise RosterFileError(f"{where}: missing required column(s) {', '.join(missing)}.")
    if spec.name == "users" and not has_roles_file and not {"role", "orgSourcedIds"} <= set(header):
        raise RosterFileError(
            "users.csv: users need roles: send roles.csv (OneRoster 1.2) or role and orgSourcedIds columns."
        )


# --- row -> JSON binding --------------------------------------------------------------------

Row = dict[str, str]
_EXTRA = "\x00extra"
"""Where `RosterZip.rows` notes cells beyond the header's columns (no CSV column can be named so)."""


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()] if value else []


def _ref(value: str | None) -> dict[str, str] | None:
    return {"sourcedId": value} if value else None


def _refs(value: str | None) -> list[dict[str, str]]:
    return [{"sourcedId": v} for v in _split(value)]


class _CellError(ValueError):
    """A cell that cannot be turned into the JSON binding (before the model sees it)."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column


def _user_ids(value: str | None) -> list[dict[str, str]]:
    """`{LDAP:123},{SIS:456}` as `[{type, identifier}]`."""
    if not value:
        return []
    pairs = _USER_ID.findall(value)
    if _USER_ID.sub("", value).replace(",", "").strip():
        raise _CellError("userIds", "expected {type:identifier} pairs separated by commas, e.g. {LDAP:123},{SIS:456}")
    return [{"type": kind.strip(), "identifier": identifier.strip()} for kind, identifier in pairs]


def _org(row: Row) -> dict[str, Any]:
    return {
        "name": row.get("name"),
        "type": row.get("type"),
        "identifier": row.get("identifier"),
        "parent": _ref(row.get("parentSourcedId")),
    }


def _academic_session(row: Row) -> dict[str, Any]:
    return {
        "title": row.get("title"),
        "type": row.get("type"),
        "startDate": row.get("startDate"),
        "endDate": row.get("endDate"),
        "parent": _ref(row.get("parentSourcedId")),
        "schoolYear": row.get("schoolYear"),
    }


def _course(row: Row) -> dict[str, Any]:
    return {
        "title": row.get("title"),
        "schoolYear": _ref(row.get("schoolYearSourcedId")),
        "courseCode": row.get("courseCode"),
        "grades": _split(row.get("grades")),
        "org": _ref(row.get("orgSourcedId")),
        "subjects": _split(row.get("subjects")),
        "subjectCodes": _split(row.get("subjectCodes")),
    }


def _class(row: Row) -> dict[str, Any]:
    return {
        "title": row.get("title"),
        "grades": _split(row.get("grades")),
        "course": _ref(row.get("courseSourcedId")),
        "classCode": row.get("classCode"),
        "classType": row.get("classType"),
        "location": row.get("location"),
        "school": _ref(row.get("schoolSourcedId")),
        "terms": _refs(row.get("termSourcedIds")),
        "subjects": _split(row.get("subjects")),
        "subjectCodes": _split(row.get("subjectCodes")),
        "periods": _split(row.get("periods")),
    }


def _user(row: Row) -> dict[str, Any]:
    return {
        "enabledUser": row.get("enabledUser"),
        "username": row.get("username"),
        "userIds": _user_ids(row.get("userIds")),
        "givenName": row.get("givenName"),
        "familyName": row.get("familyName"),
        "middleName": row.get("middleName"),
        "identifier": row.get("identifier"),
        "email": row.get("email"),
        "sms": row.get("sms"),
        "phone": row.get("phone"),
        "agents": _refs(row.get("agentSourcedIds")),
        "grades": _split(row.get("grades")),
        "userMasterIdentifier": row.get("userMasterIdentifier"),
        "preferredFirstName": row.get("preferredGivenName"),
        "preferredMiddleName": row.get("preferredMiddleName"),
        "preferredLastName": row.get("preferredFamilyName"),
        "primaryOrg": _ref(row.get("primaryOrgSourcedId")),
        "pronouns": row.get("pronouns"),
    }


def _enrollment(row: Row) -> dict[str, Any]:
    return {
        "class": _ref(row.get("classSourcedId")),
        "school": _ref(row.get("schoolSourcedId")),
        "user": _ref(row.get("userSourcedId")),
        "role": row.get("role"),
        "primary": row.get("primary"),
        "beginDate": row.get("beginDate"),
        "endDate": row.get("endDate"),
    }


def _demographics(row: Row) -> dict[str, Any]:
    return {column: row.get(column) for column in FILES["demographics"].optional}


def _role(row: Row) -> dict[str, Any]:
    return {
        "roleType": row.get("roleType"),
        "role": row.get("role"),
        "org": _ref(row.get("orgSourcedId")),
        "userProfile": row.get("userProfileSourcedId"),
        "beginDate": row.get("beginDate"),
        "endDate": row.get("endDate"),
    }


_CONVERTERS: dict[str, Callable[[Row], dict[str, Any]]] = {
    "org": _org,
    "academicSession": _academic_session,
    "course": _course,
    "class": _class,
    "user": _user,
    "enrollment": _enrollment,
    "demographics": _demographics,
}
_ROLE_FIELDS = {"org": "orgSourcedId", "userProfile": "userProfileSourcedId"}


def csv_column(kind: str, json_field: str) -> str:
    """The CSV column a JSON field (or a reference's wire name) of `kind` comes from."""
    spec = FILE_OF_KIND[kind]
    return spec.columns_of_fields.get(json_field, json_field)


@dataclass(frozen=True)
class RoleRow:
    """One role of a user and where it was read (a `roles.csv` row, or a 1.1 `users.csv` row)."""

    file: str
    line: int
    role: dict[str, Any]


def _metadata(row: Row, columns: Sequence[str] | None) -> dict[str, str] | None:
    """The row's `metadata.*` cells (among `columns`, when the header's are known) without the prefix."""
    keys = [key for key in row if key.startswith("metadata.")] if columns is None else columns
    found = {key.removeprefix("metadata."): row[key] for key in keys if key in row}
    return found or None


def _body(kind: str, row: Row, roles: list[RoleRow] | None, metadata: Sequence[str] | None) -> dict[str, Any]:
    """`row` as the JSON binding of `kind` (absent values left out, so the model reports them)."""
    body = {"sourcedId": row.get("sourcedId"), "status": row.get("status"), **_CONVERTERS[kind](row)}
    if metadata is None or metadata:
        body["metadata"] = _metadata(row, metadata)
    if roles is not None:
        body["roles"] = [r.role for r in roles]
    return {key: value for key, value in body.items() if value is not None}


def _located(spec: CsvFile, line: int, loc: tuple[Any, ...], roles: list[RoleRow] | None) -> tuple[str, int, str]:
    """The file, line and column a validation error's `loc` points at."""
    head = str(loc[0]) if loc else "row"
    if head == "roles" and roles and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(roles):
        origin = roles[loc[1]]
        inner = str(loc[2]) if len(loc) > 2 else "role"
        if origin.file == spec.filename:  # a 1.1 users.csv row
            return origin.file, origin.line, "orgSourcedIds" if inner == "org" else "role"
        return origin.file, origin.line, _ROLE_FIELDS.get(inner, inner)
    if head == "roles":
        return spec.filename, line, "role" if roles is None else "roles.csv"
    return spec.filename, line, spec.columns_of_fields.get(head, head)


def parse_row(
    kind: str, row: Row, line: int, roles: list[RoleRow] | None = None, metadata: Sequence[str] | None = None
) -> RosterRecord | RejectedRow:
    """One CSV row (empty cells left out) as a validated record, or the reasons it is not one.

    A row marked `tobedeleted` only needs a valid `sourcedId`: it becomes a record with no values.
    `metadata` names the header's `metadata.*` columns (found in the row when not given).
    """
    spec = FILE_OF_KIND[kind]
    sourced_id = row.get("sourcedId")
    origin = f"{spec.filename}:{line}"
    if row.get("status") == "tobedeleted":
        if sourced_id and _SOURCED_ID.match(sourced_id):
            return RosterRecord(kind, sourced_id, {}, status="tobedeleted", origin=origin)
        reason = "a sourcedId is required" if not sourced_id else "not a valid sourcedId"
        return RejectedRow(spec.filename, line, sourced_id, (RowError(spec.filename, line, "sourcedId", reason),))
    try:
        record = WRITE_MODELS[kind].model_validate(_body(kind, row, roles, metadata)).to_record()
    except _CellError as exc:
        return RejectedRow(spec.filename, line, sourced_id, (RowError(spec.filename, line, exc.column, str(exc)),))
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            file, at, column = _located(spec, line, tuple(error["loc"]), roles)
            reason = "a value is required" if error["type"] == "missing" else error["msg"]
            errors.append(RowError(file, at, column, reason))
        return RejectedRow(spec.filename, line, sourced_id, tuple(errors))
    record.origin = origin
    return record


def roles_of_1_1_user(row: Row, line: int) -> list[RoleRow]:
    """A 1.1 users.csv row's `role` at each of its `orgSourcedIds` (primary at the first, secondary after)."""
    role = row.get("role")
    if not role:
        return []
    orgs = _split(row.get("orgSourcedIds")) or [""]
    return [
        RoleRow(
            FILES["users"].filename,
            line,
            {"roleType": "primary" if i == 0 else "secondary", "role": role, **({"org": _ref(org)} if org else {})},
        )
        for i, org in enumerate(orgs)
    ]


# --- the zip --------------------------------------------------------------------------------


class RosterZip:
    """An opened OneRoster CSV zip whose manifest and headers have been checked."""

    def __init__(
        self, archive: zipfile.ZipFile, prefix: str, manifest: Manifest, headers: dict[str, list[str]]
    ) -> None:
        self.archive = archive
        self.prefix = prefix
        self.manifest = manifest
        self.headers = headers

    def close(self) -> None:
        """Close the zip file."""
        self.archive.close()

    def __enter__(self) -> "RosterZip":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def mode(self, name: str) -> str:
        """`bulk`, `delta` or `absent` for the file `name` (without `.csv`)."""
        return self.manifest.modes[name]

    def _open(self, name: str) -> io.TextIOWrapper:
        return _decode(self.archive.open(self.prefix + FILES[name].filename))

    def count_rows(self, name: str) -> int:
        """About how many data rows the file holds (its line count, minus the header)."""
        if self.mode(name) == "absent":
            return 0
        lines = 0
        last = b"\n"
        with self.archive.open(self.prefix + FILES[name].filename) as raw:
            while chunk := raw.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        return max(lines + (last != b"\n") - 1, 0)

    def rows(self, name: str) -> Iterator[tuple[int, Row]]:
        """The file's data rows as (first line, row without its empty cells; extra cells counted under `_EXTRA`)."""
        with self._open(name) as text:
            reader = csv.reader(text)
            header = [h.strip() for h in next(reader, [])]
            width = len(header)
            previous = reader.line_num
            try:
                for values in reader:
                    line, previous = previous + 1, reader.line_num
                    row = {h: v.strip() for h, v in zip(header, values, strict=False) if v}
                    if "" in row.values():  # cells holding only spaces are empty too
                        row = {h: v for h, v in row.items() if v}
                    if len(values) > width and any(v.strip() for v in values[width:]):
                        row[_EXTRA] = str(len(values) - width)
                    if row:
                        yield line, row
            except UnicodeDecodeError as exc:
                raise RosterFileError(
                    f"{FILES[name].filename} is not UTF-8 text (after line {reader.line_num})."
                ) from exc
            except csv.Error as exc:
                raise RosterFileError(f"{FILES[name].filename}, line {reader.line_num}: {exc}.") from exc

    def read_roles(self) -> tuple[dict[str, list[RoleRow]], list[RejectedRow]]:
        """The active rows of `roles.csv` by `userSourcedId`, and the rows that cannot be used."""
        by_user: dict[str, list[RoleRow]] = defaultdict(list)
        rejected: list[RejectedRow] = []
        if self.mode("roles") == "absent":
            return by_user, rejected
        filename = FILES["roles"].filename
        for line, row in self.rows("roles"):
            if _EXTRA in row:
                rejected.append(_too_long(filename, line, row))
                continue
            if row.get("status") == "tobedeleted":
                continue
            user = row.get("userSourcedId")
            if not user:
                error = RowError(filename, line, "userSourcedId", "a value is required")
                rejected.append(RejectedRow(filename, line, row.get("sourcedId"), (error,)))
                continue
            by_user[user].append(RoleRow(filename, line, {k: v for k, v in _role(row).items() if v is not None}))
        return by_user, rejected

    def read(self, kind: str) -> Iterator[RosterRecord | RejectedRow]:
        """Every row of `kind`'s file as a record or a rejected row (users with their roles)."""
        spec = FILE_OF_KIND[kind]
        if self.mode(spec.name) == "absent":
            return
        metadata = tuple(h for h in self.headers[spec.name] if h.startswith("metadata."))
        roles_by_user: dict[str, list[RoleRow]] = {}
        if kind == "user":
            roles_by_user, rejected_roles = self.read_roles()
            yield from rejected_roles
        for line, row in self.rows(spec.name):
            if _EXTRA in row:
                yield _too_long(spec.filename, line, row)
                continue
            roles = None
            if kind == "user":
                roles = roles_by_user.pop(row.get("sourcedId", ""), None) or roles_of_1_1_user(row, line)
                if not roles and row.get("status") != "tobedeleted":
                    reason = "the user has no role: give it rows in roles.csv (or role and orgSourcedIds)"
                    error = RowError(spec.filename, line, "roles", reason)
                    yield RejectedRow(spec.filename, line, row.get("sourcedId"), (error,))
                    continue
            yield parse_row(kind, row, line, roles, metadata)
        for user, orphans in roles_by_user.items():
            for role in orphans:
                error = RowError(role.file, role.line, "userSourcedId", f"no row for user {user!r} in users.csv")
                yield RejectedRow(role.file, role.line, None, (error,))


def _too_long(filename: str, line: int, row: Row) -> RejectedRow:
    reason = f"{row[_EXTRA]} more value(s) than the header has columns"
    return RejectedRow(filename, line, row.get("sourcedId"), (RowError(filename, line, "row", reason),))


def _find_prefix(archive: zipfile.ZipFile) -> str:
    names = archive.namelist()
    if MANIFEST in names:
        return ""
    nested = [n for n in names if n.endswith("/" + MANIFEST) and not n.startswith("__MACOSX/")]
    if len(nested) == 1:
        return nested[0].removesuffix(MANIFEST)
    raise RosterFileError("The zip has no manifest.csv: it is not a OneRoster CSV set.")


def open_roster(source: Path | bytes) -> RosterZip:
    """Open and check a OneRoster CSV zip (manifest, files, headers); raises `RosterFileError`, reading no rows."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RosterFileError("The upload is not a zip file: send a OneRoster CSV zip.") from exc
    try:
        if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
            raise RosterFileError(f"The zip holds over {MAX_UNCOMPRESSED_BYTES >> 30} GB of files once uncompressed.")
        prefix = _find_prefix(archive)
        with _decode(archive.open(prefix + MANIFEST)) as text:
            manifest = parse_manifest(text)
        names = set(archive.namelist())
        headers: dict[str, list[str]] = {}
        for name, spec in FILES.items():
            if manifest.modes[name] == "absent":
                continue
            if prefix + spec.filename not in names:
                raise RosterFileError(
                    f"manifest.csv marks {spec.filename} {manifest.modes[name]}, but the zip has no such file."
                )
            try:
                with _decode(archive.open(prefix + spec.filename)) as text:
                    headers[name] = [h.strip() for h in next(csv.reader(text), [])]
            except UnicodeDecodeError as exc:
                raise RosterFileError(f"{spec.filename} is not UTF-8 text.") from exc
        if manifest.modes["roles"] != "absent" and manifest.modes["users"] == "absent":
            raise RosterFileError("roles.csv is only read with users.csv: the manifest marks users absent.")
        for name, header in headers.items():
            check_header(FILES[name], header, manifest.version, has_roles_file=manifest.modes["roles"] != "absent")
    except RosterFileError:
        archive.close()
        raise
    except (UnicodeDecodeError, csv.Error, zipfile.BadZipFile, OSError, EOFError) as exc:
        archive.close()
        raise RosterFileError(f"The zip cannot be read: {exc}.") from exc
    return RosterZip(archive, prefix, manifest, headers)
