"""Server-side template injection: template syntax that *computes* or reaches into the runtime.

A value rendered as a template (Jinja2, Twig, Freemarker, Velocity, ERB, Thymeleaf/Spring EL,
Smarty, Angular on the client) lets the sender run code. Probes and payloads have shapes plain
placeholders do not:

- arithmetic inside delimiters: ``{{7*7}}``, ``${7*7}``, ``#{7*7}``, ``<%= 7*7 %>``,
  ``*{7*7}``, ``${{7*7}}``, ``@(7*7)``;
- reaching into the runtime: dunders (``{{''.__class__.__mro__[1].__subclasses__()}}``),
  ``config``/``self``/``request``/``lipsum``/``cycler`` objects, ``constructor.constructor``,
  ``T(java.lang.Runtime)``, ``getClass().forName``, ``_self.env``, ``|attr(...)`` filters;
- a call inside the delimiters (``{{ foo() }}``, ``${@print(chr(65))}``, ``{${sleep(5)}}``);
- engine directives: Freemarker ``<#assign ... ?new()>`` / ``?api``, Velocity ``#set($x=...)``
  with ``$class``, Smarty ``{php}``/``{system(...)}``, Jinja ``{% import %}`` ``{% set %}``.

Server-side includes (Apache/nginx/IIS SSI, the template language of ``.shtml`` pages) are the
same attack one level down: ``<!--#exec cmd="id" -->``, ``<!--#include virtual="/etc/passwd"
-->``, ``<!--#echo var="DOCUMENT_ROOT" -->`` run or disclose on the server when a page echoes the
value. A directive with its ``name=`` attribute (or ``printenv``) is the shape; an ordinary
HTML comment (``<!-- #1 fix -->``, ``<!--#region-->``) has neither. Rule id ``ssti-ssi``.

``{{name}}``, ``{{ user.name }}``, ``${HOME}``, ``#{id}`` — a placeholder holding just a (dotted)
name — are how people write about templates and pass at paranoia 1; at paranoia 2 any
delimited expression beyond a bare name counts. Rule ids: ``ssti-expression``, ``ssti-directive``,
``ssti-ssi``.

Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("{{7*7}}"), "query.name", 1)]
    ['ssti-expression']
"""

from __future__ import annotations

import re
from typing import Final

from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "SstiDetector"]

MAX_EXPRESSIONS: Final = 32

# Delimited expressions; bodies are bounded ({0,400}) and exclude the closing delimiter, so
# every alternative runs in linear time.
_EXPRESSION = re.compile(
    r"""\{\{(?P<a>(?:[^{}]|\{[^{}]{0,200}\}){0,400}?)\}\}  # {{ ... }}  Jinja, Twig, Angular; one {map} inside
       |\$\{\{?(?P<b>[^{}]{0,400}?)\}         # ${ ... }   Freemarker, EL, JS template, Mako
       |\#\{(?P<c>[^{}]{0,400}?)\}            # #{ ... }   Ruby, JSF EL, Thymeleaf
       |\*\{(?P<d>[^{}]{0,400}?)\}            # *{ ... }   Thymeleaf selection
       |<%=?(?P<e>[^%]{0,400}?)%>             # <%= ... %> ERB, JSP, EJS
       |\{%(?P<f>[^%]{0,400}?)%\}             # {% ... %}  Jinja/Twig statements
       |@\((?P<g>[^()]{0,400}?)\)             # @( ... )   Razor
       |\{(?P<h>(?:php|system|exec|passthru|shell_exec|\$\{)[^{}]{0,400}?)\}  # Smarty / PHP complex
    """,
    re.VERBOSE | re.DOTALL,
)
_ARITHMETIC = re.compile(r"\d\s*[-+*/%]\s*['\"]?\d|['\"]\w*['\"]\s*\*\s*\d")
_DANGEROUS = re.compile(
    r"""__\w+__|\b(?:config|self|request|lipsum|cycler|joiner|namespace|url_for|get_flashed_messages
        |_self|env|constructor|getclass|forname|runtime|processbuilder|exec|popen|system|eval
        |subclasses|mro|globals|builtins|import|os|subprocess|application|session|t\s*\(|new\s*\(|invoke
        |getruntime|class|classloader|passthru|shell_exec|print|sleep|chr|file_get_contents|require)\b
        |\|\s*(?:attr|safe|e|join|map|select|format)\s*\(|\?\s*(?:new|api)\b""",
    re.VERBOSE,
)
_CALL = re.compile(r"[\w\])'\"]\s*\(")
_PLACEHOLDER = re.compile(r"^\s*[\w$@#-]+(?:\s*\.\s*[\w$-]+)*\s*(?:\|\s*\w+\s*)?$")
_DIRECTIVE = re.compile(
    r"""<\#(?:assign|import|include|macro|function|list|setting)\b[^>]{0,200}(?:\?new|\?api|execute|object)
       |\?new\s*\(\s*\)|\#set\s*\(\s*\$\w+\s*=[^)]{0,200}(?:\$class|getclass|runtime|\.forname)
       |\$class\.inspect|\{php\}|\{/?literal\}|\#\#\s*\$|\$\{\s*t\s*\(
       |\{\{\s*[^}]{0,80}\.constructor\s*\.\s*constructor""",
    re.VERBOSE,
)

_SSI = re.compile(
    r"<!--\s*\#\s*(?:(?:exec|include|echo|config|fsize|flastmod|set|if|elif)\s+[a-z]+\s*=|printenv\b)"
)


class SstiDetector:
    """Detects server-side template injection; see the module docstring."""

    name = "ssti"
    triggers: tuple[str, ...] = ("{{", "${", "#{", "*{", "<%", "{%", "@(", "{php", "{system", "<#", "?new",
                                 "#set", "$class", "{exec", "{passthru", "{shell_exec",
                                 # the Velocity "##$" directive; "## $" is its spaced form as the
                                 # prefilter's compact text shows it (whitespace runs collapsed)
                                 "##$", "## $", "<!--#", "<!-- #")

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring."""
        text = value.lower
        best: tuple[int, str, str, int] | None = None  # (level, rule, message, start)
        directive = _DIRECTIVE.search(text)
        ssi = _SSI.search(text) if "<!--" in text else None
        if ssi is not None:
            best = (1, "ssti-ssi", "a server-side include directive", ssi.start())
        elif directive is not None:
            best = (1, "ssti-directive", "a template engine directive that creates objects or runs code",
                    directive.start())
        else:
            for count, match in enumerate(_EXPRESSION.finditer(text)):
                if count >= MAX_EXPRESSIONS:
                    break
                body = next((g for g in match.groups() if g is not None), "")
                level = self._level(body, match.group().startswith("{"))
                if level and (best is None or level < best[0]):
                    best = (level, "ssti-expression", "a template expression that computes or reaches "
                            "into the runtime", match.start())
                    if level == 1:
                        break
        if best is None or best[0] > paranoia:
            return []
        level, rule, message, start = best
        return [Finding(self.name, rule, message, "critical", location, text[max(0, start - 10):][:60], level)]

    @staticmethod
    def _level(body: str, smarty_or_jinja: bool) -> int:
        """1 for computing/runtime-reaching bodies, 2 for other non-trivial bodies, 0 for none."""
        stripped = body.strip()
        if not stripped:
            return 0
        if _ARITHMETIC.search(stripped) or _DANGEROUS.search(stripped) or _CALL.search(stripped):
            return 1
        if _PLACEHOLDER.match(stripped):
            return 0
        return 2


DETECTOR = SstiDetector()
