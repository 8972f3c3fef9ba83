"""Fuzzing, bounded (issue 11): properties of CQL quoting, argument coercion and the converter's
corners that tests/test_convert_properties.py does not cover.

The "ci" profile runs 60 examples of each; ``bench/fuzz.py`` runs the same properties (these and
the converter's) for as long as it is told.

- A value quoted with ``helpers.cql_string`` is one string token of the sandbox's CQL parser,
  whatever it holds: it never breaks out of its string, and it reads back as itself.
- ``dispatch.coerce_value`` given any JSON value, for every declared parameter type (with and
  without choices and bounds, from JSON or from a command line), returns a value of that type
  within its choices and bounds, or raises ``UsageError`` with a short message; never another
  exception.
- Storage cut off anywhere (a generated document truncated) converts to Markdown and back to
  well-formed storage; a generated document is semantically equal to itself.
"""

from __future__ import annotations

import pytest
from convert_support import assert_well_formed, storage_docs
from hypothesis import example, given
from hypothesis import strategies as st

from ctk_core.convert import markdown_to_storage, semantic_diff, storage_to_markdown
from ctk_core.dispatch import coerce_value
from ctk_core.errors import UsageError
from ctk_core.helpers import cql_string
from ctk_core.plugin import PARAM_TYPES, Param
from ctk_core.sandbox.cql import parse, tokenize
from ctk_core.words import CLI_WORDS, MCP_WORDS

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

# ------------------------------------------------------------------------------ CQL quoting

#: Text with CQL's own characters well represented.
cql_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("\"'\\ ()=~!<>,*?%-ANDORNOT\n\t"), st.characters(codec="utf-8")
    ),
    max_size=60,
)


@given(cql_text)
@example('" OR type = page OR title = "')
@example("\\")
@example('\\"')
@example("'")
def test_a_quoted_cql_value_is_one_string_token(value: str) -> None:
    tokens = tokenize(f"title = {cql_string(value)} AND type = page")
    kinds = [(t.kind, t.text) for t in tokens]
    assert kinds == [
        ("word", "title"),
        ("op", "="),
        ("string", value),
        ("kw", "AND"),
        ("word", "type"),
        ("op", "="),
        ("word", "page"),
        ("end", ""),
    ]


@given(cql_text, cql_text)
def test_quoted_cql_values_parse_back_as_themselves(first: str, second: str) -> None:
    query = parse(f"title = {cql_string(first)} AND label = {cql_string(second)}")
    clauses = [clause for clause, _negated in query.clauses()]
    assert [(c.field, c.op, [v.text for v in c.values]) for c in clauses] == [
        ("title", "=", [first]),
        ("label", "=", [second]),
    ]


# ------------------------------------------------------------------------- argument coercion

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
#: What a command line hands over: text, or a list of texts for a repeated option.
cli_values = st.text(max_size=300) | st.lists(st.text(max_size=40), max_size=4) | json_values

CHOICES = ("alpha", "beta", "gamma")


@st.composite
def params(draw: st.DrawFn) -> Param:
    kind = draw(st.sampled_from(sorted(PARAM_TYPES)))
    choices = draw(st.none() | st.just(CHOICES)) if kind in ("str", "list") else None
    low = high = None
    if kind in ("int", "float"):
        low = draw(st.none() | st.integers(-5, 5))
        high = draw(st.none() | st.integers(5, 300))
    return Param(
        "value", kind, "A value.", required=draw(st.booleans()), choices=choices,
        minimum=low, maximum=high,
    )  # fmt: skip


EXPECTED_TYPE = {"str": str, "int": int, "float": (int, float), "bool": bool, "list": list}


def check_coercion(param: Param, value: object, from_json: bool) -> None:
    words = MCP_WORDS if from_json else CLI_WORDS
    try:
        result = coerce_value(param, value, from_json=from_json, words=words)
    except UsageError as err:
        message = err.message
    else:
        message = None
    if message is not None:
        assert len(message) < 400, message
        assert "\n" not in message
        return
    assert isinstance(result, EXPECTED_TYPE[param.type]), (param, value, result)
    if param.type == "list":
        assert all(isinstance(item, str) for item in result)
    if param.choices:
        assert all(item in param.choices for item in (result if param.type == "list" else [result]))
    if param.type in ("int", "float"):
        assert not isinstance(result, bool)
        assert param.minimum is None or result >= param.minimum
        assert param.maximum is None or result <= param.maximum


@given(params(), json_values)
@example(Param("value", "int"), 10**25)
@example(Param("value", "int"), 1e300)
@example(Param("value", "str", required=True), "   ")
@example(Param("value", "list", choices=CHOICES), [])
def test_json_arguments_coerce_or_are_usage_errors(param: Param, value: object) -> None:
    check_coercion(param, value, from_json=True)


@given(params(), cli_values)
@example(Param("value", "int"), "1e9")
@example(Param("value", "int"), "9" * 5000)
@example(Param("value", "float"), "nan")
@example(Param("value", "bool"), " YES ")
def test_command_line_arguments_coerce_or_are_usage_errors(param: Param, value: object) -> None:
    check_coercion(param, value, from_json=False)


# ------------------------------------------------------------------------ converter corners


@given(storage_docs, st.integers(min_value=0))
def test_storage_cut_anywhere_converts(storage: str, cut: int) -> None:
    broken = storage[: cut % (len(storage) + 1)]
    md = storage_to_markdown(broken)
    assert isinstance(md, str)
    assert_well_formed(markdown_to_storage(md))


@given(storage_docs)
def test_generated_storage_is_semantically_equal_to_itself(storage: str) -> None:
    assert semantic_diff(storage, storage) is None


#: Every property here and in test_convert_properties.py, for bench/fuzz.py.
def properties() -> dict[str, object]:
    import test_convert_properties as convert

    here = globals()
    found = {name: here[name] for name in sorted(here) if _is_property(here[name])}
    found.update(
        {
            f"convert.{n}": getattr(convert, n)
            for n in dir(convert)
            if _is_property(getattr(convert, n))
        }
    )
    return found


def _is_property(obj: object) -> bool:
    return (
        callable(obj)
        and getattr(obj, "__name__", "").startswith("test_")
        and hasattr(obj, "hypothesis")
    )
