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
- engine directives: Freemarker ``<#assign ... ?new()>`` / ``?api`` (and ``[#assign ...]`` whose
  value computes or reaches the runtime), Velocity ``#set($x=...)`` with ``$class`` or arithmetic,
  a Velocity reference going into reflection (``$s.getClass().forName(...)``), Smarty ``{php}``,
  ``{system(...)}``, ``{chr(105)|cat:...}``, static calls ``{Class::method(...passthru...)}``
  and the reserved ``{$smarty.version}``;
- engine internals and disclosing statements: Freemarker special variables ``${.version}``, EL
  implicit objects (``${applicationScope}``), Thymeleaf ``execInfo``, lodash's ``{{= _.VERSION}}``,
  Django's ``signer``/``SECRET_KEY``, ``{% debug %}``, ``{% load %}``, ``{%import os%}``;
- code rather than a placeholder: an assignment in ``{{x=Object}}``, a command in ERB backticks
  (``<%= `id` %>``), filter arithmetic (``{{364|add:733}}``, Liquid ``{{ 7 | times: 7 }}``),
  the other delimiters ``@{...}``, ``~{...}`` (Thymeleaf) and ``[=...]`` (Freemarker);
- an engine-fingerprinting polyglot: openers of three engines within six characters
  (``${{<%[%'"}}``).

Server-side includes (Apache/nginx/IIS SSI, the template language of ``.shtml`` pages) are the
same attack one level down: ``<!--#exec cmd="id" -->``, ``<!--#include virtual="/etc/passwd"
-->``, ``<!--#echo var="DOCUMENT_ROOT" -->`` run or disclose on the server when a page echoes the
value. A directive with its ``name=`` attribute (or ``printenv``) is the shape; an ordinary
HTML comment (``<!-- #1 fix -->``, ``<!--#region-->``) has neither. Rule id ``ssti-ssi``.

``{{name}}``, ``{{ user.name }}``, ``${HOME}``, ``#{id}`` — a placeholder holding just a (dotted)
name — are how people write about templates and pass at paranoia 1, as do ``{% include 'x.html' %}``
(tutorials quote it), shell expansions (``${var:-default}``), C++ ``{std::move(x)}`` and Perl
dereferences (``@{ $obj->aliases() }``, whose body starts with a sigil); at paranoia 2 any
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
       |\$\{\{?(?P<b>(?:[^{}]|\{[^{}]{0,200}\}){0,400}?)\}  # ${ ... }  EL, Mako, Groovy; one {block} inside
       |\#\{(?P<c>(?:[^{}]|\{[^{}]{0,200}\}){0,400}?)\}  # #{ ... }  Ruby, JSF EL, Pug; one {block} inside
       |[*@~]\{(?P<d>[^{}]{0,400}?)\}          # *{ ... } @{ ... } ~{ ... }  Thymeleaf selection, link, fragment
       |<%=?(?P<e>[^%]{0,400}?)%>             # <%= ... %> ERB, JSP, EJS
       |\{%(?P<f>[^%]{0,400}?)%\}             # {% ... %}  Jinja/Twig/Django statements
       |@\((?P<g>(?:[^()]|\([^()]{0,200}\)){0,400}?)\)  # @( ... )  Razor; one (call) inside
       |\{(?P<h>(?:php|\$\{|(?:system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec|eval|assert|chr
            |include|require|readfile|file_get_contents|file_put_contents|fopen|phpinfo|call_user_func
            |base64_decode|implode)\s*\()[^{}]{0,400}?)\}
                                              # Smarty / Latte tag calling a PHP function
       |\{(?P<j>[a-z_]\w{0,60}::\w{1,60}\s*\([^{}]{0,400}?)\}  # Smarty static call {Class::method(...)}
       |\{\$smarty\.(?P<i>[^{}]{0,200}?)\}     # Smarty's reserved $smarty variable
       |\[=(?P<k>[^\[\]]{0,400}?)\]            # [= ... ]   Freemarker's square-bracket interpolation
    """,
    re.VERBOSE | re.DOTALL,
)
# ``7*7``, ``7*'7'``, and filter arithmetic: Django's ``{{364|add:733}}``, Liquid's ``{{ 7 | times: 7 }}``.
_ARITHMETIC = re.compile(
    r"\d\s*[-+*/%]\s*['\"]?\d|['\"]\w*['\"]\s*\*\s*\d"
    r"|\d\s*\|\s*(?:add|times|plus|minus|divided_by|modulo)\s*:\s*['\"]?-?\d"
)
_DANGEROUS = re.compile(
    r"""__\w+__|\b(?:config|self|request|lipsum|cycler|joiner|namespace|url_for|get_flashed_messages
        |_self|env|constructor|getclass|forname|runtime|processbuilder|exec|popen|system|eval
        |subclasses|mro|globals|builtins|import|os|subprocess|application|session|t\s*\(|new\s*\(|invoke
        |getruntime|class|classloader|passthru|shell_exec|print|sleep|chr|file_get_contents|require
        |applicationscope|sessionscope|requestscope|pagecontext|facescontext|initparam  # EL implicit objects
        |secret_key|signer                       # Django/Flask signing secrets
        |execinfo)\b                            # Thymeleaf's execution info object
        |(?<![\w$])_\s*\.\s*[a-z]                # lodash/underscore's global "_" (``{{= _.VERSION}}``)
        |\|\s*(?:attr|safe|e|join|map|select|format)\s*\(|\?\s*(?:new|api)\b""",
    re.VERBOSE,
)
_CALL = re.compile(r"[\w\])'\"]\s*\(")
_PLACEHOLDER = re.compile(r"^\s*[\w$@#-]+(?:\s*\.\s*[\w$-]+)*\s*(?:\|\s*\w+\s*)?$")
_DIRECTIVE = re.compile(
    r"""<\#(?:assign|import|include|macro|function|list|setting)\b[^>]{0,200}(?:\?new|\?api|execute|object)
       |\?new\s*\(\s*\)|\#set\s*\(\s*\$\w+\s*=[^)]{0,200}(?:\$class|getclass|runtime|\.forname)
       |\$class\.inspect|\{php\}|\{/?literal\}|\#\#\s*\$|\$\{\s*t\s*\(
       |\{\{\s*[^}]{0,80}\.constructor\s*\.\s*constructor
       |\#set\s*\(\s*\$\w+\s*=\s*\d+\s*[-+*/%]\s*\d+\s*\)  # Velocity arithmetic probe #set($x=7*7)
       |\$[a-z_][\w.]{0,80}\.\s*(?:getclass|forname|getruntime)\s*\(  # Velocity reference into reflection
       |@system\.(?:diagnostics|io|net|reflection|environment)\.[\w.]{1,80}\(  # Razor call into .NET""",
    re.VERBOSE,
)
# Freemarker assignments in either syntax (``<#assign x=...>``, ``[#assign x=...]``): the body is
# judged like an expression's, so ``<#assign cl=article.class.protectionDomain.classLoader>`` counts
# and ``<#assign total=0>`` does not.
_FREEMARKER_ASSIGN = re.compile(r"[<\[]\#(?:assign|global|local)\b([^>\]]{0,300})")
# Freemarker special variables start with a dot (``${.version}``, ``${.current_template_name}``).
_FREEMARKER_SPECIAL = re.compile(r"^\s*\.[a-z_]\w*")
# Statement tags that read other templates or dump the context (Jinja/Django/Twig/Pebble).
# ``include``/``extends`` are left out: tutorials quote ``{% include 'header.html' %}`` all the time.
_DISCLOSING_STATEMENT = re.compile(r"^\s*(?:debug|import|from\s+\S+\s+import|load|ssi)\b")
# An assignment inside an output expression (``{{x=Object}}``, ``{{w.type="pipe"}}``): code, not
# a placeholder; ``==``, ``=>`` and ``=~`` are comparisons and arrows.
_ASSIGNMENT = re.compile(r"[\w\])]\s*=(?![=~>])")
# Ruby command substitution inside ERB/Slim (```id```, ``%x|env|``).
_RUBY_SHELL = re.compile(r"`[^`]{1,200}`|%x[|({\[]")
# The body of a Perl dereference block (``@{$ref}``, ``@{ $obj->aliases() }``, ``@{&rgb($c)}``,
# ``@{[ $n + 1 ]}``): it starts with a sigil or an anonymous array, which no Thymeleaf link
# (``@{/order(id=...)}``) or selection (``*{name}``) expression does.
_PERL_DEREFERENCE = re.compile(r"\s*[$&\\\[]")
# Template openers of different engines packed together: the fuzzing polyglot ``${{<%[%'"}}%\.``
# that probes which engine renders: three distinct kinds starting within six characters (the
# placeholders of a syntax comparison, "#{a} ${b} {{c}}", are further apart).
# (a lookahead, so the overlapping "${" and "{{" of "${{" both count)
_OPENER = re.compile(r"(?=(\$\{|\{\{|<%|\#\{|\[%|\{%|\*\{))")
_POLYGLOT_SPAN = 6
_SSI = re.compile(
    r"<!--\s*\#\s*(?:(?:exec|include|echo|config|fsize|flastmod|set|if|elif)\s+[a-z]+\s*=|printenv\b)"
)


_JS_TEMPLATE_REACH: Final = 200  # how far along its line a template literal's backticks are looked for


def _in_js_template(text: str, start: int, end: int) -> bool:
    """True when the ``${...}`` at ``start:end`` lies inside a JavaScript template literal the value holds.

    ``console.log(`STATUS: ${res.statusCode()}`)``, ``new Client(`http://localhost:${server.address().port}`)``:
    an unpaired backtick before it and a backtick after it on the same line. That is source code
    quoting a template literal, not a value handed to a template engine; its calls
    (``line.trim()``) are the program's own. Arithmetic and runtime access inside it still count.
    """
    reach = max(0, start - _JS_TEMPLATE_REACH)
    line_start = max(reach, text.rfind("\n", reach, start) + 1)
    if text.count("`", line_start, start) % 2 == 0:
        return False
    stop = text.find("\n", end, end + _JS_TEMPLATE_REACH)
    return text.find("`", end, stop if stop >= 0 else end + _JS_TEMPLATE_REACH) >= 0


class SstiDetector:
    """Detects server-side template injection; see the module docstring."""

    name = "ssti"
    triggers: tuple[str, ...] = ("{{", "${", "#{", "*{", "@{", "~{", "<%", "{%", "@(", "{php", "{system", "<#",
                                 "[#", "[=", "?new", "#set", "$class", "{exec", "{passthru", "{shell_exec", "{$smarty",
                                 # a Velocity reference going into reflection
                                 ".getclass(", ".forname(", ".getruntime(", "@system.",
                                 # Smarty/Latte tags calling PHP functions or static methods
                                 "{popen", "{proc_open", "{pcntl_exec", "{eval", "{assert", "{chr", "{include",
                                 "{require", "{readfile", "{file_", "{fopen", "{phpinfo", "{call_user_func",
                                 "{base64_decode", "{implode", "::",
                                 # the Velocity "##$" directive; "## $" is its spaced form as the
                                 # prefilter's compact text shows it (whitespace runs collapsed)
                                 "##$", "## $", "<!--#", "<!-- #")

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring."""
        text = value.lower
        best = self._structural(text)
        if best is None:
            best = self._expressions(text)
        if best is None or best[0] > paranoia:
            return []
        level, rule, message, start = best
        return [Finding(self.name, rule, message, "critical", location, text[max(0, start - 10):][:60], level)]

    @staticmethod
    def _structural(text: str) -> tuple[int, str, str, int] | None:
        """SSI and engine directives, Freemarker assignments, delimiter polyglots (all paranoia 1)."""
        ssi = _SSI.search(text) if "<!--" in text else None
        if ssi is not None:
            return (1, "ssti-ssi", "a server-side include directive", ssi.start())
        directive = _DIRECTIVE.search(text)
        if directive is not None:
            return (1, "ssti-directive", "a template engine directive that creates objects or runs code",
                    directive.start())
        if "#" in text:
            for count, assign in enumerate(_FREEMARKER_ASSIGN.finditer(text)):
                if count >= MAX_EXPRESSIONS:
                    break
                body = assign.group(1)
                if _DANGEROUS.search(body) or _CALL.search(body) or _ARITHMETIC.search(body):
                    return (1, "ssti-directive", "a Freemarker assignment that reaches into the runtime",
                            assign.start())
        starts: list[tuple[int, str]] = []
        for count, opener in enumerate(_OPENER.finditer(text)):
            if count >= MAX_EXPRESSIONS:
                break
            starts.append((opener.start(), opener.group(1)))
            kinds = {kind for at, kind in starts if opener.start() - at <= _POLYGLOT_SPAN}
            if len(kinds) >= 3:
                return (1, "ssti-expression", "template delimiters of several engines packed together "
                        "(an engine-fingerprinting polyglot)", starts[0][0])
        return None

    def _expressions(self, text: str) -> tuple[int, str, str, int] | None:
        """The strongest delimited expression of ``text``."""
        best: tuple[int, str, str, int] | None = None
        for count, match in enumerate(_EXPRESSION.finditer(text)):
            if count >= MAX_EXPRESSIONS:
                break
            kind = match.lastgroup or ""
            body = match.group(kind) if kind else ""
            if kind == "d" and match.group()[0] in "@*" and _PERL_DEREFERENCE.match(body):
                continue  # Perl's "@{$ref}", "@{ $obj->list() }", "*{$glob}": a dereference, not Thymeleaf
            level = self._level(body, kind)
            if (level == 1 and kind == "b" and _in_js_template(text, match.start(), match.end())
                    and not _ARITHMETIC.search(body) and not _DANGEROUS.search(body)):
                level = 2  # a JavaScript template literal quoted whole: `${res.statusCode()}`
            if level and (best is None or level < best[0]):
                best = (level, "ssti-expression", "a template expression that computes or reaches "
                        "into the runtime", match.start())
                if level == 1:
                    break
        return best

    @staticmethod
    def _level(body: str, kind: str) -> int:
        """1 for computing/runtime-reaching bodies, 2 for other non-trivial bodies, 0 for none.

        ``kind`` is the delimiter's group: ``a`` ``{{ }}``, ``e`` ``<% %>``, ``f`` ``{% %}``,
        ``i`` Smarty's ``{$smarty.…}``, ``j`` a Smarty static call; see :data:`_EXPRESSION`.
        """
        if kind == "i":
            return 1  # {$smarty.version}, {$smarty.template_object}: the engine's own internals
        if kind in ("b", "k") and _FREEMARKER_SPECIAL.match(body):
            return 1  # ${.version}, ${.data_model}: Freemarker's special variables
        if kind == "j":
            # {Smarty_Internal_Write_File::writeFile(...passthru...)}; C++'s brace initialiser
            # ``{std::move(x)}`` has the same shape but reaches nothing dangerous.
            return 1 if _DANGEROUS.search(body) else 0
        # "{{= x}}" (lodash/doT interpolate) and "{{- x}}" (escape) are the same expression as "{{x}}"
        stripped = body.strip().lstrip("=-").strip()
        if not stripped:
            return 0
        if _ARITHMETIC.search(stripped) or _DANGEROUS.search(stripped) or _CALL.search(stripped):
            return 1
        if kind == "e" and _RUBY_SHELL.search(stripped):
            return 1
        if kind == "a" and _ASSIGNMENT.search(stripped):
            return 1
        if kind == "f" and _DISCLOSING_STATEMENT.match(stripped):
            return 1
        if _PLACEHOLDER.match(stripped):
            return 0
        return 2


DETECTOR = SstiDetector()
