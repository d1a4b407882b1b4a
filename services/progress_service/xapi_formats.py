"""Value formats of xAPI statements: IRIs, UUIDs, timestamps, durations, language tags, hashes.

Pure predicates and parsers on single values, shared by statement validation (`xapi_validation`) and
by what the LRS does with stored statements (`xapi_statements`). Where xAPI 1.0.3 and 2.0 (IEEE 9274.1.1)
differ, the function takes the `Version` the request is made under.
"""

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Literal

Version = Literal["1.0.3", "2.0.0"]
"""The xAPI version a request is made under (its X-Experience-API-Version header, reduced to these two)."""

# An absolute IRI (RFC 3987): a scheme, a colon and a non-empty rest without the characters an IRI never
# holds (controls, spaces, <>"{}|\^`). The spec allows best-effort IRI validation; this is syntax only.
_IRI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20\x7f-\x9f<>\"{}|\\^`\s\ud800-\udfff\ufffe\uffff]+\Z")
_BAD_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_MAILTO_RE = re.compile(
    r"(?i:mailto):[^\x00-\x20\x7f@<>()\[\]\\,;:\"\s]+@"
    r"(?:[^\x00-\x20\x7f@<>()\[\]\\,;:\"\s.]+\.)*[^\x00-\x20\x7f@<>()\[\]\\,;:\"\s.]+\Z"
)
_UUID_RE = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\Z")
_HEX_RE = re.compile(r"[0-9A-Fa-f]+\Z")
# SHA-224, SHA-256, SHA-384 and SHA-512 digests in hex (SHA-512/224 and /256 share the shorter lengths).
_SHA2_HEX_LENGTHS = frozenset({56, 64, 96, 128})
_MEDIA_TYPE_RE = re.compile(r"[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+(?:\s*;.*)?\Z", re.DOTALL)

# RFC 5646 well-formed language tag (section 2.1 ABNF), case-insensitive.
_LANGUAGE_TAG_RE = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"  # language with up to three extlangs
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)"
    r"(?P<extensions>(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*)"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?\Z"
    r"|x(?:-[a-z0-9]{1,8})+\Z",  # private use only
    re.IGNORECASE,
)
_GRANDFATHERED_TAGS = frozenset(
    tag.lower()
    for tag in (
        *("en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux", "i-mingo"),
        *("i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE", "art-lojban"),
        *("cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka", "zh-min", "zh-min-nan", "zh-xiang"),
    )
)
_LOOSE_LANGUAGE_RE = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\Z")

# ISO 8601:2004 4.4.3.2 durations: PnYnMnDTnHnMnS with any part left out, or PnW alone; only the
# lowest-order part given may carry a decimal fraction.
_NUM = r"\d+(?:[.,]\d+)?"
_DURATION_RE = re.compile(
    rf"P(?=[\dT])(?:({_NUM})Y)?(?:({_NUM})M)?(?:({_NUM})D)?(?:T(?=\d)(?:({_NUM})H)?(?:({_NUM})M)?(?:({_NUM})S)?)?\Z"
)
_WEEKS_RE = re.compile(rf"P{_NUM}W\Z")

# 1.0.3 asks for ISO 8601 (extended or basic format; RFC 3339 and a time zone are only SHOULD*), so the
# offset is optional. 2.0 turned those SHOULD*s into SHALLs: RFC 3339 `date-time`, offset required.
_OFFSET = r"(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)"
_ISO_EXTENDED_RE = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[Tt](?P<h>\d{2}):(?P<mi>\d{2})"
    rf"(?::(?P<s>\d{{2}})(?:[.,](?P<f>\d+))?)?{_OFFSET}?\Z"
)
_ISO_BASIC_RE = re.compile(
    r"(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})[Tt](?P<h>\d{2})(?P<mi>\d{2})"
    rf"(?:(?P<s>\d{{2}})(?:[.,](?P<f>\d+))?)?{_OFFSET}?\Z"
)
_RFC3339_RE = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[Tt ](?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d+))?"
    r"(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<oh>\d{2}):(?P<om>\d{2}))\Z"
)
_TIMESTAMP_RES: dict[Version | None, tuple[re.Pattern[str], ...]] = {
    "1.0.3": (_ISO_EXTENDED_RE, _ISO_BASIC_RE),
    "2.0.0": (_RFC3339_RE,),
    None: (_ISO_EXTENDED_RE, _RFC3339_RE, _ISO_BASIC_RE),
}

# 1.0.3 Data 2.4.10: a version starting "1.0." (the conformance suite also accepts "1.0"). A 2.0 LRS
# also takes 1.0.x statements (they stay valid 2.0 data) besides "2.0.0".
_VERSION_RES: dict[Version, re.Pattern[str]] = {
    "1.0.3": re.compile(r"1\.0(?:\.\d+)?\Z"),
    "2.0.0": re.compile(r"(?:1\.0(?:\.\d+)?|2\.0\.0)\Z"),
}
DEFAULT_STATEMENT_VERSION: dict[Version, str] = {"1.0.3": "1.0.0", "2.0.0": "2.0.0"}
"""The `version` an LRS sets on a statement that arrives without one."""


# Verb, activity and extension IRIs and language tags repeat across statements, so their checks are
# cached; only for short values, so that unique huge strings cannot fill memory.
_CACHED_LENGTH = 512


def is_iri(value: str) -> bool:
    """Whether `value` is an absolute IRI: a scheme, then IRI characters; non-ASCII allowed."""
    return _cached_is_iri(value) if len(value) <= _CACHED_LENGTH else _is_iri(value)


def _is_iri(value: str) -> bool:
    if not _IRI_RE.match(value) or value.count("#") > 1:
        return False
    return "%" not in value or not _BAD_PERCENT_RE.search(value)


_cached_is_iri = lru_cache(maxsize=8192)(_is_iri)


def is_irl(value: str) -> bool:
    """Whether `value` is an IRL; like IRIs these are checked for syntax only (the spec allows best effort)."""
    return is_iri(value)


def is_mailto_iri(value: str) -> bool:
    """Whether `value` is a `mailto:` IRI holding one e-mail address."""
    return _MAILTO_RE.match(value) is not None


def normalize_mbox(value: str) -> str:
    """The mbox with what the spec says is case-insensitive lowercased: the scheme and the e-mail domain."""
    local, _, domain = value[7:].rpartition("@")
    return f"mailto:{local}@{domain.lower()}"


def is_uuid(value: str) -> bool:
    """Whether `value` is a UUID in the standard 8-4-4-4-12 hex form (any version or variant, any case)."""
    return _UUID_RE.match(value) is not None


def is_sha1_hex(value: str) -> bool:
    """Whether `value` is a hex SHA-1 digest (40 hex digits), as mbox_sha1sum holds."""
    return len(value) == 40 and _HEX_RE.match(value) is not None


def is_sha2_hex(value: str) -> bool:
    """Whether `value` is a hex SHA-2 digest (224, 256, 384 or 512 bits), as an attachment's sha2 holds."""
    return len(value) in _SHA2_HEX_LENGTHS and _HEX_RE.match(value) is not None


def is_media_type(value: str) -> bool:
    """Whether `value` looks like an Internet Media Type (`type/subtype`, parameters allowed)."""
    return _MEDIA_TYPE_RE.match(value) is not None


def is_language_tag(value: str) -> bool:
    """Whether `value` is a well-formed RFC 5646 language tag (no registry lookup)."""
    return _cached_is_language_tag(value) if len(value) <= _CACHED_LENGTH else _is_language_tag(value)


def _is_language_tag(value: str) -> bool:
    match = _LANGUAGE_TAG_RE.match(value)
    if match is None:
        return value.lower() in _GRANDFATHERED_TAGS
    # RFC 5646 2.2.5/2.2.6: a variant or an extension singleton does not appear twice.
    variants = (match.group("variants") or "").lower().split("-")[1:]
    if len(set(variants)) != len(variants):
        return False
    singletons = [part for part in (match.group("extensions") or "").lower().split("-") if len(part) == 1]
    return len(set(singletons)) == len(singletons)


_cached_is_language_tag = lru_cache(maxsize=4096)(_is_language_tag)


def is_language_tag_like(value: str) -> bool:
    """Whether `value` is hyphen-separated alphanumeric subtags, the loose check context.language gets.

    The conformance suite (XAPI-00013) requires a 50-letter context.language to be accepted, so only
    language map keys get the strict RFC 5646 check.
    """
    return _LOOSE_LANGUAGE_RE.match(value) is not None


def is_duration(value: str) -> bool:
    """Whether `value` is an ISO 8601:2004 duration in the 4.4.3.2 format (PnYnMnDTnHnMnS or PnW)."""
    match = _DURATION_RE.match(value)
    if match is None:
        return _WEEKS_RE.match(value) is not None
    if "." not in value and "," not in value:
        return True
    given = [part for part in match.groups() if part is not None]
    return not any("." in part or "," in part for part in given[:-1])


def normalize_duration(value: str) -> str:
    """The duration with seconds cut to 0.01 s and trailing fraction zeros dropped, for comparison."""
    if not value.endswith("S"):
        return value
    head, sep, fraction = value[:-1].replace(",", ".").rpartition(".")
    if not sep or not fraction.isdigit():
        return value
    fraction = fraction[:2].rstrip("0")
    return f"{head}.{fraction}S" if fraction else f"{head}S"


def is_version(value: str, version: Version) -> bool:
    """Whether a statement's `version` property is acceptable to an LRS serving `version`."""
    return _VERSION_RES[version].match(value) is not None


def _parse(text: str, version: Version | None) -> datetime | None:
    for pattern in _TIMESTAMP_RES[version]:
        match = pattern.match(text)
        if match is not None:
            return _to_datetime(text, match)
    return None


def _to_datetime(text: str, match: re.Match[str]) -> datetime | None:
    sign, offset_minutes = match.group("sign"), match.group("om")
    if sign == "-" and match.group("oh") == "00" and offset_minutes in (None, "00"):
        # ISO 8601 forbids a negative zero offset (RFC 3339 gives it a special meaning); the
        # conformance suite rejects -00, -0000 and -00:00.
        return None
    if match.group("s") != "60" and "," not in text:
        # The regex vouches for the shape, so the C parser can do the arithmetic and calendar checks.
        try:
            moment = datetime.fromisoformat(text if text[-1] != "z" else text[:-1] + "Z")
        except ValueError:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return _to_datetime_slow(match)


def _to_datetime_slow(match: re.Match[str]) -> datetime | None:
    """Leap seconds and comma fractions, which datetime.fromisoformat does not read."""
    tz = UTC
    if match.group("sign") is not None:
        delta = timedelta(hours=int(match.group("oh")), minutes=int(match.group("om") or 0))
        tz = timezone(-delta if match.group("sign") == "-" else delta)
    seconds = int(match.group("s") or 0)
    fraction = match.group("f")
    try:
        # A leap second (:60) is read as the first instant of the next minute.
        moment = datetime(
            int(match.group("y")),
            int(match.group("mo")),
            int(match.group("d")),
            int(match.group("h")),
            int(match.group("mi")),
            min(seconds, 59),
            int(fraction[:6].ljust(6, "0")) if fraction else 0,
            tzinfo=tz,
        )
    except ValueError:
        return None
    if seconds == 60:
        moment += timedelta(seconds=1)
    return moment.astimezone(UTC)


def is_timestamp(value: str, version: Version) -> bool:
    """Whether `value` is a timestamp `version` accepts: 1.0.3 any ISO 8601 date-time, 2.0 RFC 3339 with offset."""
    return _parse(value, version) is not None


def parse_timestamp(text: str, version: Version | None = None) -> datetime:
    """The instant `text` names, as an aware UTC datetime; no offset means UTC. ValueError when malformed.

    Without `version` whatever either version accepts is read (for `since`/`until` and stored values).
    """
    moment = _parse(text, version)
    if moment is None:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    return moment


def format_timestamp(moment: datetime) -> str:
    """`moment` the way the LRS returns timestamps: UTC with `Z`, e.g. 2024-05-01T10:00:00.120Z."""
    moment = moment.astimezone(UTC).replace(tzinfo=None)
    # Milliseconds like `stored`, unless the value has finer precision, which is kept.
    return moment.isoformat(timespec="milliseconds" if moment.microsecond % 1000 == 0 else "microseconds") + "Z"


def normalize_timestamp(text: str) -> str:
    """A valid timestamp re-expressed in UTC as `format_timestamp` writes it."""
    return format_timestamp(parse_timestamp(text))
