"""Parameters: types and coercion, styles/explode, headers, cookies, path, unknown and repeated names."""

from __future__ import annotations

from typing import Any

import pytest

from tests.validation.helpers import TENANT, Harness, locations, problem, typed

T = [("x-tenant", TENANT)]


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness()


async def test_article_id_sql_injection_is_rejected_at_its_location(harness: Harness) -> None:
    response, _ = await harness.send("GET", "/legacy/articles", "articleId=1;%20DROP%20TABLE%20articles;%20--")
    assert response.status == 400
    body = problem(response)
    assert body["type"].endswith("/request-validation")
    assert body["violations"] == [
        {"location": "query.articleId", "message": "expected integer", "keyword": "type",
         "excerpt": "1; DROP TABLE articles; --"}
    ]


async def test_valid_article_id_passes_and_is_typed(harness: Harness) -> None:
    response, exchange = await harness.send("GET", "/legacy/articles", "articleId=42&sort=desc&q=it%27s%20fine")
    assert response.status == 200
    # integer and enum are proven safe; the free-text q is left for the detectors
    assert typed(exchange) == {"query.articleId", "query.sort"}


@pytest.mark.parametrize("value", ["%2B5", "5%20", "1_000", "%D9%A3", "0x10", "1e3", "", "1.0", "--1", "1%00"])
async def test_integer_coercion_is_strict(harness: Harness, value: str) -> None:
    # Python's int() accepts "+5", " 5 ", "1_000" and Arabic-Indic digits; the upstream may not.
    response, _ = await harness.send("GET", "/legacy/articles", f"articleId={value}")
    assert response.status == 400
    assert locations(response) == ["query.articleId"]


@pytest.mark.parametrize("value", ["7", "007", "2147483647"])
async def test_integer_look_alikes_that_are_integers_pass(harness: Harness, value: str) -> None:
    response, _ = await harness.send("GET", "/legacy/articles", f"articleId={value}")
    assert response.status == 200


async def test_int32_range_and_minimum(harness: Harness) -> None:
    response, _ = await harness.send("GET", "/legacy/articles", "articleId=2147483648")
    assert problem(response)["violations"][0]["keyword"] == "maximum"
    response, _ = await harness.send("GET", "/legacy/articles", "articleId=0")
    assert problem(response)["violations"][0]["message"] == "must be >= 1"


async def test_required_enum_and_length(harness: Harness) -> None:
    response, _ = await harness.send("GET", "/legacy/articles", "sort=sideways&q=" + "x" * 51)
    violations = {v["location"]: v for v in problem(response)["violations"]}
    assert violations["query.articleId"]["keyword"] == "required"
    assert "excerpt" not in violations["query.articleId"]
    assert violations["query.sort"]["keyword"] == "enum"
    assert violations["query.q"]["keyword"] == "maxLength"


async def test_unknown_query_parameters(harness: Harness) -> None:
    response, _ = await harness.send("GET", "/legacy/articles", "articleId=1&debug=true")
    assert response.status == 400
    assert problem(response)["violations"] == [
        {"location": "query.debug", "message": "is not a declared query parameter", "keyword": "unknown",
         "excerpt": "true"}
    ]


@pytest.mark.parametrize(
    ("config", "status"),
    [({"reject_unknown_query": False}, 200), ({"strict": False}, 200),
     ({"strict": False, "reject_unknown_query": True}, 400)],
)
async def test_unknown_query_is_configurable(config: dict[str, Any], status: int) -> None:
    response, _ = await Harness(**config).send("GET", "/legacy/articles", "articleId=1&debug=true")
    assert response.status == status


async def test_unknown_query_per_route() -> None:
    settings = {"GET /legacy/articles": {"validation": {"reject_unknown_query": False}}}
    relaxed = Harness(route_settings=settings)
    response, exchange = await relaxed.send("GET", "/legacy/articles", "articleId=1&utm_source=x")
    assert response.status == 200
    assert "query.utm_source" not in typed(exchange)
    response, _ = await relaxed.send("GET", "/articles", "utm_source=x", headers=T)
    assert response.status == 400


async def test_repeated_single_valued_parameter_is_pollution(harness: Harness) -> None:
    # Validating the first value while the upstream reads the last one would be a bypass.
    response, exchange = await harness.send("GET", "/legacy/articles", "articleId=1&articleId=1%20OR%201=1")
    assert response.status == 400
    violation = problem(response)["violations"][0]
    assert violation["location"] == "query.articleId" and violation["keyword"] == "repeated"
    assert violation["excerpt"] == "1 OR 1=1"
    assert "query.articleId" not in typed(exchange)


async def test_form_explode_true_array(harness: Harness) -> None:
    response, exchange = await harness.send("GET", "/articles", "ids=1&ids=2&ids=3", headers=T)
    assert response.status == 200
    assert "query.ids" in typed(exchange)
    response, _ = await harness.send("GET", "/articles", "ids=1&ids=2%27", headers=T)
    assert locations(response) == ["query.ids[1]"]
    response, _ = await harness.send("GET", "/articles", "ids=1,2", headers=T)  # explode: one item "1,2"
    assert locations(response) == ["query.ids[0]"]
    response, _ = await harness.send("GET", "/articles", "&".join(f"ids={i}" for i in range(6)), headers=T)
    assert problem(response)["violations"][0]["keyword"] == "maxItems"


async def test_form_explode_false_array(harness: Harness) -> None:
    response, exchange = await harness.send("GET", "/articles", "tags=news,tech-2024", headers=T)
    assert response.status == 200
    assert "query.tags" in typed(exchange)  # ^[a-z0-9-]{1,20}$ excludes quotes and spaces
    response, _ = await harness.send("GET", "/articles", "tags=news,a%20b", headers=T)
    assert locations(response) == ["query.tags[1]"]
    response, _ = await harness.send("GET", "/articles", "tags=news&tags=tech", headers=T)
    assert problem(response)["violations"][0]["keyword"] == "repeated"


async def test_space_and_pipe_delimited(harness: Harness) -> None:
    response, exchange = await harness.send("GET", "/articles", "words=hello%20world&codes=a|b|c", headers=T)
    assert response.status == 200
    assert "query.codes" in typed(exchange) and "query.words" not in typed(exchange)
    response, _ = await harness.send("GET", "/articles", "codes=a|b%27%20OR%201=1", headers=T)
    assert locations(response) == ["query.codes[1]"]


async def test_deep_object(harness: Harness) -> None:
    response, exchange = await harness.send(
        "GET", "/articles", "filter[status]=draft&filter[minViews]=3&filter[author]=O%27Brien", headers=T
    )
    assert response.status == 200
    found = typed(exchange)
    assert {"query.filter[status]", "query.filter[minViews]"} <= found
    assert "query.filter[author]" not in found
    response, _ = await harness.send("GET", "/articles", "filter[status]=deleted&filter[minViews]=x", headers=T)
    assert sorted(locations(response)) == ["query.filter[minViews]", "query.filter[status]"]


async def test_deep_object_unknown_nested_and_repeated_keys(harness: Harness) -> None:
    response, _ = await harness.send("GET", "/articles", "filter[isAdmin]=true", headers=T)
    assert problem(response)["violations"][0]["location"] == "query.filter[isAdmin]"
    response, _ = await harness.send("GET", "/articles", "filter[status][$ne]=x", headers=T)
    assert problem(response)["violations"][0]["keyword"] == "style"
    response, _ = await harness.send("GET", "/articles", "filter[status]=draft&filter[status]=published", headers=T)
    assert problem(response)["violations"][0]["keyword"] == "repeated"


async def test_scalar_types_and_formats_in_query(harness: Harness) -> None:
    good = "since=2024-02-29&updatedAfter=2024-05-01T10:00:00Z&page=3&score=0.5&draft=true"
    response, exchange = await harness.send("GET", "/articles", good, headers=T)
    assert response.status == 200
    assert {"query.since", "query.updatedAfter", "query.page", "query.score", "query.draft"} <= typed(exchange)
    bad = "since=2023-02-29&updatedAfter=yesterday&page=1001&score=0&draft=yes"
    response, _ = await harness.send("GET", "/articles", bad, headers=T)
    keywords = {v["location"]: v["keyword"] for v in problem(response)["violations"]}
    assert keywords == {"query.since": "format", "query.updatedAfter": "format", "query.page": "maximum",
                        "query.score": "exclusiveMinimum", "query.draft": "type"}


@pytest.mark.parametrize("score", ["nan", "inf", "1e999", "-0x1", "1,5", "True"])
async def test_numbers_must_be_finite_decimals(harness: Harness, score: str) -> None:
    response, _ = await harness.send("GET", "/articles", f"score={score}", headers=T)
    assert locations(response) == ["query.score"]


async def test_header_parameters(harness: Harness) -> None:
    response, exchange = await harness.send("GET", "/articles", headers=[("X-Tenant", TENANT), ("x-flags", "1, 2,3")])
    assert response.status == 200
    assert {"header.x-tenant", "header.x-flags"} <= typed(exchange)
    response, _ = await harness.send("GET", "/articles")
    assert problem(response)["violations"][0] == {
        "location": "header.x-tenant", "message": "is required", "keyword": "required"}
    response, _ = await harness.send("GET", "/articles", headers=[("x-tenant", "1' OR '1'='1"), ("x-flags", "1,a")])
    assert sorted(locations(response)) == ["header.x-flags[1]", "header.x-tenant"]


async def test_cookie_parameters(harness: Harness) -> None:
    cookie = ("cookie", "session=AbCdEf0123456789xyz; prefs=dark,compact; tracking=whatever")
    response, exchange = await harness.send("GET", "/articles", headers=[*T, cookie])
    assert response.status == 200  # undeclared cookies are not rejected: browsers send many
    assert {"cookie.session", "cookie.prefs"} <= typed(exchange)
    cookie = ("cookie", "session=abc'--; prefs=dark,evil")
    response, _ = await harness.send("GET", "/articles", headers=[*T, cookie])
    assert sorted(locations(response)) == ["cookie.prefs[1]", "cookie.session"]


async def test_repeated_cookie_is_rejected_not_half_checked(harness: Harness) -> None:
    # The jar keeps the last value, many frameworks read the first: neither may be vouched for.
    for cookie in ("session=x'%20OR%201=1; session=AbCdEf0123456789xyz",
                   "session=AbCdEf0123456789xyz; session=x'%20OR%201=1"):
        response, exchange = await harness.send("GET", "/articles", headers=[*T, ("cookie", cookie)])
        assert problem(response)["violations"][0]["keyword"] == "repeated"
        assert "cookie.session" not in typed(exchange)
    response, _ = await harness.send("GET", "/articles", headers=[*T, ("cookie", "a=1"), ("cookie", "a=2")])
    assert response.status == 200  # undeclared cookies are the API's business


async def test_path_parameters(harness: Harness) -> None:
    response, exchange = await harness.send("GET", "/articles/42")
    assert response.status == 200
    assert {"path.articleId", "path[1]"} <= typed(exchange)
    for bad, keyword in (("0", "minimum"), ("9223372036854775808", "maximum"), ("1'", "type"), ("1 or 1", "type")):
        response, _ = await harness.send("GET", f"/articles/{bad}")
        violation = problem(response)["violations"][0]
        assert (violation["location"], violation["keyword"]) == ("path.articleId", keyword)


async def test_label_matrix_and_simple_styles(harness: Harness) -> None:
    for path in ("/styles/label/.1.2.3", "/styles/matrix/;x=1;y=2", "/styles/simple/x,1,y,2"):
        response, _ = await harness.send("GET", path)
        assert response.status == 200, path
    cases = {
        "/styles/label/1.2": ("path.ids", "style"),
        "/styles/label/.1.x": ("path.ids[1]", "type"),
        "/styles/matrix/x=1;y=2": ("path.point", "style"),
        "/styles/matrix/;x=1;y=a": ("path.point.y", "type"),
        "/styles/simple/x,1,y": ("path.point", "style"),
        "/styles/simple/x,1,y,z": ("path.point.y", "type"),
        "/styles/simple/x,1,z,2": ("path.point.z", "additionalProperties"),
    }
    for path, (location, keyword) in cases.items():
        response, _ = await harness.send("GET", path)
        violation = problem(response)["violations"][0]
        assert (violation["location"], violation["keyword"]) == (location, keyword), path


async def test_form_exploded_object(harness: Harness) -> None:
    response, exchange = await harness.send("GET", "/styles/form-object", "r=10&g=20&limit=5")
    assert response.status == 200
    assert {"query.r", "query.g", "query.limit"} <= typed(exchange)
    response, _ = await harness.send("GET", "/styles/form-object", "r=300")
    assert locations(response) == ["query.r"]
    response, _ = await harness.send("GET", "/styles/form-object", "r=1&b=2")
    assert locations(response) == ["query.b"]


async def test_json_content_parameter(harness: Harness) -> None:
    response, exchange = await harness.send("GET", "/styles/json-param", "where=%7B%22field%22:%22title%22%7D")
    assert response.status == 200
    response, _ = await harness.send("GET", "/styles/json-param", "where=title")
    assert problem(response)["violations"][0]["keyword"] == "syntax"
    response, _ = await harness.send("GET", "/styles/json-param", "where=%7B%22field%22:%22x%22%7D")
    assert locations(response) == ["query.where.field"]
