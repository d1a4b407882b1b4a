"""The OneRoster 1.2 filter grammar: what parses to which predicates, and what is refused where."""

from typing import Literal

import pytest

from services.profile_service.oneroster_filter import (
    MAX_LENGTH,
    MAX_PREDICATES,
    Conjunction,
    Filter,
    FilterError,
    Predicate,
    filter_fields,
    parse_filter,
)


def refused(text: str) -> FilterError:
    """The error `parse_filter` raises for `text`."""
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    return caught.value


class TestPredicate:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("status='active'", Predicate("status", "=", "active")),
            ("status = 'active'", Predicate("status", "=", "active")),
            ("  status  =  'active'  ", Predicate("status", "=", "active")),
            ("status!='tobedeleted'", Predicate("status", "!=", "tobedeleted")),
            (
                "dateLastModified>'2026-11-23T10:00:00.000Z'",
                Predicate("dateLastModified", ">", "2026-11-23T10:00:00.000Z"),
            ),
            ("birthDate>='2010-01-01'", Predicate("birthDate", ">=", "2010-01-01")),
            ("birthDate<'2010-01-01'", Predicate("birthDate", "<", "2010-01-01")),
            ("birthDate <= '2010-01-01'", Predicate("birthDate", "<=", "2010-01-01")),
            ("familyName~'smi'", Predicate("familyName", "~", "smi")),
            ("roles.role='teacher'", Predicate("roles.role", "=", "teacher")),
            ("school.sourcedId='s1'", Predicate("school.sourcedId", "=", "s1")),
            ("grade_2='x'", Predicate("grade_2", "=", "x")),
        ],
    )
    def test_parses(self, text: str, expected: Predicate) -> None:
        assert parse_filter(text) == expected


class TestValue:
    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("familyName=''", ""),
            ("familyName='O''Brien'", "O'Brien"),
            ("familyName=''''", "'"),
            ("familyName='a''''b'", "a''b"),
            ('familyName="x"', "x"),
            ('familyName=""', ""),
            ('familyName="say ""hi"""', 'say "hi"'),
            ('familyName="O\'Brien"', "O'Brien"),
            ("familyName='say \"hi\"'", 'say "hi"'),
            ("familyName='  spaced  '", "  spaced  "),
            ("familyName='Zoë Ñúñez 山田'", "Zoë Ñúñez 山田"),
            ("familyName='a AND b=''c'''", "a AND b='c'"),
            ("familyName='100%_\\'", "100%_\\"),
        ],
    )
    def test_quoted_value_is_taken_literally(self, text: str, value: str) -> None:
        assert parse_filter(text) == Predicate("familyName", "=", value)

    @pytest.mark.parametrize(
        ("text", "position"),
        [("status=active", 7), ("status=", 7), ("status= ", 8), ("status=`active`", 7)],
    )
    def test_unquoted_value_is_refused(self, text: str, position: int) -> None:
        error = refused(text)
        assert error.message == f"expected a quoted value after '=' at position {position}"
        assert error.position == position

    @pytest.mark.parametrize(
        ("text", "quote", "position"),
        [
            ("status='active", "'", 7),
            ("status='active''", "'", 7),
            ('status="active', '"', 7),
            ("a='1' AND b='2", "'", 12),
        ],
    )
    def test_unterminated_value_is_refused(self, text: str, quote: str, position: int) -> None:
        error = refused(text)
        assert error.message == f"unterminated value: no closing {quote} for the quote at position {position}"
        assert error.position == position


class TestLogicalOperator:
    def test_and_joins_two_predicates(self) -> None:
        assert parse_filter("status='active' AND familyName~'smi'") == Conjunction(
            "AND", (Predicate("status", "=", "active"), Predicate("familyName", "~", "smi"))
        )

    def test_or_joins_two_predicates(self) -> None:
        assert parse_filter("role='teacher' OR role='aide'") == Conjunction(
            "OR", (Predicate("role", "=", "teacher"), Predicate("role", "=", "aide"))
        )

    @pytest.mark.parametrize("word", ["and", "or"])
    def test_lowercase_is_accepted(self, word: Literal["and", "or"]) -> None:
        operator: Literal["AND", "OR"] = "AND" if word == "and" else "OR"
        parsed = parse_filter(f"a='1' {word} b='2'")
        assert parsed == Conjunction(operator, (Predicate("a", "=", "1"), Predicate("b", "=", "2")))

    def test_a_chain_of_the_same_operator(self) -> None:
        parsed = parse_filter("a='1' AND b='2'   and\tc='3' AND d!='4'")
        assert parsed == Conjunction(
            "AND",
            (Predicate("a", "=", "1"), Predicate("b", "=", "2"), Predicate("c", "=", "3"), Predicate("d", "!=", "4")),
        )

    @pytest.mark.parametrize(
        ("text", "position"),
        [("a='1' AND b='2' OR c='3'", 16), ("a='1' or b='2' and c='3'", 15), ("a='1' OR b='2' OR c='3' AND d='4'", 24)],
    )
    def test_mixing_and_with_or_is_refused(self, text: str, position: int) -> None:
        error = refused(text)
        assert error.message == f"cannot mix AND with OR in one filter (no parentheses) at position {position}"
        assert error.position == position

    @pytest.mark.parametrize(
        ("text", "word", "position"),
        [("a='1' AND", "AND", 9), ("a='1' AND   ", "AND", 12), ("a='1' or ", "or", 9)],
    )
    def test_dangling_operator_is_refused(self, text: str, word: str, position: int) -> None:
        error = refused(text)
        assert error.message == f"expected a predicate after {word!r} at position {position}"
        assert error.position == position

    @pytest.mark.parametrize(
        ("text", "position"),
        [
            ("a='1'AND b='2'", 5),
            ("a='1' ANDb='2'", 6),
            ("a='1' And b='2'", 6),
            ("a='1' && b='2'", 6),
            ("a='1' b='2'", 6),
        ],
    )
    def test_operator_without_spaces_or_unknown_is_refused(self, text: str, position: int) -> None:
        error = refused(text)
        assert error.message == f"expected AND, OR or the end of the filter at position {position}"
        assert error.position == position

    def test_operator_twice_is_refused(self) -> None:
        assert refused("a='1' AND AND b='2'").message == "expected an operator after 'AND' at position 14"


class TestInvalidFilter:
    @pytest.mark.parametrize("text", ["", " ", "\t\n"])
    def test_empty_is_refused(self, text: str) -> None:
        error = refused(text)
        assert (error.message, error.position) == ("the filter is empty", 0)

    @pytest.mark.parametrize(
        ("text", "field", "position"),
        [("status'active'", "status", 6), ("status 'active'", "status", 7), ("status", "status", 6)],
    )
    def test_missing_operator_is_refused(self, text: str, field: str, position: int) -> None:
        error = refused(text)
        assert error.message == f"expected an operator after {field!r} at position {position}"
        assert error.position == position

    @pytest.mark.parametrize(
        ("text", "operator", "position"),
        [
            ("status=='active'", "==", 6),
            ("status<>'active'", "<>", 6),
            ("status=~'act'", "=~", 6),
            ("status ! 'active'", "!", 7),
            ("status=>'a'", "=>", 6),
        ],
    )
    def test_unknown_operator_is_refused(self, text: str, operator: str, position: int) -> None:
        error = refused(text)
        assert error.message == f"unknown operator {operator!r} at position {position}"
        assert error.position == position

    @pytest.mark.parametrize(
        ("text", "field", "position"),
        [
            ("1abc='x'", "1abc", 0),
            ("a..b='x'", "a..b", 0),
            ("a;b='x'", "a;b", 0),
            (".a='x'", ".a", 0),
            ("a.='x'", "a.", 0),
            ("_a='x'", "_a", 0),
            ("naïve='x'", "naïve", 0),
            ("a='1' AND b-c='2'", "b-c", 10),
        ],
    )
    def test_bad_field_name_is_refused(self, text: str, field: str, position: int) -> None:
        error = refused(text)
        assert error.message == f"invalid field name {field!r} at position {position}"
        assert error.position == position

    @pytest.mark.parametrize(("text", "position"), [("='x'", 0), ("a='1' AND ='2'", 10), ("'a'='b'", 0)])
    def test_missing_field_is_refused(self, text: str, position: int) -> None:
        error = refused(text)
        assert error.message == f"expected a field name at position {position}"
        assert error.position == position

    @pytest.mark.parametrize(
        ("text", "position"), [("status='active' x", 16), ("status='active''", 7), ("a='1' 'b'", 6), ("a='1')", 5)]
    )
    def test_trailing_garbage_is_refused(self, text: str, position: int) -> None:
        assert refused(text).position == position

    def test_error_is_a_value_error_saying_where(self) -> None:
        error = refused("status=='active'")
        assert isinstance(error, ValueError)
        assert str(error) == "unknown operator '==' at position 6"


class TestLimit:
    def test_the_longest_filter_is_accepted(self) -> None:
        text = f"familyName='{'x' * (MAX_LENGTH - 13)}'"
        assert len(text) == MAX_LENGTH
        assert parse_filter(text) == Predicate("familyName", "=", "x" * (MAX_LENGTH - 13))

    def test_a_longer_filter_is_refused(self) -> None:
        error = refused(f"familyName='{'x' * (MAX_LENGTH - 12)}'")
        assert error.message == f"the filter is longer than {MAX_LENGTH} characters"
        assert error.position == MAX_LENGTH

    def test_the_most_predicates_are_accepted(self) -> None:
        parsed = parse_filter(" OR ".join(f"f{index}='{index}'" for index in range(MAX_PREDICATES)))
        assert isinstance(parsed, Conjunction)
        assert len(parsed.predicates) == MAX_PREDICATES

    def test_more_predicates_are_refused(self) -> None:
        text = " AND ".join(f"f{index}='{index}'" for index in range(MAX_PREDICATES + 1))
        error = refused(text)
        assert error.message == f"a filter has at most {MAX_PREDICATES} predicates; more at position {error.position}"
        assert text[error.position :] == f"f{MAX_PREDICATES}='{MAX_PREDICATES}'"


class TestInjection:
    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("givenName='x'' OR ''1''=''1'", "x' OR '1'='1"),
            ("givenName='x''; DROP TABLE org;--'", "x'; DROP TABLE org;--"),
            ("givenName='\\'' OR 1=1 --'", "\\' OR 1=1 --"),
            ('givenName=\'x" OR "1"="1\'', 'x" OR "1"="1'),
        ],
    )
    def test_quotes_inside_a_value_stay_in_the_value(self, text: str, value: str) -> None:
        assert parse_filter(text) == Predicate("givenName", "=", value)

    @pytest.mark.parametrize(
        ("text", "position"),
        [
            ("status='active'; DROP TABLE org;--", 15),
            ("status='active' OR 1=1", 19),
            ("status='active' -- comment", 16),
            ("status='active' UNION SELECT * FROM org", 16),
            ("status='x' OR '1'='1'", 14),
        ],
    )
    def test_sql_after_a_value_is_refused(self, text: str, position: int) -> None:
        assert refused(text).position == position

    def test_sql_as_a_field_name_is_refused(self) -> None:
        assert refused("status;DROP TABLE org='x'").message == "invalid field name 'status;DROP' at position 0"


class TestFilterFields:
    @pytest.mark.parametrize(
        ("parsed", "fields"),
        [
            (Predicate("status", "=", "active"), ["status"]),
            (
                Conjunction(
                    "AND", (Predicate("b", "=", "1"), Predicate("roles.role", "=", "2"), Predicate("a", "=", "3"))
                ),
                ["b", "roles.role", "a"],
            ),
            (
                Conjunction("OR", (Predicate("a", "=", "1"), Predicate("b", "=", "2"), Predicate("a", "=", "3"))),
                ["a", "b"],
            ),
        ],
    )
    def test_lists_fields_in_order_once(self, parsed: Filter, fields: list[str]) -> None:
        assert filter_fields(parsed) == fields

    def test_of_a_parsed_filter(self) -> None:
        assert filter_fields(parse_filter("status='active' AND dateLastModified>'2026-01-01'")) == [
            "status",
            "dateLastModified",
        ]
