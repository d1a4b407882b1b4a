"""xAPI value formats: IRIs, mailto, UUIDs, hashes, language tags, durations, versions and timestamps."""

from datetime import UTC, datetime

import pytest

from services.progress_service.xapi_formats import (
    Version,
    format_timestamp,
    is_duration,
    is_iri,
    is_irl,
    is_language_tag,
    is_language_tag_like,
    is_mailto_iri,
    is_media_type,
    is_sha1_hex,
    is_sha2_hex,
    is_timestamp,
    is_uuid,
    is_version,
    normalize_duration,
    normalize_mbox,
    normalize_timestamp,
    parse_timestamp,
)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("http://example.com/xapi/verbs#defenestrated", True),
        ("https://plp.dev/activities/q1?attempt=2", True),
        ("urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0", True),
        ("tag:adlnet.gov,2013:expapi:0.9:activities:x", True),
        ("http://example.com/فعل/خواندن", True),  # IRIs allow non-ASCII
        ("http://example.com/a%20b", True),
        ("", False),
        ("abc", False),
        ("should error", False),
        ("ab=c://should.fail.com", False),  # '=' is not a scheme character
        ("/relative/path", False),
        ("//example.com/no-scheme", False),
        ("1http://example.com", False),
        ("http://example.com/a b", False),
        ("http://example.com/<a>", False),
        ("http://example.com/%zz", False),
        ("http://example.com/#a#b", False),
        ("http:", False),
    ],
)
def test_iri(value: str, valid: bool) -> None:
    assert is_iri(value) is valid
    assert is_irl(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("mailto:xapi@adlnet.gov", True),
        ("MAILTO:Ada.Lovelace+x@Example.ORG", True),
        ("mailto:ada@localhost", True),
        ("xapi@adlnet.gov", False),
        ("mailto:", False),
        ("mailto:adlnet.gov", False),
        ("mailto:a@b@c.org", False),
        ("mailto:a b@c.org", False),
        ("mailto:a@b.", False),
        ("http://adlnet.gov", False),
    ],
)
def test_mailto_iri(value: str, valid: bool) -> None:
    assert is_mailto_iri(value) is valid


def test_normalize_mbox_lowercases_scheme_and_domain_only() -> None:
    assert normalize_mbox("MAILTO:Ada.Lovelace@Example.ORG") == "mailto:Ada.Lovelace@example.org"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("fd41c918-b88b-4b20-a0a5-a4c32391aaa0", True),
        ("FD41C918-B88B-4B20-A0A5-A4C32391AAA0", True),
        ("00000000-0000-0000-0000-000000000000", True),  # any version or variant
        ("6fa459ea-ee8a-11e3-ac10-0800200c9a66", True),  # version 1
        ("AA97B177-9383-4934-8543-0F91A7A028368", False),  # too many digits
        ("MA97B177-9383-4934-8543-0F91A7A02836", False),  # not hex
        ("fd41c918b88b4b20a0a5a4c32391aaa0", False),
        ("{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}", False),
        ("", False),
    ],
)
def test_uuid(value: str, valid: bool) -> None:
    assert is_uuid(value) is valid


@pytest.mark.parametrize(
    ("value", "sha1", "sha2"),
    [
        ("ebd31e95054c018b10727ccffd2ef2ec3a016ee9", True, False),
        ("EBD31E95054C018B10727CCFFD2EF2EC3A016EE9", True, False),
        ("ebd31e95054c018b10727ccffd2ef2ec3a016ee", False, False),
        ("zbd31e95054c018b10727ccffd2ef2ec3a016ee9", False, False),
        ("495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a", False, True),  # SHA-256
        ("a" * 56, False, True),  # SHA-224
        ("b" * 96, False, True),  # SHA-384
        ("c" * 128, False, True),  # SHA-512
        ("d" * 63, False, False),
        ("g" * 64, False, False),
    ],
)
def test_hashes(value: str, sha1: bool, sha2: bool) -> None:
    assert is_sha1_hex(value) is sha1
    assert is_sha2_hex(value) is sha2


@pytest.mark.parametrize(
    "tag",
    [
        "de",
        "en-US",
        "EN-us",
        "ine",
        "i-enochian",
        "en-GB-oed",
        "zh-Hant",
        "sr-Latn",
        "zh-cmn-Hans-CN",
        "sr-Latn-RS",
        "sl-rozaj-biske",
        "de-CH-1901",
        "hy-Latn-IT-arevela",
        "es-419",
        "az-Arab-x-AZE-derbend",
        "x-whatever",
        "en-a-bbb-x-a-ccc",
        "tlh",
    ],
)
def test_well_formed_language_tags(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "de-419-DE",  # two regions
        "a-DE",  # single-character primary subtag
        "ar-a-aaa-b-bbb-a-ccc",  # the same extension singleton twice
        "de-DE-1901-1901",  # the same variant twice
        "a12345",
        "en_US",
        "en--US",
        "en-",
        "toolongprimary",
        "x",
    ],
)
def test_malformed_language_tags(tag: str) -> None:
    assert not is_language_tag(tag)


def test_loose_language_check_for_context_language() -> None:
    # The conformance suite requires a 50-letter context.language to be accepted.
    assert is_language_tag_like("supercalifragilisticexpialidociouswhatabouthhhhhhh")
    assert is_language_tag_like("en-US")
    assert not is_language_tag_like("en_US")
    assert not is_language_tag_like("")
    assert not is_language_tag_like("en US")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("PT1H0M0.1S", True),
        ("PT4H35M59.14S", True),
        ("PT16559.14S", True),
        ("P3Y1M29DT4H35M59.14S", True),
        ("P3Y", True),
        ("P4W", True),
        ("P1DT12H", True),
        ("PT0S", True),
        ("P0,5Y", True),  # ISO 8601 allows a comma as decimal sign
        ("PA1H0M0S", False),
        ("P4W1D", False),  # weeks do not combine with other parts
        ("P1Y2W", False),
        ("P", False),
        ("PT", False),
        ("P1DT", False),
        ("PT1.5H30M", False),  # only the lowest-order part may have a fraction
        ("P16559.14S", False),  # seconds need the T designator
        ("1H", False),
        ("PT-1S", False),
        ("P2004-01-01T00:00:00", False),  # the alternative format is not allowed
        ("", False),
    ],
)
def test_duration(value: str, valid: bool) -> None:
    assert is_duration(value) is valid


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("PT1.2345S", "PT1.23S"),
        ("PT1.20S", "PT1.2S"),
        ("PT1.00S", "PT1S"),
        ("PT1,5S", "PT1.5S"),
        ("PT10S", "PT10S"),
        ("P1Y", "P1Y"),
        ("P4W", "P4W"),
    ],
)
def test_normalize_duration_cuts_beyond_hundredths(value: str, normalized: str) -> None:
    assert normalize_duration(value) == normalized


@pytest.mark.parametrize(
    ("value", "ok_1_0_3", "ok_2_0"),
    [
        ("1.0", True, True),
        ("1.0.0", True, True),
        ("1.0.9", True, True),
        ("2.0.0", False, True),
        ("2.0", False, False),
        ("1.1.0", False, False),
        ("0.9.9", False, False),
        ("should fail", False, False),
        ("1.0.", False, False),
    ],
)
def test_statement_version(value: str, ok_1_0_3: bool, ok_2_0: bool) -> None:
    assert is_version(value, "1.0.3") is ok_1_0_3
    assert is_version(value, "2.0.0") is ok_2_0


@pytest.mark.parametrize(
    ("value", "ok_1_0_3", "ok_2_0"),
    [
        ("2013-05-18T05:32:34.804Z", True, True),
        ("2013-05-18T05:32:34.804+00:00", True, True),
        ("2013-05-18T05:32:34.804-05:30", True, True),
        ("2013-05-18t05:32:34z", True, True),
        ("2008-09-15 15:53:00.601+00:00", False, True),  # RFC 3339 allows a space
        ("2013-05-18T05:32:34.804", True, False),  # 1.0.3: time zone only SHOULD; 2.0: required
        ("2013-05-18T05:32", True, False),
        ("20130518T053234Z", True, False),  # ISO 8601 basic format
        ("2013-05-18T05:32:34+0100", True, False),
        ("2013-05-18T05:32:34+01", True, False),
        ("2013-05-18T05:32:34,5Z", True, False),
        ("2016-12-31T23:59:60Z", True, True),  # leap second
        ("2008-09-15T15:53:00.601-00", False, False),
        ("2008-09-15T15:53:00.601-0000", False, False),
        ("2008-09-15T15:53:00.601-00:00", False, False),
        ("2013-02-30T05:32:34Z", False, False),
        ("2013-13-01T05:32:34Z", False, False),
        ("2013-05-18T24:00:00Z", False, False),
        ("2013-05-18T05:32:34+24:00", False, False),
        ("2013-05-18", False, False),
        ("01/011/2015", False, False),
        ("should fail", False, False),
    ],
)
def test_timestamp_rules_per_version(value: str, ok_1_0_3: bool, ok_2_0: bool) -> None:
    assert is_timestamp(value, "1.0.3") is ok_1_0_3
    assert is_timestamp(value, "2.0.0") is ok_2_0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013-05-18T05:32:34.804+02:00", datetime(2013, 5, 18, 3, 32, 34, 804000, tzinfo=UTC)),
        ("2013-05-18T05:32:34.804", datetime(2013, 5, 18, 5, 32, 34, 804000, tzinfo=UTC)),
        ("2013-05-18 05:32:34Z", datetime(2013, 5, 18, 5, 32, 34, tzinfo=UTC)),
        ("20130518T053234-0130", datetime(2013, 5, 18, 7, 2, 34, tzinfo=UTC)),
        ("2013-05-18T05:32:34.123456789Z", datetime(2013, 5, 18, 5, 32, 34, 123456, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC)),
        ("2013-05-18T05:32:34,25+01:00", datetime(2013, 5, 18, 4, 32, 34, 250000, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_returns_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "version"),
    [("not a date", None), ("2013-05-18T05:32:34-00:00", None), ("2013-05-18T05:32:34", "2.0.0")],
)
def test_parse_timestamp_rejects(text: str, version: Version | None) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_timestamp(text, version)


def test_format_timestamp_keeps_milliseconds_or_finer() -> None:
    assert format_timestamp(datetime(2024, 5, 1, 10, 0, 0, 120000, tzinfo=UTC)) == "2024-05-01T10:00:00.120Z"
    assert format_timestamp(datetime(2024, 5, 1, 10, 0, 0, 120001, tzinfo=UTC)) == "2024-05-01T10:00:00.120001Z"
    assert normalize_timestamp("2024-05-01T12:00:00+02:00") == "2024-05-01T10:00:00.000Z"


@pytest.mark.parametrize(
    ("value", "valid"),
    [("text/plain; charset=ascii", True), ("application/octet-stream", True), ("text", False), ("", False)],
)
def test_media_type(value: str, valid: bool) -> None:
    assert is_media_type(value) is valid


def test_long_values_are_checked_without_the_cache() -> None:
    long_iri = "http://example.com/" + "a" * 600
    assert is_iri(long_iri)
    assert not is_iri(long_iri + " b")
    assert not is_language_tag("en-" + "-".join(["abcde"] * 200))
