"""SQL injection: a SQL tokenizer tried in each quoting context the value could land in.

How it thinks (the idea of libinjection, our own implementation): an application pastes the
value into a query at one spot, as a number (``WHERE id = <v>``), inside a single-quoted string
(``'<v>'``), inside a double-quoted one (``"<v>"``) or inside a MySQL backtick-quoted name
(``ORDER BY `<v>` ``; only when the text before the first backtick has no blank, as an
identifier has none: a man page's `` `quoting' `` is prose). For each context the value is
tokenized the way the database would read it: in a quoted context the value's text up to the
first unescaped matching quote is just string content; whatever follows is SQL. The detector
then reads the token sequence that follows that *breakout point*:

- ``' or 'a'='a``, ``1 or 1=1``, ``' and 526=527``, ``x' or sleep(5)`` — a logical operator
  and a comparison (or a boolean function) after the breakout: a tautology/boolean probe;
- ``' union all select null--``, ``1) union select ...`` — UNION SELECT after the breakout;
- ``1; DROP TABLE articles; --``, ``'; exec xp_cmdshell ...`` — a stacked statement;
- ``admin'--``, ``1')#`` — a comment that cuts the rest of the query off;
- ``' order by 3--``, ``' into outfile '...`` — a clause after the breakout; after a number,
  ``WHERE``/``HAVING`` on two constants (``1 WHERE 1=1 AND 1=0``, also behind an alias:
  ``1 AS x WHERE 1=1``);
- ``) when 234 then``, ``' when 1=1 then 1`` — a CASE branch after the breakout;
- `` ` REGEXP``, ``' LIKE`` — a comparison left open for the query's own text to complete;
- ``'+sleep(5)+'``, ``'||(select extractvalue(...))||'`` — an expression with a dangerous
  function or subquery;
- ``1 ELT(4821=4821,7312)``, ``(4821=4822)*7312``, ``1,IIF(1=1,1,1/0)``, ``(SELECT (CASE WHEN
  (1=1) THEN 1 ELSE 0 END))`` — an SQL call, group or subquery built on a comparison of two
  constants (the boolean oracle of blind injection) glued to, or replacing, the value;
- ``1;IF(1=1) SELECT 1 ELSE DROP FUNCTION x``, ``1;SELECT CASE WHEN 1=1 THEN ...`` — conditional
  logic stacked as a statement of its own;
- ``' or ''-'``, ``or true--`` — arithmetic on empty strings OR-ed in after a quote, and a value
  that opens with a condition and cuts the query off with a bare comment;

and, wherever they appear, time-based and out-of-band functions called like SQL
(``sleep(5)``, ``benchmark(9999999,md5(1))``, ``pg_sleep(5)``, ``waitfor delay '0:0:5'``,
``load_file('\\\\host\\x')``), ``@@version``, UNION SELECT with a select list, and a subquery
opened at the end of the value (``id=(SELECT``) for the query to finish.

English is not SQL: ``O'Reilly``, ``don't``, "select a size", "drop us a line", "union
station" and code fragments in prose do not produce the token sequences above, because after
an apostrophe comes a letter (an identifier, not an operator) and prose words do not chain
into a valid expression.

Short values that are not running text (at most :data:`SHORT_VALUE_CHARS` characters, not a
sentence of eight or more words as :func:`~sealgate.detectors._support.is_prose` defines it):
an id, a token or a name never holds SQL structure, so at paranoia 1 these count too:

- an SQL function call that *is* the value: cut off where the query continues it (``ABS(``,
  ``if (``, ``length||(``), nested or with hex data (``concat(0x22,version())``), a
  server-information call (``version()``), or followed by a comparison, logic or a comment
  (``ascii(substr(user(),1,1))>64``); ``max(3, 4)`` and ``Year (2024)`` are not;
- a logical operator followed by a comparison (``AND 7829=(``, ``or name = "``, ``&&(e===``);
- a number compared with itself after ``WHERE``/``AND``/``OR`` (``WHERE 9896=9896``: the
  arbitrary multi-digit number injection tools use; ``WHERE 1=1`` is an idiom and stays out);
- a value that is an integer-overflow or float-parsing probe (``4294967296``,
  ``2.2250738585072011e-308``; not ``2147483647``);
- a parameter name that continues a condition (``and '5'x``) or is wrapped in SQL quotes
  (`` ?`bla` ``, ``?'bla'``: a quoting probe); MySQL's privilege tables
  (``mysql.user``, ``mysql.db``) as the value or in SQL punctuation;
- a bare tautology (``1=1``, ``11!=1``; ``11=1`` is not), a string comparison the query's own
  quote completes (``'1'='1``), ``x LIKE '``, a value of nothing but mixed quotes (``"'``);
- a subquery (``(select (case ...``), ``select @@version``, a statement with SQL punctuation
  (``ALTER TABLE `t` ...``), a ``FROM t WHERE x=1`` piece, system procedures (``sp_executesql``);
- SQL fragments (below) with SQL punctuation (``=``, backticks, ``;``, quoted strings) that do
  not start with a statement verb or a number: ``SELECT * FROM users WHERE id = 1`` quoted in
  a ticket and ``2e2 == 20 is true`` stay at paranoia 2.

Paranoia 2 adds fragments that only make sense as SQL (a value that *is* ``ORDER BY x``,
``SELECT CHAR(``, ``') AS x FROM``, ``IS NULL``, ``xp_cmdshell``, information schema names)
and weaker breakouts (a bare comment after a number). Paranoia 3 adds
single SQL operators/keywords standing alone as a value (``XOR``, ``<=>``, ``regexp``).

Rule ids: ``sqli-boolean``, ``sqli-union``, ``sqli-stacked``, ``sqli-comment``,
``sqli-clause``, ``sqli-expression``, ``sqli-time``, ``sqli-function``, ``sqli-sysvar``,
``sqli-fragment``, ``sqli-keyword``, ``sqli-numeric-probe``.

Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("1; DROP TABLE articles; --"), "query.id", 1)]
    ['sqli-stacked']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, NamedTuple

from sealgate.detectors._support import is_prose, plain_prose
from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value
from sealgate.detectors.prefilter import probe_texts, trigger_matcher

__all__ = ["DETECTOR", "SqlInjectionDetector", "Token", "tokenize"]

MAX_ANCHORED_CHARS: Final = 4096
"""The breakout analysis reads at most this many characters after the breakout point."""
MAX_TAIL_TOKENS: Final = 96

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

LOGIC: Final = frozenset({"and", "or", "xor", "&&", "||"})
OPERATOR_WORDS: Final = frozenset(
    {"like", "rlike", "regexp", "is", "in", "between", "div", "mod", "sounds", "collate", "glob",
     "similar", "ilike", "escape", "not"}
)
UNION_WORDS: Final = frozenset({"union", "intersect", "except", "minus"})
STATEMENTS: Final = frozenset(
    {"select", "insert", "update", "delete", "drop", "create", "alter", "truncate", "exec",
     "execute", "declare", "waitfor", "shutdown", "grant", "revoke", "rename", "merge", "call",
     "set", "load", "replace", "handler", "backup", "restore", "kill", "dbcc", "bulk",
     "prepare", "deallocate", "open", "fetch", "begin", "commit", "rollback", "lock", "unlock",
     "show", "use", "describe", "desc", "with", "values", "if", "while", "do", "print", "raiserror"}
)
CLAUSES: Final = frozenset(
    {"from", "where", "group", "order", "by", "having", "limit", "offset", "into", "outfile",
     "dumpfile", "procedure", "analyse", "analyze", "as", "on", "join", "inner", "outer",
     "cross", "natural", "using", "case", "when", "then", "else", "end", "distinct", "all",
     "any", "some", "exists", "table", "database", "schema", "top", "asc", "delay", "time",
     "for", "xml", "path", "returning", "union", "straight_join", "sql_calc_found_rows",
     "immediate", "char", "varchar", "nvarchar"}
)
LITERAL_WORDS: Final = frozenset(
    {"null", "true", "false", "unknown", "current_user", "current_date", "current_time",
     "current_timestamp", "session_user", "system_user", "localtime", "localtimestamp"}
)
DANGEROUS_FUNCTIONS: Final = frozenset(
    {"sleep", "benchmark", "pg_sleep", "pg_sleep_for", "pg_sleep_until", "randomblob",
     "load_file", "extractvalue", "updatexml", "xmltype", "receive_message", "sys_eval",
     "sys_exec", "xp_cmdshell", "xp_dirtree", "xp_regread", "xp_fileexist", "xp_servicecontrol",
     "openrowset", "opendatasource", "openquery", "get_host_address", "get_host_name",
     "request", "lo_import", "lo_export", "pg_read_file", "pg_ls_dir", "dblink",
     "copy_file", "name_const", "make_set", "geometrycollection", "multipoint",
     "polygon", "linestring", "multipolygon", "multilinestring", "gtid_subset", "json_keys",
     "exp", "utl_http", "utl_inaddr", "dbms_pipe", "dbms_lock", "ctxsys", "drithsx"}
)
"""Functions whose call is itself the attack (delays, file and network access, error oracles)."""
TIME_FUNCTIONS: Final = frozenset({"sleep", "benchmark", "pg_sleep", "pg_sleep_for", "randomblob"})
SQL_FUNCTIONS: Final = frozenset(
    {"abs", "ascii", "bin", "cast", "char", "chr", "coalesce", "compress", "concat",
     "concat_ws", "conv", "convert", "count", "cos", "database", "date", "db_name", "decode",
     "default", "elt", "encode", "field", "find_in_set", "floor", "format", "group_concat",
     "hex", "if", "ifnull", "iif", "instr", "isnull", "lcase", "left", "length", "len", "ln",
     "locate", "log", "lower", "lpad", "ltrim", "max", "md5", "mid", "min", "minute", "month",
     "now", "nullif", "oct", "ord", "password", "pi", "position", "pow", "power", "quarter",
     "rand", "repeat", "replace", "reverse", "right", "round", "rpad", "rtrim", "schema",
     "schema_name", "sha1", "sha2", "sin", "space", "strcmp", "substr", "substring", "sum",
     "sysdate", "time", "trim", "ucase", "uncompress", "unhex", "upper", "user", "uuid",
     "values", "version", "year", "char_length", "to_char", "user_name", "current_user",
     "system_user", "session_user", "insert", "local", "day", "avg", "sqrt", "ceil", "ceiling",
     "datalength", "str", "nchar", "unicode", "quotename", "stuff", "object_name", "host_name",
     "suser_name", "is_srvrolemember", "has_dbaccess", "@@version", "connection_id",
     "last_insert_id", "row_count", "found_rows", "crc32", "aes_encrypt", "aes_decrypt",
     "to_base64", "from_base64", "json_extract", "regexp_substr", "regexp_like", "xmlelement",
     "xmlagg", "string_agg", "array_agg", "listagg", "pg_read_file", "current_database",
     "current_schema", "inet_server_addr", "getdate", "sysdatetime", "tan", "atan", "sign",
     "mod", "truncate", "rownum"} | DANGEROUS_FUNCTIONS
)
SYSTEM_OBJECTS: Final = frozenset(
    {"information_schema", "pg_catalog", "pg_shadow", "pg_user", "pg_database", "sysobjects",
     "syscolumns", "sysdatabases", "sysusers", "sys", "mysql", "msdb", "tempdb", "master",
     "msysaccessobjects", "msysobjects", "msysqueries", "msysrelationships", "all_tables",
     "user_tables", "all_tab_columns", "user_tab_columns", "dba_users", "v$version",
     "sqlite_master", "sqlite_schema", "northwind", "pg_tables", "sys.objects", "dual"}
)
"""Catalog names that only an attacker mapping the database asks about."""
_MYSQL_GRANT_TABLE = re.compile(r"(?<![\w.])mysql\.(?:user|db|tables_priv|columns_priv|procs_priv|proxies_priv|proc"
                                r"|func|global_grants)(?![\w.])")
"""MySQL's privilege tables (``mysql.user`` holds the password hashes): catalog, like the above."""
_CATALOG_TABLES: Final = frozenset(
    {"information_schema", "pg_catalog", "pg_shadow", "sysobjects", "syscolumns", "msysaccessobjects",
     "msysobjects", "msysqueries", "sqlite_master", "all_tab_columns", "user_tab_columns", "dba_users"}
)

# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------

# Token types (one character each, so sequences read as short strings):
#   s string  1 number/literal  n identifier  v variable  f function name (word before "(")
#   & logical  o operator  U union  E statement  k clause keyword  c comment (to the end)
#   ( ) , ; .  and x for anything else.
_TOKEN = re.compile(
    r"""
    (?P<ws>[\s\x00-\x1f\xa0]+|/\*!\d*|\*/|/\*.*?\*/)
   |(?P<bcomment>/\*.*)
   |(?P<lcomment>(?:--|\#)[^\n]*)
   |(?P<sq>'(?:[^']|'')*'?)
   |(?P<dq>"(?:[^"]|"")*"?)
   |(?P<bq>`[^`]*`?)
   |(?P<num>0x[0-9a-f]+|0b[01]+|(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)
   |(?P<var>@@?[\w$.]*|@`[^`]*`?)
   |(?P<word>[^\W\d][\w$]*)
   |(?P<op><=>|<>|!=|>=|<=|==|:=|::|\|\||&&|<<|>>|[-+*/%^|&~!=<>])
   |(?P<punct>[(),;.])
   |(?P<other>.)
    """,
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)


class Token(NamedTuple):
    """One SQL token: its type character (see the table in the source), text and offset."""

    type: str
    text: str
    start: int


def tokenize(text: str, limit: int = 10_000) -> list[Token]:
    """Tokenize ``text`` as SQL, at most ``limit`` tokens; whitespace dropped, words classified."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        group = match.lastgroup
        raw = match.group()
        if group == "ws":
            continue
        if group in ("bcomment", "lcomment"):
            tokens.append(Token("c", raw, match.start()))
        elif group in ("sq", "dq"):
            tokens.append(Token("s", raw, match.start()))
        elif group == "bq":
            tokens.append(Token("n", raw, match.start()))
        elif group == "num":
            tokens.append(Token("1", raw, match.start()))
        elif group == "var":
            tokens.append(Token("v", raw, match.start()))
        elif group == "word":
            tokens.append(Token(_word_type(raw.lower()), raw, match.start()))
        elif group == "op":
            tokens.append(Token("&" if raw in ("||", "&&") else "o", raw, match.start()))
        elif group == "punct":
            tokens.append(Token(raw, raw, match.start()))
        else:
            tokens.append(Token("x", raw, match.start()))
        if len(tokens) >= limit:
            break
    return _mark_functions(tokens)


def _word_type(word: str) -> str:
    if word in LOGIC:
        return "&"
    if word in OPERATOR_WORDS:
        return "o"
    if word in LITERAL_WORDS:
        return "1"
    if word in UNION_WORDS:
        return "U"
    if word in STATEMENTS:
        return "E"
    if word in CLAUSES:
        return "k"
    return "n"


def _mark_functions(tokens: list[Token]) -> list[Token]:
    """A word directly followed by ``(`` is a function call (``count(``, ``sleep (``)."""
    for i in range(len(tokens) - 1):
        tok = tokens[i]
        if tokens[i + 1].type == "(" and tok.type in "nEko1" and tok.text[:1].isalpha():
            word = tok.text.lower()
            if tok.type == "n" or word in SQL_FUNCTIONS:
                tokens[i] = Token("f", tok.text, tok.start)
    return tokens


# --------------------------------------------------------------------------------------------
# Expression reading
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Expr:
    """What an expression read from a token stream contained."""

    end: int = 0
    logic: bool = False
    comparison: bool = False
    literal_comparison: bool = False
    constant_comparison: bool = False
    """``4821=4821``, ``'a'='a'``: one literal compared with another, as the expression's first
    operator (``2+2=4`` is arithmetic). No query the application builds compares two constants:
    it is how a boolean oracle (a tautology or its false twin) is planted."""
    arithmetic: bool = False
    functions: tuple[str, ...] = ()
    subquery: bool = False
    atoms: int = 0
    literals: int = 0
    numbers: int = 0
    identifiers: int = 0
    prose: bool = False


_CMP_TEXT: Final = frozenset(
    {"=", "==", "<", ">", "<=", ">=", "<>", "!=", "<=>", "like", "rlike", "regexp", "is", "in",
     "between", "sounds", "glob", "ilike", "similar", "not"}
)
_PROSE_OPERATORS: Final = frozenset({"is", "in", "not"})
"""Comparison words that are English words too: ``'not`` alone is no open comparison."""
_PROSE_STRING = re.compile(r"[.,:;!?] [a-z]|(?:\S+ ){3}\S", re.IGNORECASE)
_CONSTANT_CMP: Final = frozenset({"=", "<", ">", "<=", ">=", "<>", "!=", "<=>", "like"})
"""The comparisons a constant comparison uses (SQL's, not ``==`` of the languages prose quotes)."""
_UNARY: Final = frozenset({"-", "+", "!", "~", "not", "binary"})
_TERMINATORS: Final = frozenset("c;U)")


class _Reader:
    """A lenient recursive-descent reader for SQL expressions over a token list."""

    __slots__ = ("depth", "toks")

    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks
        self.depth = 0

    def at(self, i: int) -> str:
        return self.toks[i].type if i < len(self.toks) else ""

    def low(self, i: int) -> str:
        return self.toks[i].text.lower() if i < len(self.toks) else ""

    def primary(self, i: int, info: _Expr) -> int:
        """Read one operand at ``i``; return the index after it, or -1 when there is none."""
        n = len(self.toks)
        while i < n and (self.low(i) in _UNARY and self.at(i) in "on"):
            i += 1
        if i >= n:
            return i  # truncated payload: the application's own text completes it
        kind = self.at(i)
        if kind in "s1":
            info.atoms += 1
            info.literals += 1
            if kind == "1":
                info.numbers += 1
            elif _PROSE_STRING.search(self.toks[i].text) is not None:
                info.prose = True  # "'. Parentheses are supported, and '": quoted words in prose
            return i + 1
        if kind in "nv":
            info.atoms += 1
            info.identifiers += 1
            j = i + 1
            while self.at(j) == "." and self.at(j + 1) in "nf":  # schema.table.column
                j += 2
                if self.at(j - 1) == "f":
                    return self.call(j - 1, info)
            return j
        if kind == "f":
            return self.call(i, info)
        if kind == "k" and self.low(i) == "case":
            return self.case(i, info)
        if kind == "k" and self.low(i) == "exists" and self.at(i + 1) == "(":
            return self.group(i + 1, info)
        if kind == "(":
            return self.group(i, info)
        if kind == "E" and self.low(i) == "select":
            info.subquery = True
            return self.select(i, info)
        return -1

    def call(self, i: int, info: _Expr) -> int:
        info.functions = (*info.functions, self.low(i))
        info.atoms += 1
        return self.parens(i + 1, info)

    def group(self, i: int, info: _Expr) -> int:
        info.atoms += 1
        if self.at(i + 1) == "E" and self.low(i + 1) == "select":
            info.subquery = True
        return self.parens(i, info)

    def parens(self, i: int, info: _Expr) -> int:
        """Read ``( expr, expr ... )`` starting at the ``(``; tolerate a truncated end."""
        if self.at(i) != "(":
            return i
        if self.depth > 24:
            return -1
        self.depth += 1
        try:
            j = i + 1
            if self.at(j) == ")":
                return j + 1
            while j < len(self.toks):
                if self.at(j) == "E" and self.low(j) == "select":
                    info.subquery = True
                    j = self.select(j, info)
                elif self.at(j) == "o" and self.low(j) == "*":
                    j += 1
                else:
                    sub = self.expression(j)
                    if sub.end < 0:
                        return -1
                    _merge(info, sub)
                    j = sub.end
                    if self.low(j) == "as":
                        j += 2
                    elif self.at(j) in ("k", "n") and self.low(j) in ("from", "using", "for", "separator"):
                        j += 1
                        continue
                if self.at(j) == ",":
                    j += 1
                    continue
                if self.at(j) == ")":
                    return j + 1
                if j >= len(self.toks):
                    return j
                return -1
            return j
        finally:
            self.depth -= 1

    def case(self, i: int, info: _Expr) -> int:
        """Skip ``CASE ... END``, noting a constant comparison among its conditions."""
        j = i + 1
        n = len(self.toks)
        while j < n and self.low(j) != "end":
            if self.at(j) == "o" and self._constant_comparison_at(j):
                # "CASE WHEN 4821=4822 THEN 1 ELSE NULL END": a branch picked by two constants.
                info.constant_comparison = info.literal_comparison = info.comparison = True
            j += 1
        info.atoms += 1
        return j + 1 if j < n else j

    def select(self, i: int, info: _Expr) -> int:
        """Skip a (sub)select up to its closing parenthesis or the end."""
        depth = 0
        j = i + 1
        n = len(self.toks)
        while j < n:
            kind = self.at(j)
            if kind == "(":
                depth += 1
            elif kind == ")":
                if depth == 0:
                    return j
                depth -= 1
            elif kind == "f":
                info.functions = (*info.functions, self.low(j))
            elif kind in ";c" and depth == 0:
                return j
            elif kind == "o" and self._constant_comparison_at(j):
                info.constant_comparison = info.literal_comparison = info.comparison = True
            j += 1
        return j

    def _constant_comparison_at(self, j: int) -> bool:
        """``<literal> <cmp> <literal>`` around ``j``, the literal on the left not an arithmetic result."""
        return (self.low(j) in _CONSTANT_CMP and j >= 1 and self.at(j - 1) in ("1", "s")
                and self.at(j + 1) in ("1", "s") and (j < 2 or self.at(j - 2) not in ("o", "1", "s")))

    def expression(self, i: int) -> _Expr:
        """Read ``operand (operator operand)*``; ``end`` is -1 when no operand starts at ``i``."""
        info = _Expr()
        j = self.primary(i, info)
        if j < 0:
            info.end = -1
            return info
        single = j == i + 1 and self.at(i) in ("1", "s")
        return self.continuation(j, info, first_literal=info.literals > 0, single_literal=single)

    def continuation(self, j: int, info: _Expr, first_literal: bool = False, single_literal: bool = False) -> _Expr:
        """Read ``(operator operand)*`` from ``j`` into ``info``.

        ``single_literal``: the operand before ``j`` is one literal token (for a constant comparison).
        """
        n = len(self.toks)
        left_literal = first_literal
        first_operator = True
        while j < n:
            kind = self.at(j)
            word = self.low(j)
            if kind not in "&o":
                break
            if word == "is" and self.at(j + 1) != "1" and self.low(j + 1) != "not":
                break  # "this is useful": IS only compares with NULL/TRUE/FALSE
            if kind == "&":
                info.logic = True
            elif word in _CMP_TEXT:
                info.comparison = True
            else:
                info.arithmetic = True  # "''-''", "1*2": an operand computed from others
            k = j + 1
            while self.at(k) == "o" and self.low(k) in ("not", "like", "-", "+", "!", "~", "binary"):
                k += 1  # "is not", "not like", "sounds like", "= -1"
            if word == "in" and self.at(k) == "(":
                info.comparison = True
            before = info.literals
            nxt = self.primary(k, info)
            if nxt < 0:
                break
            if word in _CMP_TEXT and left_literal and info.literals > before:
                info.literal_comparison = True
                # Both sides one literal token: "4821=4821", not "2+2=4" or "f(0)=1".
                if first_operator and single_literal and word in _CONSTANT_CMP and k == j + 1 and nxt == k + 1:
                    info.constant_comparison = True
            left_literal = info.literals > before
            first_operator = False
            j = nxt
            if word == "between" and self.low(j) == "and":
                j = max(self.primary(j + 1, info), j + 1)
        info.end = j
        return info


def _merge(into: _Expr, sub: _Expr) -> None:
    into.logic |= sub.logic
    into.comparison |= sub.comparison
    into.literal_comparison |= sub.literal_comparison
    into.constant_comparison |= sub.constant_comparison
    into.arithmetic |= sub.arithmetic
    into.functions = (*into.functions, *sub.functions)
    into.subquery |= sub.subquery
    into.atoms += sub.atoms
    into.literals += sub.literals
    into.numbers += sub.numbers
    into.prose |= sub.prose
    into.identifiers += sub.identifiers


# --------------------------------------------------------------------------------------------
# Contexts and rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: str
    message: str
    severity: str
    paranoia: int
    start: int


_STACKED_STRONG: Final = {
    "drop": frozenset({"table", "database", "schema", "view", "procedure", "function", "index",
                       "user", "trigger", "login", "column", "sequence"}),
    "truncate": frozenset({"table"}),
    "insert": frozenset({"into"}),
    "delete": frozenset({"from"}),
    "create": frozenset({"table", "database", "schema", "view", "procedure", "function",
                         "user", "trigger", "login", "or"}),
    "alter": frozenset({"table", "database", "user", "login", "view", "procedure", "system"}),
    "grant": frozenset({"all", "select", "insert", "update", "delete", "execute"}),
    "waitfor": frozenset({"delay", "time"}),
}
_STACKED_ANY_NEXT: Final = frozenset({"shutdown", "exec", "execute", "declare", "update", "select", "set",
                                      "load", "backup", "kill", "dbcc", "call", "revoke", "rename",
                                      "handler", "prepare", "merge", "replace"})
_DANGEROUS_PREFIXES: Final = ("xp_", "sp_", "utl_", "dbms_", "pg_", "lo_", "sys_")


def _stacked(toks: list[Token], i: int) -> str | None:
    """If a statement starts at ``i``, how sure we are: "strong", "weak" or None."""
    if i >= len(toks):
        return None
    word = toks[i].text.lower()
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    nxt_word = nxt.text.lower() if nxt else ""
    if word in _STACKED_STRONG:
        return "strong" if nxt_word in _STACKED_STRONG[word] else None
    if word in ("exec", "execute"):
        if nxt and (nxt.type == "v" or nxt_word.startswith(_DANGEROUS_PREFIXES) or nxt.type in "(f"
                    or nxt_word in ("master", "immediate")):
            return "strong"
        return "weak" if nxt and nxt.type in "ns" else None
    if word == "declare":
        return "strong" if nxt and nxt.type == "v" else None
    if word == "set":
        return "strong" if nxt and nxt.type == "v" else None
    if word == "shutdown":
        return "strong" if nxt is None or nxt.type in "c;" or nxt_word in ("with", "immediate") else None
    if word == "if":
        return _conditional_statement(toks, i)
    if word == "select":
        if nxt is None:
            return "weak"
        if nxt.type in "1vfs(" or nxt_word in ("*", "null", "@@version", "user", "version"):
            return "strong"
        if nxt_word == "case" and _word_at(toks, i + 2) == "when":
            # "SELECT CASE WHEN (1=1) THEN 1 ELSE 0 END": a boolean oracle as a statement of its
            # own; "select case when needed" has no SQL-shaped condition before a THEN.
            return "strong" if _case_branch(_Reader(toks), i + 2) else None
        if nxt.type == "n":
            return "weak"
        return None
    if word == "update":
        shaped = nxt and nxt.type == "n" and _word_at(toks, i + 2) == "set" and _word_at(toks, i + 4) == "="
        return "strong" if shaped else None
    if word in _STACKED_ANY_NEXT:
        return "weak" if nxt is None or nxt.type in "nv1(" else None
    return None


def _conditional_statement(toks: list[Token], i: int) -> str | None:
    """T-SQL's ``IF <condition> <statement>`` at ``i``: "strong" when the condition is SQL-shaped.

    ``IF(4821=4821) SELECT 7312 ELSE DROP FUNCTION x``: control flow that runs one statement or
    another on a condition the attacker picks (the stacked form of a boolean probe). The
    condition is a comparison or logic and a statement verb follows it; "if (x) do" has neither.
    """
    cond = _Reader(toks).expression(i + 1)  # "IF(" is marked a call: i + 1 is its "(", a group
    if cond.end < 0 or not (cond.comparison or cond.logic or cond.constant_comparison):
        return None
    if cond.constant_comparison:
        return "strong"
    nxt = toks[cond.end] if cond.end < len(toks) else None
    if nxt is not None and nxt.type == "E" and (nxt.text.lower() in _STRICT_VERBS or nxt.text.lower() == "begin"):
        return "strong"
    return None


_ALIASED_CLAUSES: Final = frozenset({"where", "from", "order", "group", "having", "limit", "into"})
"""Clauses that may follow ``<value> AS <alias>`` in a select list."""


def _word_at(toks: list[Token], i: int) -> str:
    return toks[i].text.lower() if i < len(toks) else ""


def _union_select(toks: list[Token], i: int) -> bool:
    """``union [all|distinct] [(] select <item>`` starting at ``i``."""
    if _word_at(toks, i) not in UNION_WORDS:
        return False
    j = i + 1
    if _word_at(toks, j) in ("all", "distinct"):
        j += 1
    while j < len(toks) and toks[j].type == "(":
        j += 1
    if _word_at(toks, j) not in ("select", "values"):
        return False
    return j + 1 >= len(toks) or toks[j + 1].type in "1snvf(o" or _word_at(toks, j + 1) in (
        "all", "distinct", "top", "null", "*")


class _Analysis:
    """Applies the breakout rules to the tokens of one context."""

    __slots__ = ("hits", "quote", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.quote = ""
        self.hits: list[_Hit] = []

    def add(self, rule: str, message: str, severity: str, paranoia: int, start: int) -> None:
        self.hits.append(_Hit(rule, message, severity, paranoia, start))

    def breakout(self, toks: list[Token], i: int, strength: str, offset: int) -> None:
        """Apply the rules to the tokens after a breakout at index ``i``.

        ``strength``: "quote" (a string was closed), "number" (a number came first),
        "word" (an identifier came first), "none" (the value starts with SQL itself).
        """
        n = len(toks)
        closed_parens = 0
        while i < n and toks[i].type == ")":
            i += 1
            closed_parens += 1
        if i >= n:
            return
        first = toks[i]
        pos = first.start + offset
        strong = strength == "quote" or strength == "number" or closed_parens > 0
        if closed_parens and strength in ("none", "word"):
            strength = "number"  # ") or (1=1": the value closed a parenthesis of the query
        reader = _Reader(toks)

        # Comment straight after the breakout: the rest of the query is cut off.
        if first.type == "c" or (first.type == ";" and (i + 1 >= n or toks[i + 1].type == "c")):
            comment = toks[i].text if first.type == "c" else toks[i + 1].text if i + 1 < n else ""
            if not comment and strength != "quote":
                return  # "5;" ends a statement, nothing more
            if _CLI_OPTION.match(comment):
                return  # '" --format=json': a command-line option after a quoted argument
            quoted_word = strength == "quote" and self.quote in comment and not closed_parens
            if strength == "quote" and not quoted_word and (first.type == "c" or closed_parens or i + 1 < n):
                self.add("sqli-comment", "a quote closes the string and a comment cuts off the query",
                         "critical", 1, pos)
            elif (strength == "quote" and not quoted_word) or closed_parens:
                self.add("sqli-comment", "a quote closes the string and the query ends", "critical", 2, pos)
            elif strength == "number" and not comment.startswith("#"):
                self.add("sqli-comment", "a comment cuts off the query after a number", "critical", 2, pos)
            return

        # The value starts with a statement (``DROP sampletable;--``), or one follows a quote.
        if first.type == "E" and strength in ("none", "quote"):
            confidence = _stacked(toks, i)
            ends = toks[-1].type in "c;"
            if strength == "none" and ends and (confidence == "strong" or (
                    toks[-1].type == "c" and n >= 2 and toks[-2].type == ";" and n <= 12
                    and first.text.lower() in _STRICT_VERBS)):
                self.add("sqli-stacked", "the value is a complete SQL statement", "critical", 1, pos)
            elif confidence is not None and n - i >= 2 and (confidence == "strong" or ends or n - i <= 4):
                self.add("sqli-stacked", "the value holds an SQL statement", "critical", 2, pos)
            elif strength == "quote" and first.text.lower() in _STRICT_VERBS and n - i <= 3:
                self.add("sqli-stacked", "a statement keyword follows a closing quote", "critical", 2, pos)
            return

        # Stacked statement.
        if first.type == ";":
            j = i + 1
            confidence = _stacked(toks, j)
            if confidence == "strong":
                severity, level = ("critical", 1) if strength != "none" or j < n else ("critical", 2)
                self.add("sqli-stacked", "a second SQL statement is stacked after the value", severity,
                         level, pos)
            elif confidence == "weak":
                self.add("sqli-stacked", "a second SQL statement may be stacked after the value",
                         "critical", 1 if strong else 2, pos)
            elif j < n and toks[j].type == "E" and toks[j].text.lower() in _STRICT_VERBS:
                self.add("sqli-stacked", "a statement keyword follows a semicolon", "critical", 2, pos)
            elif j < n and toks[j].type in "f(" and strength != "word":
                self._constant_call(reader, toks, j, pos)  # ";IIF(1=1,1,1/0)": a stacked oracle
            return

        # Another list item: "1,(SELECT (CASE WHEN (1=1) ...))", "1,IIF(1=1,1,1/0)" continue the
        # ORDER BY / GROUP BY / select list the value sits in with a boolean oracle.
        if first.type == "," and strong and i + 1 < n and toks[i + 1].type in "f(":
            self._constant_call(reader, toks, i + 1, pos)
            return

        # UNION SELECT.
        if first.type == "U":
            if _union_select(toks, i):
                self.add("sqli-union", "UNION SELECT after the value", "critical", 1, pos)
            elif strength in ("quote", "number") or closed_parens:
                self.add("sqli-union", "UNION after the value", "critical", 2, pos)
            return

        # A clause: ' order by 3--, ' into outfile, ' group by x having 1=1, ' limit 1.
        if first.type == "k" and first.text.lower() in (
            "order", "group", "having", "limit", "into", "procedure", "where", "from", "offset", "as"
        ):
            word = first.text.lower()
            if word == "as" and strong and _word_at(toks, i + 2) in _ALIASED_CLAUSES and (
                    i + 1 < n and toks[i + 1].type in "ns"):
                # "1 AS INJECTX WHERE 1=1": the value aliased as a select-list item, then a clause.
                # Only what the clause rules are sure of counts: "1 as needed where indicated" is
                # a dosage, and its weak clause shape no evidence.
                before = len(self.hits)
                self.breakout(toks, i + 2, strength, offset)
                self.hits[before:] = [h for h in self.hits[before:] if h.paranoia == 1]
                return
            if word in ("where", "having") and strong:
                cond = reader.expression(i + 1)
                if cond.end >= 0 and cond.constant_comparison and _terminated(toks, cond.end):
                    # "1 WHERE 1=1 AND 1=0": a condition on two constants, the query's answer
                    # turned into a yes/no oracle; "Section 1 WHERE clause" compares nothing.
                    self.add("sqli-boolean", f"a {word.upper()} clause with a constant condition follows the value",
                             "critical", 1, pos)
                    return
            follow = toks[i + 1 : i + 4]
            shaped = (
                (word in ("order", "group") and _word_at(toks, i + 1) == "by")
                or (word == "into" and _word_at(toks, i + 1) in ("outfile", "dumpfile"))
                or (word == "procedure" and _word_at(toks, i + 1) == "analyse")
                or (word in ("limit", "offset") and follow[:1] and follow[0].type == "1")
                or (word == "having" and len(follow) > 1 and follow[1].type == "o")
                or (word in ("where", "from") and strong and (n - i <= 4 or toks[-1].type in "c;"))
            )
            if not shaped:
                return
            ends = toks[-1].type in "c;" or word in ("into", "procedure", "having")
            if strong and ends:
                self.add("sqli-clause", f"a {word.upper()} clause is appended after the value",
                         "critical", 1, pos)
            elif strong or ends:
                self.add("sqli-clause", f"a {word.upper()} clause follows the value", "critical", 2, pos)
            return

        # A CASE branch: ") when 234 then", "' when 1=1 then 1 else 0 end".
        if first.type == "k" and first.text.lower() == "when" and strong and _case_branch(reader, i):
            self.add("sqli-expression", "the value continues a CASE expression", "critical", 1, pos)
            return

        # An operator continuing the expression: tautologies, boolean probes, concatenations.
        if first.type in "&o":
            if strength == "quote" and i + 1 == n and first.text.lower() in _CMP_TEXT - _PROSE_OPERATORS:
                # "` REGEXP ", "' LIKE ": the string is closed and the query's own text becomes
                # the right operand.
                self.add("sqli-boolean", "a quote closes the string and leaves a comparison open",
                         "critical", 1, pos)
                return
            info = reader.continuation(i, _Expr())
            end = info.end
            terminated = _terminated(toks, end)
            dangerous = [f for f in info.functions if _is_dangerous(f)]
            if info.subquery or dangerous:
                self.add("sqli-expression", "the value continues the query with a subquery or "
                         "a dangerous function", "critical", 1, pos)
                return
            if info.atoms == 0 or info.prose:
                return
            if info.logic and (info.comparison or info.numbers or info.functions):
                if strength == "quote" or (strength == "number" and (info.comparison or info.functions)):
                    level = 1 if terminated or (strength == "quote" and info.comparison) else 2
                    self.add("sqli-boolean", "a boolean condition is appended after the value",
                             "critical", level, pos)
                elif info.literal_comparison and terminated:
                    self.add("sqli-boolean", "a tautology is appended after the value", "critical",
                             1 if closed_parens or strength == "word" else 2, pos)
                elif strength == "number" and terminated and any(
                        t.text.lower() in ("true", "false") for t in toks[i:end]):
                    # "1 or true" / "1 and false": the boolean-blind pair ("1 or 2" is a choice).
                    self.add("sqli-boolean", "a boolean constant is combined with the value", "critical", 1, pos)
                elif strength == "none" and first.type == "&" and end == n - 1 and toks[end].type == "c" and (
                        _bare_comment(toks[end].text)):
                    # "or true--", "and 1=1#": the value opens with a condition for the query's own
                    # WHERE and comments out the rest of it; a remark in words after "--" is prose.
                    self.add("sqli-boolean", "a condition is appended and the rest of the query commented out",
                             "critical", 1, pos)
                elif info.comparison and terminated and strength != "word":
                    self.add("sqli-boolean", "a condition is appended after the value", "critical", 2, pos)
                return
            if strength == "quote" and info.logic and info.arithmetic and info.identifiers == 0 and (
                    info.literals >= 2 and terminated):
                # "' or ''-'", "\" or \"\"*\"": OR-ing arithmetic on empty strings, which the database
                # casts to a number: a truth value built from constants alone (an operator bypass
                # of the plain "' or ''='" tautology).
                self.add("sqli-boolean", "a quote closes the string and a constant expression is OR-ed in",
                         "critical", 1, pos)
                return
            if info.comparison and strength == "quote" and terminated:
                self.add("sqli-boolean", "a comparison is appended after a closing quote", "critical", 2, pos)
                return
            if info.functions and strength == "quote" and terminated:
                self.add("sqli-expression", "a function call is appended after a closing quote",
                         "critical", 2, pos)
                return
            if strength == "quote" and (first.type == "&" or first.text.lower() in ("!", "not")) and (
                    terminated and info.atoms):
                # "' and x", "\"!\"": a logical operator (NOT included) applied after the quote.
                self.add("sqli-boolean", "a logical operator follows a closing quote", "critical", 2, pos)
            return

        if first.type in "f(" and strength != "word" and self._constant_call(reader, toks, i, pos):
            return

        # A function call or subquery glued to a closing quote: 'sleep(5)' or ')(select ...
        if strength == "quote" and first.type in "f(" :
            info = reader.expression(i)
            if info.end >= 0 and (info.subquery or any(_is_dangerous(f) for f in info.functions)):
                self.add("sqli-expression", "a subquery or dangerous function follows a closing quote",
                         "critical", 1, pos)

    def _constant_call(self, reader: _Reader, toks: list[Token], i: int, pos: int) -> bool:
        """A call or parenthesized group at ``i`` holding a constant comparison, read to the end.

        ``1 ELT(4821=4821,7312)``, ``1(4821=4821)*7312``, ``IIF(1=1,1,1/0)``,
        ``(SELECT (CASE WHEN (4821=4821) THEN 1 ELSE 0 END) FROM DUAL)``: the parameter replaced
        by (or glued to) an expression whose value hangs on a comparison of two constants, the
        boolean oracle of blind injection. The comparison must sit inside the parentheses (a
        function's result compared with a number, ``f(0)=1``, is a formula), the call be an SQL
        one (``size(1=1)`` is no database's), and the expression run to where the query resumes.
        """
        if toks[i].type == "f" and toks[i].text.lower() not in SQL_FUNCTIONS:
            return False
        inner = _Expr()
        j = reader.primary(i, inner)
        if j < 0 or not inner.constant_comparison or inner.prose:
            return False
        if not _terminated(toks, reader.continuation(j, inner).end):
            return False
        self.add("sqli-boolean", "the value is an expression built on a comparison of two constants",
                 "critical", 1, pos)
        return True


def _terminated(toks: list[Token], end: int) -> bool:
    """The expression read up to ``end`` runs to where the query resumes: the end, a comment, ``;``,
    ``)``, UNION, a trailing clause or the quote the application's query closes."""
    n = len(toks)
    if end >= n:
        return True
    tok = toks[end]
    trailing_quote = end == n - 1 and tok.type == "s" and tok.text[-1:] != tok.text[:1]
    return trailing_quote or tok.type in _TERMINATORS or _union_select(toks, end) or (
        tok.type == "k" and tok.text.lower() in ("order", "group", "limit", "having"))


def _bare_comment(comment: str) -> bool:
    """A comment that only cuts the query off (``--``, ``-- -``, ``#``, ``/*``), not a remark in words."""
    body = comment.lstrip("-#/*").strip()
    return len(body) <= 16 and len(body.split()) <= 1


def _case_branch(reader: _Reader, i: int) -> bool:
    """``WHEN <condition> THEN`` at ``i``, the condition SQL-shaped (a literal, comparison or call).

    "when ready then go" in a quoted phrase is words: an identifier alone is no condition.
    """
    info = reader.expression(i + 1)
    if info.end < 0 or reader.low(info.end) != "then":
        return False
    return info.comparison or info.logic or bool(info.functions) or info.subquery or (
        info.literals > 0 and info.identifiers == 0)


def _is_dangerous(function: str) -> bool:
    return function in DANGEROUS_FUNCTIONS or function.startswith(_DANGEROUS_PREFIXES)


# The third context is a MySQL identifier (``ORDER BY `<v>```, ``SELECT `<v>` FROM``), where a
# backtick closes the name the way a quote closes a string.
_IDENTIFIER_PREFIX = re.compile(r"[^\s`]{0,64}")
_QUOTE_END = {
    "'": re.compile(r"[^']*(?:''[^']*)*'"),
    '"': re.compile(r'[^"]*(?:""[^"]*)*"'),
    "`": re.compile(r"[^`]*(?:``[^`]*)*`"),
}


# Anywhere-rules run over the compact text (lower-case, comments removed, spaces collapsed).
_ANYWHERE = re.compile(
    r"""
    (?P<time>(?:(?<![\w.$])|(?<=['"]\.))(?:sleep|benchmark|pg_sleep(?:_for|_until)?|randomblob)\s?\(\s?[-+(]*\s?\d)
   |(?P<waitfor>waitfor\s(?:delay|time)\s?['"])
   |(?P<tsql>(?<![\w$])(?:declare\s?@@?\w|exec(?:ute)?\s?\(\s?@|procedure\sanalyse\s?\())
   |(?P<func>(?<![\w.$])(?:load_file|extractvalue|updatexml|xmltype|utl_http\.request|utl_inaddr\.\w+
        |dbms_pipe\.receive_message|dbms_lock\.sleep|sys_eval|sys_exec|pg_read_file|lo_import
        |openrowset|opendatasource|xp_cmdshell|xp_dirtree|xp_regread|xp_fileexist|name_const
        |ctxsys\.drithsx\.sn)\s?\()
   |(?P<xp>(?<![\w.$])(?:master\.\.|master\.dbo\.)?xp_(?:cmdshell|dirtree|regread|fileexist|servicecontrol)\b)
   |(?P<union>(?<![\w$])union(?:\s(?:all|distinct))?\s?(?:\(\s?)*select(?:\s|\(|\*|@|\d|'|"|`|$))
   |(?P<sysvar>@@(?:version|datadir|hostname|basedir|tmpdir|servername|language|spid|identity)\b)
   |(?P<outfile>\binto\s(?:out|dump)file\s?['"\\`])
   |(?P<opensub>(?:^|=\s?)\(\s?select\s?$)
    """,
    re.VERBOSE,
)
# Every match of _ANYWHERE contains one of these literals (one per alternative, or one per name
# in it: pg_sleep holds "sleep", sys_exec "exec", utl_http "utl_", dbms_lock "dbms_", the xp_
# names "xp_"). One Aho-Corasick pass over them answers most values in a few µs, where the regex,
# with its lookbehinds tried at every offset, costs ~0.2 ms on a 500-character text.
# tests/detectors/test_fast_paths.py checks the gate against the regex.
_ANYWHERE_LITERALS: Final = (
    "sleep", "benchmark", "randomblob", "waitfor", "declare", "exec", "procedure", "load_file",
    "extractvalue", "updatexml", "xmltype", "utl_", "dbms_", "sys_eval", "pg_read_file", "lo_import",
    "openrowset", "opendatasource", "xp_", "name_const", "ctxsys", "union", "@@", "into", "select",
)
_ANYWHERE_MAY_MATCH = trigger_matcher(_ANYWHERE_LITERALS)
_WORDS_ONLY = re.compile(r"[a-z_][a-z0-9_$]*")
_MYSQL_EXEC_COMMENT = re.compile(
    r"/\*!\d{0,6}\s*(?:select|union|from|where|and|or|having|order|group|limit|sleep|concat|insert|"
    r"update|delete|drop|into|all|null|\d)"
)


_WEAK_KEYWORDS: Final = frozenset(
    {"on", "for", "time", "desc", "end", "do", "with", "use", "show", "set", "open", "call", "if", "all", "any"}
)
"""Keywords that are also everyday English words: no evidence of SQL by themselves."""
_BIGRAMS: Final = frozenset(
    {("order", "by"), ("group", "by"), ("is", "null"), ("is", "not"), ("not", "null"), ("union", "select"),
     ("union", "all"), ("insert", "into"), ("delete", "from"), ("drop", "table"), ("into", "outfile"),
     ("into", "dumpfile"), ("procedure", "analyse"), ("execute", "immediate"), ("select", "*"),
     ("sounds", "like"), ("not", "like"), ("not", "in"), ("alter", "table"), ("create", "table"),
     ("truncate", "table"), ("select", "distinct"), ("select", "top"), ("waitfor", "delay")}
)


_NUMERIC_PROBES: Final = frozenset(
    {"2147483648", "-2147483649", "4294967296", "9223372036854775808", "-9223372036854775809",
     "18446744073709551616", "2.2250738585072011e-308", "2.2250738585072012e-308", "1e309"}
)
"""Whole values that overflow 32/64-bit integers or hang float parsers (PHP/Java ``2.225...e-308``):
a probe of how the database or driver converts the value (CRS 942220). Not the maxima
themselves (``2147483647`` is a common "no limit")."""
_STRICT_VERBS: Final = frozenset(
    {"select", "insert", "update", "delete", "drop", "create", "alter", "truncate", "exec", "execute",
     "declare", "waitfor", "shutdown", "grant", "revoke", "merge"}
)
_SQL_OPERATORS: Final = frozenset({"<=>", "<>", "!=", "||", "&&", "<<", ">>", ">=", "<="})
_STACK_VERBS: Final = (
    "select", "insert", "update", "delete", "drop", "create", "alter", "truncate", "exec",
    "declare", "set", "waitfor", "shutdown", "grant", "revoke", "rename", "merge", "call", "load",
    "backup", "kill", "dbcc", "handler", "prepare", "replace",
)
_TRIGGERS: Final = tuple(
    sorted(
        {
            "'", '"', "`", "--", "#", "/*", "=", "||", "&&", "@@", " or ", " and ", " xor ", "union",
            "select", "sleep", "benchmark", "waitfor", "xp_", "sp_", "exec", "outfile", "dumpfile",
            "order by", "group by", "having", "information_schema", "like", "regexp", "is null",
            "is not", "pg_", "utl_", "dbms_", "msdasql", "northwind", "tempdb", "msdb", "msys",
            "schema", "varchar", "openrowset", "opendatasource", "xor", "<>", "<=>", "!=",
            " from ", "procedure analyse", ">=", "<=", "<<", ">>", "declare",
            "procedure", ") when", "mysql.",
        }
        | _NUMERIC_PROBES
        | {f" {word} " for word in LOGIC | OPERATOR_WORDS | UNION_WORDS}
        | {f"{first} {second}" for first, second in _BIGRAMS}
        | {" as ", "execute", "alter ", "create ", "truncate "}
        | {f";{verb}" for verb in _STACK_VERBS}
        | {f"; {verb}" for verb in _STACK_VERBS}
        | {f"{fn}(" for fn in SQL_FUNCTIONS}
        | {f"{fn} (" for fn in SQL_FUNCTIONS}
        | {"?(", "$(", "!(", "\\(", ". (", ") (", "in(", "in (", "xp_", "utl_", "dbms_", "openrowset"}
    )
)
"""Every value the detector can report on contains one of these (lower-case, see prefilter)."""
_HAS_TRIGGER = trigger_matcher(_TRIGGERS)
# An apostrophe inside a word (O'Brien, don't, l'été) among plain words cannot close a string
# and start SQL: with no other trigger, no SQL keyword and no catalog name, no rule applies.
# This answers the most common trigger hit in clean traffic (names) in a third of the time;
# tests/detectors/test_fast_paths.py checks it against the full analysis.
_LETTER_RUN = re.compile(r"[^\W\d_]+")


def _only_word_apostrophes(value: Value, probe: str) -> bool:
    """True when ``probe``'s only triggers are apostrophes inside plain (non-SQL) words."""
    if "'" not in probe or value.raw != value.decoded:
        return False
    pieces = probe.split("'")  # every apostrophe between two letters (a regex with lookarounds costs 4 µs)
    if not all(piece[-1:].isalpha() for piece in pieces[:-1]) or not all(piece[:1].isalpha() for piece in pieces[1:]):
        return False
    if _HAS_TRIGGER(probe.replace("'", "")):
        return False
    return all(_word_type(word) == "n" and word not in SYSTEM_OBJECTS for word in _LETTER_RUN.findall(value.lower))


_CLI_OPTION = re.compile(r"--[a-z][\w-]*(?:[= ]|$)")
_NEXT_PAIR = re.compile(r"&(?=[\w.\[\]$-]{1,64}=)")
_PARAM_EQUALS = re.compile(r"(?:^|[?&;])[\w.\[\]$-]{1,64}=(?![=])")


def _subvalue_starts(text: str) -> list[int]:
    """Offsets just after the "=" of embedded ``name=value`` pairs (at most six)."""
    starts: list[int] = []
    for match in _PARAM_EQUALS.finditer(text, 0, 4096):
        if text[match.end() - 2 : match.end() - 1] in "!<>":
            continue
        starts.append(match.end())
        if len(starts) >= 6:
            break
    return starts


class SqlInjectionDetector:
    """Detects SQL injection by tokenizing the value in each quoting context."""

    name = "sqli"
    triggers: tuple[str, ...] = _TRIGGERS

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``: see the module docstring for the rules."""
        if _prose_without_sql(value):
            return []  # plain prose that no rule can report: see _prose_without_sql for the proof
        probe = probe_texts(value.raw, value.lower, value.compact)
        if not _HAS_TRIGGER(probe):
            return []  # what the prefilter promises the engine, kept for direct calls too
        if _only_word_apostrophes(value, probe):
            return []
        hits: list[_Hit] = []
        seen: set[str] = set()
        texts = [value.decoded]
        # The raw form too when a decoding layer changed it: ``%27`` may be data, not a quote.
        if value.raw != value.decoded and len(value.raw) <= MAX_ANCHORED_CHARS:
            texts.append(value.raw)
        for text in texts:
            if text in seen:
                continue
            seen.add(text)
            hits.extend(self._analyse(text, paranoia))
            if any(h.paranoia <= min(paranoia, 1) and h.severity == "critical" for h in hits):
                break
        if not any(h.paranoia == 1 and h.severity == "critical" for h in hits):
            hits.extend(self._anywhere(value.compact))
            if "/*!" in value.lower:
                match = _MYSQL_EXEC_COMMENT.search(value.lower)
                if match is not None:
                    hits.append(_Hit("sqli-comment", "a MySQL executable comment hides SQL", "critical", 1,
                                     match.start()))
        if not any(h.paranoia <= paranoia for h in hits):
            hits.extend(self._fragments(value, paranoia))
        if not any(h.paranoia <= 1 for h in hits) and value.kind in ("value", "name"):
            hits.extend(_short_value_hits(value))
        if value.kind == "name":
            # A parameter name or JSON key is an identifier: SQL structure in one is never prose.
            hits = [_Hit(h.rule, h.message, h.severity, 1, h.start) if h.paranoia == 2 else h for h in hits]
        best: dict[str, _Hit] = {}
        for hit in hits:
            if hit.paranoia > paranoia:
                continue
            current = best.get(hit.rule)
            if current is None or hit.paranoia < current.paranoia:
                best[hit.rule] = hit
        return [
            Finding(self.name, h.rule, h.message, h.severity, location, _excerpt(value.decoded, h.start),
                    h.paranoia)
            for h in best.values()
        ]

    # -- breakout analysis -------------------------------------------------------------------
    def _analyse(self, text: str, paranoia: int) -> list[_Hit]:
        hits = self._analyse_at(text, 0)
        if "=" in text and not any(h.paranoia == 1 for h in hits):
            # An embedded query string or form (a Referer, a redirect URL, ``pay=...`` sent as
            # one name): each value after ``name=`` is a start of its own. Only "=" that end a
            # parameter name qualify (``?id=``, ``&x=``, or a first "=" with no space before it),
            # not the "=" of an equation or a comparison in prose or code.
            for start in _subvalue_starts(text):
                next_pair = _NEXT_PAIR.search(text, start)
                piece = text[start : next_pair.start() if next_pair else None]
                if piece.strip():
                    hits.extend(self._analyse_at(piece, start))
        return hits

    def _analyse_at(self, text: str, offset: int) -> list[_Hit]:
        analysis = _Analysis(text)
        head = text[:MAX_ANCHORED_CHARS]
        # Numeric / unquoted context: the value is pasted as-is.
        peek = tokenize(head, 3)
        plain = len(peek) == 3 and peek[0].type in "ns" and peek[1].type in "ns"
        toks = [] if plain else tokenize(head, MAX_TAIL_TOKENS)
        if toks:
            first = toks[0]
            if first.type == "o" and first.text == "-" and len(toks) > 1 and toks[1].type == "1":
                analysis.breakout(toks, 2, "number", 0)
            elif first.type == "1":
                analysis.breakout(toks, 1, "number", 0)
            elif first.type in "nv":
                analysis.breakout(toks, 1, "word", 0)
            analysis.breakout(toks, 0, "none", 0)
        # Quoted contexts: the text up to the first unescaped matching quote is string content.
        for quote, closing in _QUOTE_END.items():
            if quote not in head:
                continue
            match = closing.match(head)
            if match is None:
                continue
            if quote == "`" and _IDENTIFIER_PREFIX.fullmatch(head, 0, match.end() - 1) is None:
                continue  # an identifier has no blanks: "see `#' below" is a man page's quoting
            rest_start = match.end()
            rest = head[rest_start:]
            peek = tokenize(rest, 2)
            if not peek or peek[0].type in "nsv1x":
                continue  # "O'Brien", "don't": a plain word follows the quote, no rule can apply
            toks = tokenize(rest, MAX_TAIL_TOKENS)
            if toks:
                analysis.quote = quote
                analysis.breakout(toks, 0, "quote", rest_start)
        if offset:
            return [_Hit(h.rule, h.message, h.severity, h.paranoia, h.start + offset) for h in analysis.hits]
        return analysis.hits

    # -- anywhere rules ------------------------------------------------------------------------
    def _anywhere(self, compact: str) -> list[_Hit]:
        if not _ANYWHERE_MAY_MATCH(compact):
            return []  # no literal of any alternative: the regex cannot match (prose, plain values)
        hits: list[_Hit] = []
        for match in _ANYWHERE.finditer(compact):
            group = match.lastgroup
            if group in ("time", "func") and not _sql_context_before(compact, match.start()):
                continue  # "call sleep(5) in your script": a word, not SQL, comes before
            if group == "time":
                hits.append(_Hit("sqli-time", "a time-delay SQL function is called", "critical", 1,
                                 match.start()))
            elif group == "tsql":
                hits.append(_Hit("sqli-stacked", "a T-SQL/MySQL statement construct", "critical", 1,
                                 match.start()))
            elif group == "waitfor":
                hits.append(_Hit("sqli-time", "WAITFOR DELAY", "critical", 1, match.start()))
            elif group in ("func", "xp"):
                hits.append(_Hit("sqli-function", "a SQL function that reaches files, the network or "
                                 "error messages is called", "critical", 1, match.start()))
            elif group == "union":
                hits.append(_Hit("sqli-union", "UNION SELECT", "critical", 1, match.start()))
            elif group == "sysvar":
                hits.append(_Hit("sqli-sysvar", "a database system variable is read", "critical", 1,
                                 match.start()))
            elif group == "outfile":
                hits.append(_Hit("sqli-clause", "INTO OUTFILE writes a file", "critical", 1, match.start()))
            elif group == "opensub":
                # "id=(SELECT": a subquery opened where a value goes, for the query to finish.
                hits.append(_Hit("sqli-expression", "the value opens a subquery and stops", "critical", 1,
                                 match.start()))
            if len(hits) >= 4:
                break
        return hits

    # -- fragments ------------------------------------------------------------------------------
    def _fragments(self, value: Value, paranoia: int) -> list[_Hit]:
        """A value that *is* a piece of SQL: nothing but SQL tokens, and SQL-specific ones.

        In a parameter name (an identifier in any sane API) this is evidence at paranoia 1;
        in a value, where a user may type "order by date", at paranoia 2.
        """
        text = value.compact.strip()
        if not text or len(text) > 512:
            return []
        if _too_many_tokens(text) or _plain_sentence(text):
            return []  # the answer the analysis below gives, without tokenizing (prose values)
        toks = tokenize(text, 80)
        if not toks or len(toks) > 64:
            return []
        level = 1 if value.kind == "name" else 2
        hits: list[_Hit] = []
        words = [t.text.lower() for t in toks]
        specific = 0
        function_call = False
        bare = 0
        for index, tok in enumerate(toks):
            word = words[index]
            keyword = tok.type in "EUkv&c" and word not in _WEAK_KEYWORDS
            operator = tok.type in "o&" and (word in OPERATOR_WORDS or word in _SQL_OPERATORS)
            if keyword or operator:
                specific += 1
            elif tok.type == "f" and word in SQL_FUNCTIONS:
                specific += 1
                function_call = True
            if tok.type in "ns":
                bare += 1
        catalog = next((w for w in _WORDS_ONLY.findall(text) if w in SYSTEM_OBJECTS), None)
        if catalog == "mysql" and "mysql." in text and (len(toks) <= 4 or _FRAGMENT_SYNTAX.search(text)):
            # "mysql.db" as the value or in SQL punctuation; "a backup of mysql.db" is a sentence.
            qualified = _MYSQL_GRANT_TABLE.search(text)
            catalog = qualified.group() if qualified is not None else catalog
        if catalog and catalog not in ("sys", "mysql", "master", "dual") and (len(toks) <= 12 or (
                catalog in _CATALOG_TABLES and len(toks) <= 48 and "\n" not in text
                and not is_prose(value.decoded))):
            # Catalog tables nobody types as data are evidence on their own; sample-database and
            # system-database names (northwind, tempdb) that double as ordinary words are not.
            own_level = 1 if catalog in _CATALOG_TABLES or catalog.startswith("mysql.") else level
            hits.append(_Hit("sqli-fragment", f"names the database catalog ({catalog})", "critical", own_level, 0))
        elif "msdasql" in text or any(
            w.startswith(("xp_", "sp_", "utl_", "dbms_")) and len(w) > 5 for w in words
        ) or (len(toks) <= 2 and words[0] in ("openrowset", "opendatasource", "nvarchar", "varchar")):
            hits.append(_Hit("sqli-fragment", "names a database system procedure or type", "critical", level, 0))
        elif bare <= specific and (
            (function_call and len(toks) <= 12 and toks[-1].type in "(,o&")
            or (function_call and words[0] in ("select", "(", "from"))
            or (specific >= 2 and _has_sql_bigram(toks, words))
            or (words[0] == "in" and len(toks) > 1 and toks[1].type == "(")
            or (len(toks) == 1 and value.kind == "name" and words[0] in _SQL_OPERATORS)
            or (len(toks) == 2 and toks[1].type in "1o(" and (
                toks[0].type in "&EkU" or words[0] in OPERATOR_WORDS or words[0] in _SQL_OPERATORS))
        ):
            if (level == 2 and specific >= 2 and "\n" not in value.decoded
                    and words[0] not in _STRICT_VERBS and toks[0].type != "1"
                    and (_FRAGMENT_SYNTAX.search(text) or (specific >= 3 and words[0] == "from"))
                    and not is_prose(value.decoded)):
                # A piece cut out of a query ("FROM t WHERE x=1", "` AS `c` from"), with SQL
                # punctuation, in a short non-prose value: not a title, and not a whole
                # statement quoted in a ticket ("SELECT * FROM users WHERE id = 1").
                level = 1
            hits.append(_Hit("sqli-fragment", "the value is a fragment of SQL", "critical", level, 0))
        elif paranoia >= 3 and len(toks) <= 6 and bare <= 2 and (
            any(w in LOGIC or w in OPERATOR_WORDS or w in UNION_WORDS or w in _SQL_OPERATORS for w in words)
            or (text[:1] in "'\"`" and re.fullmatch(r"[sn]?[o,]+[s1n]?.*", "".join(t.type for t in toks)))
        ):
            hits.append(_Hit("sqli-keyword", "an SQL operator or keyword stands alone", "critical", 3, 0))
        return hits


# Characters that start a token able to span a space ("/*...*/" and "*/" as whitespace, "/*..."
# and "--"/"#" comments, quoted strings and `names`, the @`name` variable); see _TOKEN.
_SPANNING_STARTS: Final = ("'", '"', "`", "#", "--", "/*", "*/")


def _too_many_tokens(text: str) -> bool:
    """True when ``tokenize(text, 80)`` surely returns more than 64 tokens (``_fragments`` gives up).

    ``text`` is a stripped ``compact`` form: its only blank is a single space between runs.
    Before the first character that can start a space-spanning token, no token crosses a
    space, and every run of printable non-space characters holds at least one token (the only
    printable character _TOKEN counts as whitespace is the space itself; the comment forms it
    also skips start with a character in _SPANNING_STARTS). Each space before that point ends
    such a run, so their number is a lower bound on the token count.
    """
    if text.count(" ") < 65:
        return False
    end = len(text)
    for start in _SPANNING_STARTS:
        found = text.find(start, 0, end)
        if found >= 0:
            end = found
    head = text[:end]
    # With no leading or double space, each space follows a run of non-space characters.
    return head.count(" ") >= 65 and head.isprintable() and "  " not in head and head[:1] != " "


# Lower-case ASCII words, each maybe followed by one "," "." or ";", separated by single spaces.
# Linear: a run of letters can only end at its punctuation or space, so there is one way to match.
_PLAIN_SENTENCE = re.compile(r"(?:[a-z]+[,.;]? )*[a-z]+[,.;]?")
_LETTERS = re.compile(r"[a-z]+")


def _plain_sentence(text: str) -> bool:
    """True when ``_fragments`` surely reports nothing for ``text`` (its stripped compact form).

    In such a text every run between spaces tokenizes alone into one word and maybe one
    punctuation token (no quote, comment, digit, operator or "(": no token spans a space, no
    word becomes a function). So the tokens number at least the words; a word of type "n" is
    "bare", and only the other words can be "specific". With more than six words (the
    paranoia-3 rule and the two-token rules need fewer tokens), none a catalog name (the
    words are what _WORDS_ONLY finds), no "msdasql" and no "_" (the procedure prefixes), and
    more bare words than others (bare > specific), no rule of ``_fragments`` applies.
    tests/detectors/test_fast_paths.py checks it against the analysis.
    """
    if len(text) > 512 or _PLAIN_SENTENCE.fullmatch(text) is None or "msdasql" in text:
        return False
    words = _LETTERS.findall(text)
    if len(words) <= 6:
        return False
    bare = 0
    for word in words:
        if word in SYSTEM_OBJECTS:
            return False
        if _word_type(word) == "n":
            bare += 1
    return 2 * bare > len(words)


_SQL_WORDS: Final = LOGIC | OPERATOR_WORDS | LITERAL_WORDS | UNION_WORDS | STATEMENTS | CLAUSES
"""The words _word_type does not call "n" (an identifier)."""
# The short-value rules plain prose can satisfy start the value with one of these (_LOGIC_HEAD,
# _NAME_CONDITION, _SELECT_HEAD, _STATEMENT_HEAD, _CLAUSE_HEAD, _SYSTEM_PROCEDURE); every other
# one needs a digit, a quote, "(", "=", "@" or "_".
_SHORT_HEADS: Final = ("and", "or", "xor", "select", "drop", "alter", "create", "insert", "delete", "truncate",
                       "exec", "from", "openrowset", "opendatasource")


def _prose_without_sql(value: Value) -> bool:
    """True when ``detect`` surely reports nothing: plain prose (:func:`plain_prose`) without SQL shapes.

    Plain prose is its own decoded, compact form, and has no quote, "=", "(", "@", "_", digit or
    comment. So: no quoted context and no ``name=`` sub-value; the unquoted context is not read
    when the first two of three tokens are plain words (``_analyse_at``); of _ANYWHERE only UNION
    SELECT is possible; the short-value rules need a leading :data:`_SHORT_HEADS` word; and
    ``_fragments`` gives up past 64 tokens (each space-separated word is at least one) or, as in
    :func:`_plain_sentence`, finds more than six words, no catalog name or "msdasql", and more
    plain words than SQL ones. tests/detectors/test_fast_paths.py checks it against the analysis.
    """
    if not plain_prose(value.raw):
        return False
    lower = value.lower
    head = lower.split(" ", 3)
    if len(head) < 3 or not head[0].isalpha() or head[0] in _SQL_WORDS or head[1].rstrip(",.;:!?") in _SQL_WORDS:
        return False
    if ("union" in lower and "select" in lower) or lower.startswith(_SHORT_HEADS):
        return False
    if len(lower) > 512 or lower.count(" ") >= 64:
        return True
    words = [word.rstrip(",.;:!?") for word in lower.split(" ")]
    return (len(words) > 6 and "msdasql" not in lower and SYSTEM_OBJECTS.isdisjoint(words)
            and 2 * sum(map(_SQL_WORDS.__contains__, words)) < len(words))


_SQL_LEAD_WORDS: Final = ("and", "or", "xor", "not", "select", "if", "waitfor", "then", "else", "when",
                           "union", "where", "having", "by", "from", "returning", "case", "in", "like", "rlike")


def _sql_context_before(text: str, start: int) -> bool:
    """True when what precedes ``start`` can be followed by an SQL expression."""
    before = text[max(0, start - 12) : start].rstrip()
    if not before:
        return True
    if before[-1] in "(,=+-*/|&'\"`;<>!%^~.{[":
        return True
    return before.rsplit(" ", 1)[-1].lower() in _SQL_LEAD_WORDS


def _has_sql_bigram(toks: list[Token], words: list[str]) -> bool:
    """SQL grammar, not just SQL words: ``ORDER BY``, ``) AS x FROM``, ``FROM t WHERE``, ``x IS NULL``."""
    for i in range(len(toks) - 1):
        pair = (words[i], words[i + 1])
        if pair in _BIGRAMS:
            return True
        kind, nxt = toks[i].type, toks[i + 1].type
        if words[i] in ("as", "from") and nxt in "n":
            k = i + 2
            while k + 1 < len(toks) and toks[k].type == "." and toks[k + 1].type == "n":
                k += 2  # schema.table
            if k < len(toks) and words[k] in ("from", "where", "limit", "order", "group", "join", "having", ","):
                return True
        if (kind == ")" or toks[i].text.endswith("`")) and words[i + 1] == "as":
            return True
        if words[i] == "select" and nxt in "1f(v":
            return True
        if kind in "&" and words[i] in ("and", "or", "xor", "||", "&&") and nxt in "1s(f" and i + 2 < len(toks) and (
            toks[i + 2].type == "o"
        ):
            return True
    return False


# --------------------------------------------------------------------------------------------
# Short, non-prose values
# --------------------------------------------------------------------------------------------

SHORT_VALUE_CHARS: Final = 256
"""Values up to this long that are not running text get the short-value rules at paranoia 1."""
_FRAGMENT_SYNTAX = re.compile(r"""[=`;@]|(['"])[^'"]*\1""")
"""Punctuation only SQL puts between SQL keywords: a fragment with it is not a phrase or a title."""
_SQL_SYNTAX = re.compile(r"[=`;(@]|\d|['\"][^'\"]*['\"]|['\"]$")
_CALL_HEAD = re.compile(r"[\s'\"`(]*([a-z_][a-z0-9_]*)([^\w(]{0,6})\(")
_LOGIC_HEAD = re.compile(
    r"[\s'\"`)]*(?:and|or|xor|&&|\|\|)\s?\(*\s?[\w.`\"'$@]{1,64}\s?"
    r"(?:={1,3}|!={1,2}|<>|<=>|[<>]=?|(?:not\s)?(?:like|rlike|regexp)\b)"
)
_SUBQUERY = re.compile(r"\(\s?select\s?(?:\(|case\b|\d|\*|null\b|@@|[a-z_]+\s?\()")
_SELECT_HEAD = re.compile(
    r"[\s'\"`(]*select\s(?:@@?\w|0x[0-9a-f]+|(?:pg_sleep|sleep|benchmark|load_file|version|user|database)\b"
    r"|null\b)"
)
_STRING_COMPARISON = re.compile(r"""(['"])[^'"]{0,64}\1\s?(?:=|<>|!=|<=>|like\s)\s?\1[^'"]{0,64}""")
"""``'1'='1``: a string comparison whose last quote the application's query supplies."""
_CLAUSE_HEAD = re.compile(
    r"""[\s'"`)]*from\s[\w.`"$]+\s(?:where|group\sby|order\sby|limit|join|inner|union)\s.*?[=`'"(\d]"""
)
_ALIAS_FROM = re.compile(
    r"""(?:\d+\s?as\s[`"'][\w$]+[`"']|[`'")]{1,3}\s?as\s[`"']?[\w$]+[`"']?)\s?from\b"""
)
"""``` AS `uid` from``, ``1234 AS "x" FROM``: a select-list item closed, aliased, and FROM."""
_INFO_FUNCTIONS: Final = frozenset(
    {"version", "user", "database", "current_user", "schema", "system_user", "session_user", "db_name",
     "user_name", "connection_id", "last_insert_id", "current_database", "suser_name", "host_name"}
)
_TOOL_TAUTOLOGY = re.compile(r"(?<![\w$])(?:where|and|or|having|when|&&|\|\|)\s?\(?\s?(\d{2,9})\s?=\s?\1(?![\w.])")
"""``WHERE 9896=9896``, ``AND 5678=5678``: a number compared with itself is always true; the
multi-digit, arbitrary number is how injection tools mark their probes (``WHERE 1=1`` is a
query-building idiom people paste, and stays out)."""
_QUOTED_NAME = re.compile(r"""(['"`])[^'"`]{1,64}\1""")
_NAME_CONDITION = re.compile(r"""[\s'"`)]*(?:and|or|xor|&&|\|\|)\s?(?:'[^']*'|"[^"]*"|\d+(?![\w.]))""")
_NUMBER_COMPARISON = re.compile(r"(?:\w+,)?(\d+)\s?(=|!=|<>)\s?(\d+)")
_LIKE_OPEN = re.compile(r"""[\w)'"`]{1,64}\s?(?:not\s)?(?:r?like|regexp)\s?['"(]""")
_QUOTES_ONLY = re.compile(r"""['"`\\]*'['"`\\]*["`]['"`\\]*|['"`\\]*["`]['"`\\]*'['"`\\]*|''""")
_SYSTEM_PROCEDURE = re.compile(
    r"(?:xp_|utl_|dbms_)[a-z_.]{3,40}|sp_(?:executesql|password|oacreate|oamethod|makewebtask|addlogin"
    r"|addsrvrolemember|configure|execute|who)|openrowset|opendatasource"
)
_STATEMENT_HEAD = re.compile(
    r"[\s'\"`(;]*(?:drop\s(?:table|database|view)|alter\stable|create\s(?:table|database|view|procedure)"
    r"|insert\sinto|delete\sfrom|truncate\stable|execute\simmediate|exec\s(?:master|xp_|sp_))\b(.*)"
)


def _short_value_hits(value: Value) -> list[_Hit]:
    """SQL structure in a short value that is not running text: a parameter, not a sentence.

    ``sleep(5)``, ``ABS(``, ``AND 7829=(``, ``select @@version``, ``concat(0x22,version())``:
    an id, a token or a name never holds these, while a comment field holding prose or code
    pasted inside prose does (and is left to the breakout rules above, which need a real
    breakout).
    """
    text = value.compact.strip()
    if not text or len(text) > SHORT_VALUE_CHARS or is_prose(value.decoded):
        return []
    hits = _short_text_hits(text)
    if not hits and value.kind == "name" and _NAME_CONDITION.match(text):
        # "and '5'orig_var": a name (an identifier) that opens with a boolean continuation.
        hits = [_Hit("sqli-boolean", "the parameter name continues an SQL condition", "critical", 1, 0)]
    if not hits and value.kind == "name" and _QUOTED_NAME.fullmatch(text):
        # "?`bla`", "?'bla'": a name in SQL quotes probes how the application quotes names it
        # pastes into a query (sort columns, filters built from keys); a client never sends one.
        hits = [_Hit("sqli-comment", "the parameter name is wrapped in SQL quotes (a quoting probe)", "critical",
                     1, 0)]
    if not hits and value.kind == "name" and "=" in text:
        # "pay=sleep(": a whole name=value pair sent as one name.
        piece = text.split("=", 1)[1].strip()
        hits = [_Hit(h.rule, h.message, h.severity, 1, h.start + len(text) - len(piece)) for h in
                _short_text_hits(piece)] if piece else []
    return hits


def _short_text_hits(text: str) -> list[_Hit]:
    """The short-value rules over one compact text (see :func:`_short_value_hits`)."""
    if text in _NUMERIC_PROBES:
        return [_Hit("sqli-numeric-probe", "the value is an integer-overflow or float-parsing probe", "critical",
                      1, 0)]
    tautology = _TOOL_TAUTOLOGY.search(text)
    if tautology is not None:
        return [_Hit("sqli-boolean", "a condition compares a number with itself", "critical", 1, tautology.start())]
    call = _CALL_HEAD.match(text)
    if (call is not None and (call.group(1) in SQL_FUNCTIONS or call.group(1) == "in")
            and _sql_call_shape(call.group(1), call.group(2), text[call.end() :])):
        return [_Hit("sqli-function", "the value is an SQL function call", "critical", 1, call.start(1))]
    if _LOGIC_HEAD.match(text) is not None:
        return [_Hit("sqli-boolean", "the value is an SQL condition", "critical", 1, 0)]
    match = _SUBQUERY.search(text) or _SELECT_HEAD.match(text)
    if match is not None:
        return [_Hit("sqli-expression", "the value holds an SQL subquery", "critical", 1, match.start())]
    match = _STATEMENT_HEAD.match(text)
    if match is not None and _SQL_SYNTAX.search(match.group(1)):
        return [_Hit("sqli-stacked", "the value is an SQL statement", "critical", 1, 0)]
    number = _NUMBER_COMPARISON.fullmatch(text)
    if number is not None and (number.group(1) == number.group(3)) == (number.group(2) == "="):
        return [_Hit("sqli-boolean", "the value is a bare SQL tautology", "critical", 1, 0)]
    if _STRING_COMPARISON.fullmatch(text):
        return [_Hit("sqli-boolean", "the value is a bare SQL comparison", "critical", 1, 0)]
    if _CLAUSE_HEAD.match(text) or _ALIAS_FROM.match(text):
        return [_Hit("sqli-fragment", "the value is a FROM ... WHERE piece of a query", "critical", 1, 0)]
    if _LIKE_OPEN.fullmatch(text):
        return [_Hit("sqli-boolean", "the value opens a LIKE/REGEXP operand", "critical", 1, 0)]
    if _QUOTES_ONLY.fullmatch(text):
        return [_Hit("sqli-comment", "the value is only quotes (a quoting probe)", "critical", 1, 0)]
    if _SYSTEM_PROCEDURE.fullmatch(text):
        return [_Hit("sqli-fragment", "the value names a database system procedure", "critical", 1, 0)]
    return []


def _sql_call_shape(name: str, gap: str, rest: str) -> bool:
    """``name<gap>(<rest>``: a truncated call, or a call whose arguments read as SQL."""
    if not rest.strip():
        return True  # "ABS(", "if (", "password?(": a call cut off where the query continues it
    if gap.strip() or name == "in":
        return False
    toks = tokenize(f"{name}({rest}", MAX_TAIL_TOKENS)
    if len(toks) < 2 or toks[0].type != "f":
        return False
    info = _Expr()
    end = _Reader(toks).call(0, info)
    if end < 0 or info.prose:
        return False
    if end >= len(toks) and (info.functions[1:] or info.subquery or "0x" in rest or (
            name in _INFO_FUNCTIONS and end == 3)):
        # "concat(0x22,version())", "version()": nested calls, hex data or a server-information
        # call; "max(3, 4)" or "Year (2024)" alone is arithmetic or a label.
        return True
    if end >= len(toks) or not (info.literals or info.functions[1:] or info.subquery):
        return False
    if toks[end].type in "c;&":
        return True
    # "sleep(5)='", "ascii(x)>64": a comparison or a trailing quote, not "f(x) -> str".
    nxt = toks[end]
    return (nxt.type == "s" and end == len(toks) - 1) or (
        nxt.type == "o" and nxt.text.lower() in _CMP_TEXT and end + 1 < len(toks) and toks[end + 1].type in "1sf")


def _excerpt(text: str, start: int) -> str:
    start = max(0, min(start, len(text)) - 10)
    return text[start : start + 60]


DETECTOR = SqlInjectionDetector()
