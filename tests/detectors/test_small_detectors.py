"""NoSQL, SSTI, LDAP and prototype-pollution detectors: attacks, bypasses, look-alikes."""

from __future__ import annotations

import pytest

from sealgate.detectors import ldap, nosql, prototype_pollution, ssti
from sealgate.detectors.base import Detector
from sealgate.detectors.normalize import Value


def found(detector: Detector, text: str, kind: str = "value", paranoia: int = 1) -> bool:
    return bool(detector.detect(Value(text, kind), "query.q", paranoia))


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("$ne", "name", True),
        ("$where", "name", True),
        ("$gt", "value", False),  # a string value "$gt" is just text
        ("password[$ne]", "name", True),
        ("password[%24ne]", "name", True),  # encoded dollar
        ("user[ $regex ]", "name", True),
        ("[$lte]x", "value", True),
        ('{"$gt": ""}', "value", True),
        ("$ref", "name", False),
        ("$schema", "name", False),
        ("$99.90", "value", False),
        ("items[$index]", "name", False),  # unknown operator: paranoia 2 only
    ],
)
def test_nosql(text: str, kind: str, expected: bool) -> None:
    assert found(nosql.DETECTOR, text, kind) is expected


def test_nosql_unknown_operator_at_paranoia_2() -> None:
    assert found(nosql.DETECTOR, "items[$index]", "name", paranoia=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{7*7}}", True),
        ("{{ 7 * '7' }}", True),
        ("${7*7}", True),
        ("#{7*7}", True),
        ("<%= 7 * 7 %>", True),
        ("{{self.__init__.__globals__}}", True),
        ("{{request|attr('application')}}", True),
        ("{{cycler.__init__.__globals__.os.popen('id').read()}}", True),
        ("${T(java.lang.Runtime).getRuntime().exec('id')}", True),
        ('<#assign ex="freemarker.template.utility.Execute"?new()>', True),
        ("%7B%7B7*7%7D%7D", True),
        ("{{name}}", False),
        ("Hello {{ user.name }}!", False),
        ("${HOME}/bin", False),
        ("#{id}", False),
        ("{% endif %}", False),
        ("The price is {amount}", False),
    ],
)
def test_ssti(text: str, expected: bool) -> None:
    assert found(ssti.DETECTOR, text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*)(uid=*))(|(uid=*", True),
        ("admin)(&)", True),
        ("admin)(|(password=*)", True),
        ("*)(objectClass=*", True),
        ("(|(cn=*))", False),  # a complete filter of its own: paranoia 2
        ("eb9adbd87d)!(sn=*", True),
        ("aaa*aaa)(cn>=bob)", True),
        ("x)%28cn=*", True),
        ("f(x)(y=2)", False),
        ("Smith (Sales) (EMEA)", False),
        ("(a)(b)", False),
    ],
)
def test_ldap(text: str, expected: bool) -> None:
    assert found(ldap.DETECTOR, text) is expected


def test_ldap_balanced_filter_at_paranoia_2() -> None:
    assert found(ldap.DETECTOR, "(|(cn=*))", paranoia=2)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("__proto__", "name", True),
        ("a[__proto__][admin]", "name", True),
        ("a.__proto__.admin", "name", True),
        ("constructor[prototype][admin]", "name", True),
        ('{"__proto__":{"admin":true}}', "value", True),
        ("__proto__", "value", True),
        ("%5F%5Fproto%5F%5F", "name", True),
        ("constructor", "name", False),
        ("prototype", "value", False),
        ("How does __proto__ differ from prototype in JavaScript", "value", False),
    ],
)
def test_prototype_pollution(text: str, kind: str, expected: bool) -> None:
    assert found(prototype_pollution.DETECTOR, text, kind) is expected
