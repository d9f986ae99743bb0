"""Code injection: PHP, Java and Node.js payloads that a server-side interpreter would run.

What it blocks, by language (rule ids in brackets, each prefixed ``code_injection-``):

**PHP**

- an open tag: ``<?php``, ``<?=``, ``<? system(...)`` (not ``<?xml``) [``php-open-tag``];
- a dangerous function *called*: ``system('id')``, ``eval`` on ``$x``, ``base64_decode("...")``,
  ``exec\\n('x')``, ``print_r( )``, ``chr(123)``, with comments or newlines before the
  parenthesis [``php-function-call``]. An empty call mentioned in a sentence ("use eval ()
  carefully") counts 3 points only;
- variable functions: ``$f('id')``, ``$$x()``, ``${'a'}()``, ``@$_[o](4)``, ``$o->$m()``,
  ``Foo::$v()``, with comments between the pieces [``php-variable-function``];
- callables built from pieces: ``(system)('id')``, ``[system][0](ls)``, ``'sys'.'tem'``
  then ``(x)('id')`` [``php-callable-obfuscation``];
- superglobals: ``$_SERVER['x']``, ``$_COOKIE``, ``$GLOBALS`` (case-sensitive, as in PHP)
  [``php-superglobal``];
- stream wrappers: ``php://filter``, ``php://input``, ``phar://``, ``zip://``, ``data://``,
  ``expect://``, ``zlib://``, ``glob://`` [``php-wrapper``];
- serialized objects ``O:8:"stdClass":1:{...}`` (object injection) [``php-serialized-object``];
- ``php.ini`` directives set from input: ``allow_url_include=1``, ``auto_prepend_file=...``,
  ``session.x=...``, ``-d allow_url_include`` [``php-config-directive``];
- an upload named like a PHP script (``shell.php``, ``a.phtml...``, ``x.php5``) in a
  multipart filename or an ``X-Filename`` header [``php-script-upload``];
- a high-risk PHP function *name* as the whole value, alone or glued into one identifier
  (``base64_decode``, ``\\call_user_func``, ``FOOcall_user_func``); in a sentence ("I don't
  like gzuncompress") 4 points, critical at paranoia 2 [``php-function-name``].

**Java**

- class names used to run commands, load classes or deserialize: ``java.lang.Runtime``,
  ``java.lang.ProcessBuilder``, ``javax.script.ScriptEngineManager``, ``com.sun.org.apache``,
  ``org.apache.commons.collections``, ``com.opensymphony.xwork2``... [``java-class``]; packages
  that documentation names as often as payloads do (``java.lang.reflect``, ``java.net.Socket``,
  ``javax.management``) and common classes (``java.lang.String``, ``java.io.File``) only when the
  value is code-shaped (the whole value, ``new X(``, ``T(X)``, ``@type``), 3 points in a sentence
  (``{@link java.lang.invoke.MethodHandle}`` in a Javadoc paragraph);
- commons-collections and other gadget names, ``runtime``/``processbuilder`` qualified by a
  package (``java.evil.runtime``, ``ProcessBuilder.x.invokertransformer``) [``java-gadget``];
- Java serialization magic (``rO0AB``, ``aced0005``, raw ``\\xac\\xed\\x00\\x05``)
  [``java-serialized-object``];
- OGNL/SpEL/EL reflection: ``#_memberAccess``, ``@java.lang.Runtime@getRuntime()``,
  ``T(java.lang.Runtime)``, ``.getClass().forName(``, ``.getRuntime().exec(`` [``java-expression``];
- base64 of those keywords (``cnVudGltZQ`` is "runtime"): 4 points, critical at paranoia 2
  [``java-base64-keyword``].

**Node.js**

- ``_$$ND_FUNC$$_`` (node-serialize) and ``__js_function`` (funcster) [``node-serialized-function``];
- ``require('child_process')``, ``process.mainModule``, ``process.binding(``
  [``node-process-access``]; ``this.constructor.constructor`` sandbox escapes
  [``node-sandbox-escape``]; ``new Function(``, ``eval`` of ``String.fromCharCode(`` / ``atob(``
  [``node-dynamic-code``];
- an immediately invoked function, ``(function(){...})()`` [``node-function-literal``]; a bare
  ``function() {`` or ``module.exports =`` is 4 points (critical at paranoia 2).

**PHP and JavaScript**: a value that closes the string it was pasted into, ends the statement
and writes its own (``';sleep(5000);``, ``";system('id');//``,
``';it=new Date();do{pt=new Date();}while(pt-it<5000);``): a complete call, a declaration, an
assignment or a control keyword right after the quote and ``;``/``)`` [``statement-breakout``];
``'.system('id').'`` (concatenation) [``php-function-call``]; ``${@print(1)}`` [``php-variable-function``].

**Any language**: a base64 token that decodes to one of the above (``XyQkTkRfRlVOQyQkXwo=`` is
``_$$ND_FUNC$$_``) [``base64-payload``].

Not an attack: prose ("the system (the new one)", "file(s)", "use eval () with care"), ``<?xml``,
jQuery ``$(document)``, prices ``$5 (approx)``, ``(foo)bar or foo(bar)``, ``$_server`` in
lower case, a method named in the code (``$c->get_option($opt)``, Perl or PHP: only the callee
taken from a variable makes a variable function), a Perl loop ``foreach my $x (@list)``, and
Node.js ``require('node:events')`` (a module specifier, no file PHP could include).

Config: none besides paranoia. Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("system('id')"), "query.q", 1)]
    ['code_injection-php-function-call']
"""

from __future__ import annotations

import base64
import re
from typing import Final, Protocol

from sealgate.detectors._support import (
    b64_decoded_tokens,
    excerpt,
    header_name,
    is_name_location,
    is_prose,
    plain_prose,
    prose_words,
)
from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value
from sealgate.detectors.prefilter import trigger_matcher

__all__ = ["DETECTOR", "CodeInjectionDetector"]

_PREFIX: Final = "code_injection-"


class _Add(Protocol):
    """The finding callback of one :meth:`CodeInjectionDetector.detect` call."""

    def __call__(
        self, rule: str, message: str, severity: str, start: int, end: int, level: int = 1, source: str = ""
    ) -> None: ...


# --- PHP ----------------------------------------------------------------------------------------
_OPEN_TAG = re.compile(r"<\?(?:php\b|=|[ \t\r\n]+(?!xml\b)[\w$@]|(?!xml\b)[a-z_$@][\w]*\s*[(\s$'\"])", re.IGNORECASE)
# Functions that run code or commands, read or write files, open sockets, or decode payloads
# (CRS 933150/933160/933151 families). Matched as whole identifiers.
_PHP_FUNCTIONS: Final = """
system exec shell_exec passthru popen proc_open pcntl_exec pcntl_fork eval assert assert_options
create_function call_user_func call_user_func_array forward_static_call forward_static_call_array
preg_replace preg_replace_callback array_map array_filter array_walk usort uasort uksort
register_shutdown_function register_tick_function ob_start include include_once require require_once
extract parse_str putenv ini_set ini_get ini_get_all ini_alter ini_restore dl mail mb_send_mail
fopen fread fwrite fputs fgets fgetc fgetss fscanf file file_get_contents file_put_contents readfile fpassthru
unlink rmdir mkdir rename copy chmod chown chgrp touch symlink link tempnam tmpfile move_uploaded_file
opendir readdir scandir glob file_exists fileperms fileowner filemtime filesize is_writable is_readable
highlight_file show_source php_strip_whitespace get_meta_tags parse_ini_file
phpinfo phpversion php_uname getenv get_current_user getmyuid getmygid getmypid getcwd gethostbyname
gethostbynamel gethostname get_defined_vars get_defined_functions get_defined_constants get_cfg_var
posix_getpwuid posix_getpwnam posix_getuid posix_geteuid posix_getegid posix_getgid posix_uname posix_kill
posix_mkfifo posix_setuid posix_setgid posix_getlogin proc_nice proc_terminate proc_close proc_get_status
base64_decode base64_encode gzinflate gzuncompress gzdecode gzencode gzdeflate gzcompress bzdecompress bzopen
str_rot13 convert_uudecode hex2bin bin2hex chr ord pack unpack unserialize serialize strrev urldecode rawurldecode
fsockopen pfsockopen socket_create socket_connect stream_socket_client stream_socket_server curl_init curl_exec
curl_multi_exec curl_setopt ftp_connect ftp_get ftp_put
print_r var_dump var_export debug_zval_dump debug_print_backtrace error_log
apache_child_terminate apache_setenv mb_ereg_replace mb_eregi_replace escapeshellcmd escapeshellarg
get_class_methods method_exists function_exists class_exists invoke invokeargs newinstance reflectionfunction
"""
_PHP_FUNCTION_SET: Final = frozenset(_PHP_FUNCTIONS.split())
_ONE_IDENTIFIER = re.compile(r"[\w\\@]{1,100}")
"""One identifier, optionally namespaced or silenced (``\\exec``, ``@exec``): no blank, no prose."""
# An identifier followed (after whitespace or comments) by "(": checked against the set.
_PHP_CALL = re.compile(
    r"(?<![\w$>:\\.-])([A-Za-z_][A-Za-z0-9_]{1,40})((?:\s|/\*[^*]{0,200}\*/|(?:#|//)[^\n]{0,200}\n)*)\("
)
# "'.system('id').'": the value closes the string it was pasted into and concatenates a call.
_CONCAT_CALL = re.compile(r"""['"]\s*\.\s*([A-Za-z_][A-Za-z0-9_]{1,40})\s*\(\s*(?:[$'"`\d)\[@]|[A-Za-z_]\w*\s*\()""")
# A code-shaped first argument: a variable, a string, a number, a closing paren, a nested call,
# an array, a constant expression.
_CODE_ARG = re.compile(r"""\s*(?:[$'"`\d)\[@]|[A-Za-z_][\w]*\s*[(,)\[.:]|\\|$)""")
_MAN_SECTION = re.compile(r"\d[a-z]{0,3}\)")
# A Node.js module specifier as the whole argument ("node:events", "fs/promises", "@scope/pkg"):
# no dot (a PHP file has an extension, a climb has ".."), no leading slash or backslash, no URL.
_INCLUDES: Final = frozenset({"include", "include_once", "require", "require_once"})
_MODULE_SPECIFIER = re.compile(r"""\s*(['"`])@?[A-Za-z][\w-]{0,64}(?::[\w-]{1,64})?(?:/[\w-]{1,64}){0,4}\1\s*\)""")
_PLURAL_PAREN = re.compile(r"\((?:s|es|ies|ing|ed|er|ers)\)", re.IGNORECASE)
_EXEC_FUNCTIONS: Final = frozenset(
    {"system", "exec", "shell_exec", "passthru", "popen", "proc_open", "pcntl_exec", "eval", "assert",
     "create_function", "call_user_func", "call_user_func_array", "include", "include_once", "require",
     "require_once", "base64_decode", "phpinfo", "file_get_contents", "file_put_contents", "fopen", "readfile",
     "unlink", "preg_replace", "str_rot13", "gzinflate", "gzuncompress", "fsockopen", "pfsockopen"}
)
# Distinctive function names (not English words): alone they are 4 points, critical at PL2.
_PHP_NAMES = re.compile(
    r"(?:base64_decode|call_user_func(?:_array)?|shell_exec|gzuncompress|gzinflate|gzdecode|bzdecompress|str_rot13"
    r"|create_function|proc_open|pcntl_exec|passthru|phpinfo|pfsockopen|fsockopen|move_uploaded_file"
    r"|file_put_contents|file_get_contents|get_defined_vars|get_defined_functions|posix_getpwuid|assert_options"
    r"|convert_uudecode|preg_replace_callback|register_shutdown_function|stream_socket_client|curl_exec"
    r"|php_uname|posix_uname|proc_terminate|escapeshellcmd)"
)  # matched on the lower-cased text (an IGNORECASE alternation is several times slower)
# $f(, $$f(, ${'f'}(, $a['x'](, $o->$m(, with whitespace (comments already blanked) between the
# pieces, as PHP allows. Each piece starts with its own character, and a run of "$" is entered
# only at its first "$" and taken whole (possessive), so matching stays linear.
# The last piece (group "piece") must leave the callee dynamic: "$o->m(" and "$o::m(" call a method
# named in the code, as "$value = $c->get_option($opt)" in a Perl or PHP sample does; only
# "$o->$m(" and "Foo::$v(" take the name from a variable.
_VARIABLE_CALL = re.compile(
    r"(?<!\$)\$++\s*(?:[A-Za-z_\x80-\uffff][\w\x80-\uffff]{0,64}|\{[^{}]{0,200}\})"
    r"(?P<piece>\s*(?:\[(?:[^\[\]]|\[[^\[\]]{0,50}\]){0,100}\]|\{[^{}]{0,100}\}|->\s*\$?\w{1,64}"
    r"|::\s*\$?\w{1,64}))*"
    r"\s*\("
)
_STATIC_METHOD = re.compile(r"\s*(?:->|::)\s*\w")
_MAX_VARIABLE_CALLS: Final = 32
# The loop variable of a Perl "for"/"foreach" ("foreach $host (@hosts)", "for my $i (0 .. 9)"):
# the "(" opens the list, not a call (PHP's loops put the parenthesis first).
_PERL_LOOP = re.compile(r"\b(?:for|foreach)\s+(?:(?:my|our|local|state)\s+)?$")
# PHP comments; "//" after ":" is a URL ("http://"), not a comment.
# "{${sleep(5)}}": PHP's complex string interpolation calls the function.
# "${@print(md5(1))}": the same with PHP's "@" (silence errors), which no other language has there.
_INTERPOLATED_CALL = re.compile(r"\{\s*\$\{\s*[A-Za-z_]\w{0,64}\s*\(|\$\{\s*@\s*[A-Za-z_]\w{0,64}\s*\(")
_PHP_COMMENT = re.compile(r"/\*[^*]{0,200}\*/|(?:(?<=\s)|^)#[^\n]{0,200}(?:\n|$)|(?<!:)//[^\n]{0,200}(?:\n|$)")
_WHITESPACE = re.compile(r"\s+")
_CONCAT = re.compile(r"""['"]\.['"]""")
_NON_WORD = re.compile(r"[^A-Za-z0-9_]")
_INDIRECT_CALL = re.compile(r"""[)\]}'"]\((?:[$'"\w)]|$)""")
_RISKY_NAME = re.compile(
    r"(?<![\w$])(?:system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec|eval|assert|create_function"
    r"|call_user_func(?:_array)?|base64_decode|phpinfo|file_get_contents|file_put_contents|readfile|unlink)(?!\w)",
    re.IGNORECASE,
)
_SUPERGLOBAL = re.compile(
    r"\$(?:_(?:GET|POST|COOKIE|REQUEST|SERVER|FILES|ENV|SESSION)|GLOBALS"
    r"|HTTP_(?:GET|POST|COOKIE|SERVER|ENV|SESSION|POST_FILES)_VARS|HTTP_RAW_POST_DATA)(?!\w)"
)
_WRAPPER = re.compile(
    r"(?<![\w.+-])(?:php|phar|zip|zlib|glob|expect|rar|ogg|data|compress\.(?:zlib|bzip2)|ssh2\.(?:shell|exec|tunnel|sftp|scp))"
    r"\s*:\s*//",
    re.IGNORECASE,
)
_INCLUDE_STATEMENT = re.compile(
    r"""\b(?:include|require)(?:_once)?\s*\(?\s*(?:\$_|["'](?:https?|ftps?|php|data|phar|zip|expect|/|\.\./))""",
    re.IGNORECASE,
)
_SERIALIZED = re.compile(r"""(?:^|[;{}\s"'=:|])[OC]:\+?\d{1,6}:"[\w\\]{1,200}":\d{1,6}:\{""")
_INI_DIRECTIVE = re.compile(
    r"(?:(?:php_(?:admin_)?(?:value|flag)|-d)\s*)?(?<![\w.-])"
    r"(allow_url_include|allow_url_fopen|auto_prepend_file|auto_append_file|disable_functions|disable_classes"
    r"|open_basedir|safe_mode(?:_exec_dir)?|register_globals|magic_quotes_gpc|session\.[a-z_0-9]{2,40}"
    r"|cgi\.force_redirect|cgi\.redirect_status_env|sendmail_path|enable_dl|zend_extension|doc_root"
    r"|user_ini\.filename|include_path|error_log|display_errors|expose_php|file_uploads|upload_tmp_dir"
    r"|mail\.log|extension_dir)(?:\s*=\s*|(?<=[a-z_])\s+(?=[\w\"'/.-]+\s*$))\S",
    re.IGNORECASE,
)
# A value that closes a string literal, ends the statement and writes one of its own:
# "';sleep(5000);", "\";system('id');//", "';it=new Date();do{...}while(pt-it<5000);",
# "\";return(true);var x='a". PHP and JavaScript (a Node.js eval, a MongoDB $where) read it the
# same way. The opening is anchored at the start of the value (one token may precede the quote:
# the expected input), and the statement must be code-shaped: a complete call followed by the
# end of a statement, a declaration, an assignment ended by ";", or a control keyword.
_BREAKOUT = re.compile(
    r"""\s*[\w.@-]{0,40}['"`]\s*[);]{1,3}\s*(?:"""
    r"""[A-Za-z_$][\w$]{0,40}(?:\s*\.\s*[A-Za-z_$][\w$]{0,40}){0,4}\s*"""
    r"""\((?:[^()\n]|\([^()\n]{0,100}\)){0,200}\)\s*(?:;|//|\#|\+|\.|\|\||&&|$)"""  # sleep(5000);
    r"""|(?:var|let|const)\s+[A-Za-z_$][\w$]{0,40}\s*="""  # var x=
    r"""|[A-Za-z_$][\w$]{0,40}\s*=\s*[^;=\n]{1,100};"""  # it=new Date();
    r"""|return\b|throw\b|do\s*\{|(?:while|for|if)\s*\()"""
)
_SCRIPT_FILENAME = re.compile(r"\.(?:php\d*|phtml|pht|phar|phps)(?:::\$data)?[\s.]*$", re.IGNORECASE)
_FILENAME_HEADERS: Final = frozenset({"x-filename", "x_filename", "x.filename", "x-file-name", "x-file"})

# --- Java ---------------------------------------------------------------------------------------
_JAVA_DANGEROUS_CLASS = re.compile(
    r"\b(?:java\.lang\.(?:runtime|processbuilder|process(?:impl)?|unixprocess|classloader)"
    r"|java\.net\.urlclassloader|java\.beans\.xmldecoder"
    r"|javax\.(?:script|naming)|com\.sun\.(?:org\.apache|jndi|rowset|script)|com\.opensymphony\.xwork2"
    r"|org\.apache\.(?:commons\.(?:collections\d*|beanutils)|commons|xalan|bcel)"
    r"|org\.springframework\.(?:expression|jndi)"
    r"|org\.codehaus\.groovy|groovy\.lang|sun\.misc\.unsafe|sun\.reflect|ognl\.ognlcontext|bsh\.interpreter"
    r"|org\.mozilla\.javascript|com\.mchange\.v2|org\.hibernate\.(?:engine|tuple|property)"
    r"|com\.alibaba\.fastjson|org\.jboss\.(?:interceptor|weld)|weblogic\.(?:jms|rjvm|wsee)|org\.python\.core"
    r"|clojure\.(?:core|main)|com\.rometools|com\.sun\.syndication)\b"
)
# Packages that payloads use as often as documentation names them ("{@link java.lang.reflect.Method}",
# "@throws javax.xml.transform.TransformerException"): critical where the value is code-shaped,
# like _JAVA_COMMON_CLASS, 3 points in a sentence. The classes that themselves run commands, load
# classes or evaluate code (above) stay critical anywhere.
_JAVA_SENSITIVE_PACKAGE = re.compile(
    r"\b(?:java\.lang\.(?:system|class|reflect|invoke|thread|object|module)"
    r"|java\.net\.(?:socket|serversocket|url)|java\.rmi\.\w|java\.nio\.file"
    r"|javax\.(?:management|el|xml\.transform)|com\.sun\.(?:corba|tools)"
    r"|org\.apache\.(?:commons\.(?:fileupload|io)|xbean|struts2?|catalina|naming|ibatis|myfaces|velocity"
    r"|tomcat|shiro|wicket)"
    r"|org\.omg\.corba|org\.springframework\.(?:beans|context|aop|transaction|core)|org\.yaml\.snakeyaml)\b"
)
_JAVA_COMMON_CLASS = re.compile(
    r"\bjava\.(?:lang\.(?:string(?:builder|buffer)?|integer|number|long|boolean|character|math)"
    r"|io\.\w{0,40}(?:stream|reader|writer|file|console)\w{0,20}|util\.(?:scanner|prefs|priorityqueue))\b"
)
_JAVA_QUALIFIED_RUNTIME = re.compile(r"\bjavax?\.[\w.]{0,100}?\b(?:runtime|processbuilder)\b")
_JAVA_GADGET = re.compile(
    r"\b(?:runtime|processbuilder)\b[\w.]{0,100}?(?:clonetransformer|forclosure|instantiatefactory"
    r"|instantiatetransformer|invokertransformer|prototypeclonefactory|prototypeserializationfactory|whileclosure"
    r"|chainedtransformer|constanttransformer)"
    r"|\b(?:invokertransformer|chainedtransformer|instantiatetransformer|instantiatefactory|clonetransformer"
    r"|prototypeclonefactory|prototypeserializationfactory|whileclosure|forclosure|templatesimpl"
    r"|annotationinvocationhandler|badattributevalueexpexception|jdbcrowsetimpl|transformingcomparator"
    r"|lazymap|transformedmap|beancomparator|jndidatasourcefactory|c3p0|mozillainterpreter)\b"
    r"|\b(?:clonetransformer|forclosure|instantiatefactory|instantiatetransformer|invokertransformer"
    r"|prototypeclonefactory|prototypeserializationfactory|whileclosure)\b[\w.]{0,100}?\b(?:runtime|processbuilder)\b"
)
_JAVA_SERIALIZED = re.compile(r"rO0AB|KztAAU|Cs7QAF|\xac\xed\x00\x05")
_JAVA_SERIALIZED_HEX = re.compile(r"aced0005", re.IGNORECASE)
_JAVA_EXPRESSION = re.compile(
    r"#_memberaccess|ognlcontext|@java\.lang\.\w{1,40}@|#context\s*\[|\bt\s*\(\s*java\.[\w.]{1,100}\)"
    r"|\.getruntime\s*\(\s*\)|getclass\s*\(\s*\)\s*\.\s*forname|\bclass\.forname\s*\(|getdeclaredmethod\s*\("
    r"|\bclass\s*(?:\.\s*module\s*)?(?:\.|\[\s*['\"]?)\s*classloader\b|\.classloader\s*\.\s*resources"
    r"|scriptenginemanager\s*\(|\bnew\s+java\.[\w.]{1,100}\s*\(|\.exec\s*\(\s*['\"](?:cmd|/bin/|bash|sh\b|calc)"
    r"|@ognl\.|#application\s*\[|#session\s*\[\s*['\"]|defineclass\s*\(|\.newinstance\s*\(\s*\)\s*\.\s*exec"
)
# A class name standing alone as a value (``x=java.io.File``, ``"@type": "java.lang.String"``,
# ``new java.io.File(``), as opposed to a mention in a sentence.
_JAVA_BEFORE = re.compile(r"""(?:^|[=:(\[,@]|\bnew|\bt\s*\()\s*["']?\s*$""")
_JAVA_AFTER = re.compile(r"""\s*["']?\s*(?:$|[&;,)}\]@(.\[])""")
_JAVA_KEYWORDS = re.compile(
    rb"runtime|processbuilder|clonetransformer|forclosure|instantiatefactory|instantiatetransformer"
    rb"|invokertransformer|prototypeclonefactory|prototypeserializationfactory|whileclosure|java\.lang",
    re.IGNORECASE,
)

# --- Node.js ------------------------------------------------------------------------------------
_NODE_SERIALIZED = re.compile(r"_\$\$nd_func\$\$_|__js_function", re.IGNORECASE)
_NODE_PROCESS = re.compile(
    r"""require\s*\(\s*['"`](?:node:)?(?:child_process|vm|worker_threads)['"`]\s*\)|\bchild_process\b[\s\S]{0,100}?"""
    r"""\.\s*(?:exec|execsync|spawn|spawnsync|execfile|fork)\s*\((?!\s*\))|process\s*\.\s*mainmodule|process\s*\.\s*binding\s*\("""
    r"""|global\s*\.\s*process\s*\.|import\s*\(\s*['"`](?:node:)?child_process""",
    re.IGNORECASE,
)
_NODE_SANDBOX = re.compile(r"constructor\s*\.\s*constructor|constructor\s*\[\s*['\"]constructor", re.IGNORECASE)
_NODE_THIS_CONSTRUCTOR = re.compile(r"\bthis\s*\.\s*constructor\b")
_NODE_DYNAMIC = re.compile(
    r"\bnew\s+Function\s*\(|\bFunction\s*\(\s*['\"`]\s*return\b"
    r"|\beval\s*\(\s*(?:String\s*\.\s*fromCharCode|atob|Buffer\s*\.\s*from|unescape|decodeURIComponent)\s*\("
)
_NODE_IIFE = re.compile(
    r"\(\s*(?:async\s+)?function\s*\w{0,40}\s*\([^()]{0,200}\)\s*\{[^\n]{0,2000}?\}\s*\)\s*\("
    r"|\bfunction\s*\w{0,40}\s*\([^()]{0,200}\)\s*\{[^\n]{0,2000}?\}\s*\(\s*\)"
    r"|\(\s*\([^()]{0,200}\)\s*=>\s*\{[^\n]{0,2000}?\}\s*\)\s*\("
)
_NODE_FUNCTION = re.compile(r"\bfunction\s*\w{0,40}\s*\([^()]{0,200}\)\s*\{")
_NODE_EXPORTS = re.compile(r"\bmodule\s*\.\s*exports\s*=")

# --- base64 -------------------------------------------------------------------------------------
_B64_MARKERS = re.compile(
    rb"_\$\$ND_FUNC\$\$_|__js_function|<\?php|\$\{jndi:|\xac\xed\x00\x05|O:\d{1,4}:\"[\w\\]{1,100}\":\d"
    rb"|java\.lang\.(?:Runtime|ProcessBuilder)|child_process|\beval\s*\(|\bsystem\s*\(|passthru\s*\(|/bin/(?:ba)?sh",
)
def _b64_cores(literal: bytes) -> list[str]:
    """The base64 characters that ``literal`` fully determines, at each of the three alignments.

    Whatever surrounds ``literal`` in the decoded bytes, its base64 text contains one of these
    (lower-cased, with the URL-safe ``-``/``_`` spellings of ``+``/``/`` as well), so they are
    sound prefilter triggers for "a base64 token decodes to something containing ``literal``".
    """
    cores: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + literal).decode("ascii").rstrip("=")
        first = -(-8 * shift // 6)  # first character whose 6 bits all lie inside the literal
        last = (8 * (shift + len(literal))) // 6  # one past the last such character
        core = encoded[first:last].lower()
        variants = {core}
        for plain, safe in (("+", "-"), ("/", "_")):
            variants |= {v.replace(plain, safe) for v in variants}
        cores |= variants
    return sorted(cores)


def _case_variants(word: bytes) -> list[bytes]:
    """Every upper/lower-case spelling of ``word`` (for IGNORECASE patterns)."""
    forms = [b""]
    for byte in word:
        char = bytes((byte,))
        options = {char.lower(), char.upper()}
        forms = [form + option for form in forms for option in sorted(options)]
    return forms


def _build_triggers() -> tuple[str, ...]:
    """Literal triggers: each rule below is reachable only when one of them is in the value.

    Derived rule by rule (see each gate in :func:`_php`, :func:`_java`, :func:`_node`):
    ``<?`` open tag; ``(`` any call (function, callable obfuscation, OGNL/SpEL, Node); ``$``
    variable functions and superglobals; ``//`` wrappers; ``includ``/``requir`` include
    statements; ``:"`` serialized objects; ``.ph`` script uploads; the literal alternatives of
    the php.ini, PHP-name, Java-class, Java-gadget, Java-expression and Node gates; the Java
    serialization magic; and for the base64 rules, the base64 text of every marker (case
    variants for the case-insensitive Java keywords) at the three alignments.
    """
    words: set[str] = {"<?", "(", "$", "//", "includ", "requir", ':"', ".ph"}
    words |= {"';", "')", '";', '")', "`;", "`)"}  # a statement breakout (_BREAKOUT) opens with one
    words |= set(_INI_GATE.pattern.replace("(?:pre|ap)", "pre|auto_ap").replace("\\.", ".").split("|"))
    words |= set(_PHP_NAMES.pattern.strip("(?:)").replace("(?:_array)?", "").split("|"))
    words |= {"java", "com.", "org.", "sun.", "groovy", "ognl", "bsh.", "clojure", "weblogic"}
    words |= set(_JAVA_GADGET_GATE.pattern.split("|"))
    words |= {"#_memberaccess", "ognlcontext", "@java.lang.", "#context", "classloader", "@ognl.", "#application",
              "#session"}  # the _JAVA_EXPRESSION alternatives without "("
    words |= set(_NODE_GATE.pattern.split("|"))
    words |= {"ro0ab", "kztaau", "cs7qaf", "\xac\xed", "aced0005"}
    markers = [b"_$$ND_FUNC$$_", b"__js_function", b"<?php", b"${jndi:", b"\xac\xed\x00\x05", b"java.lang.",
               b"child_process", b"eval", b"system", b"passthru", b"/bin/"]
    markers += [b"O:%d:\"" % d for d in range(10)] + [b"O:%02d" % d for d in range(100)]
    for keyword in (b"runt", b"proc", b"clon", b"forc", b"inst", b"invo", b"prot", b"whil", b"java"):
        markers += _case_variants(keyword)
    for marker in markers:
        words.update(_b64_cores(marker))
    return tuple(sorted(w for w in words if w))


class CodeInjectionDetector:
    """PHP / Java / Node.js code injection; see the module docstring."""

    name = "code_injection"
    triggers: tuple[str, ...] = ()  # set below, once the gates are defined

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring for the rules."""
        text = value.decoded
        if not text:
            return []
        if location.startswith("xml.") and location.endswith((":tag", ":name")):
            return []  # XML element/attribute names are structure, not data (a parser rejects "(")
        findings: list[Finding] = []
        seen: set[str] = set()

        def add(rule: str, message: str, severity: str, start: int, end: int, level: int = 1,
                source: str = "") -> None:
            if rule in seen:
                return
            seen.add(rule)
            findings.append(Finding(self.name, _PREFIX + rule, message, severity, location,
                                    excerpt(source or text, start, end), level))

        lower = value.lower
        if not plain_prose(value.raw) or _PROSE_CODE_MATCH(lower):
            # Skipped only for plain prose without a _PROSE_CODE_MATCH word, which none of them can report.
            _php(text, value, location, paranoia, add)
            _statement_breakout(text, add)
            _java(text, lower, value, location, paranoia, add)
            _node(text, paranoia, add)
        _base64(text, paranoia, add, seen)
        return findings


def _statement_breakout(text: str, add: _Add) -> None:
    """A value that ends the string and statement it was pasted into and starts its own (:data:`_BREAKOUT`)."""
    quote = min((i for i in (text.find("'", 0, 48), text.find('"', 0, 48), text.find("`", 0, 48)) if i >= 0),
                default=-1)
    if quote < 0 or text[quote + 1 : quote + 8].lstrip()[:1] not in (";", ")"):
        return  # the first quote (a match can use no other) is not closed by ")" or ";"
    breakout = _BREAKOUT.match(text)
    if breakout is not None:
        add("statement-breakout", "string closed and a statement injected", "critical",
            breakout.start(), breakout.end())


def _php(text: str, value: Value, location: str, paranoia: int, add: _Add) -> None:
    tag = _OPEN_TAG.search(text) if "<?" in text else None
    if tag is not None:
        add("php-open-tag", "PHP open tag", "critical", tag.start(), tag.end())
    if "(" in text:
        _php_calls(text, add)
        concat = _CONCAT_CALL.search(text) if "." in text else None
        if concat is not None and concat.group(1).lower() in _EXEC_FUNCTIONS:
            add("php-function-call", f"PHP function {concat.group(1)}() concatenated into a string", "critical",
                concat.start(), concat.end())
    if "$" in text:
        blanked = _PHP_COMMENT.sub(" ", text) if ("/*" in text or "#" in text or "//" in text) else text
        call = _variable_call(blanked) or _INTERPOLATED_CALL.search(blanked)
        if call is not None:
            # "say $hex ($rev_name)" in a manual reads like a call; code alone does not have prose.
            severity = "critical" if _code_only(blanked, call.start(), call.end()) else "warning"
            add("php-variable-function", "PHP variable function call", severity, call.start(), call.end(),
                source=blanked)
        glob = _SUPERGLOBAL.search(text)
        if glob is not None:
            after = text[glob.end() : glob.end() + 1]
            whole = not text[: glob.start()].strip() or is_name_location(location)
            severity = "critical" if after in ("[", "{") or whole else "error"
            add("php-superglobal", f"PHP superglobal {glob.group()}", severity, glob.start(), glob.end())
    wrapper = _WRAPPER.search(text) if "//" in text else None
    if wrapper is not None:
        add("php-wrapper", "PHP stream wrapper", "critical", wrapper.start(), wrapper.end())
    include = _INCLUDE_STATEMENT.search(text) if ("includ" in value.lower or "requir" in value.lower) else None
    if include is not None:
        add("php-function-call", "PHP include of a URL, path or request variable", "critical",
            include.start(), include.end())
    serialized = _SERIALIZED.search(text) if ':"' in text else None
    if serialized is not None:
        add("php-serialized-object", "PHP serialized object", "critical", serialized.start(), serialized.end())
    directive = _INI_DIRECTIVE.search(text) if _INI_GATE_MATCH(value.lower) else None
    if directive is not None:
        add("php-config-directive", f"php.ini directive {directive.group(1)!r}", "critical",
            directive.start(1), directive.end())
    if value.kind == "filename" or location.endswith(":filename") or header_name(location) in _FILENAME_HEADERS:
        script = _SCRIPT_FILENAME.search(text.strip())
        if script is not None:
            add("php-script-upload", "upload named like a PHP script", "critical", script.start(), script.end())
    if ")" in text or "]" in text or "}" in text:
        _php_callable(text, add)
    lower = value.lower
    name = _PHP_NAMES.search(lower) if _PHP_NAMES_MATCH(lower) else None
    if name is not None:
        # The whole value is one identifier holding the name (``base64_decode``, ``\call_user_func``,
        # ``FOOcall_user_func``): a callback or a name glued to junk, never a word in a sentence.
        exact = _ONE_IDENTIFIER.fullmatch(lower.strip(" \t\r\n'\"")) is not None
        add("php-function-name", f"PHP high-risk function name {name.group()!r}",
            "critical" if paranoia >= 2 or exact else "error", name.start(), name.end(), source=lower)


def _variable_call(text: str) -> re.Match[str] | None:
    """The first :data:`_VARIABLE_CALL` whose callee is dynamic (not ``$o->method(``)."""
    for count, call in enumerate(_VARIABLE_CALL.finditer(text)):
        if count >= _MAX_VARIABLE_CALLS:
            break
        piece = call.group("piece")
        if piece is not None and _STATIC_METHOD.match(piece) is not None:
            continue
        if call.group().startswith("$") and _PERL_LOOP.search(text, max(0, call.start() - 16), call.start()):
            continue  # Perl's "foreach my $x (@list)": PHP writes "foreach ($list as $x)"
        return call
    return None


def _php_calls(text: str, add: _Add) -> None:
    """``name(`` for a high-risk PHP function, with a code-shaped argument list."""
    mentioned: re.Match[str] | None = None
    count = 0
    for call in _PHP_CALL.finditer(text):
        if call.group(1).lower() not in _PHP_FUNCTION_SET:
            continue
        count += 1
        if count > 64:
            break
        gap = call.group(2)
        after = text[call.end() : call.end() + 80]
        if _PLURAL_PAREN.match(text, call.end() - 1) or _MAN_SECTION.match(after):
            continue  # "file(s)", "symlink(7)": a plural, a manual section
        if not gap:
            code = _CODE_ARG.match(after) is not None
        else:
            # "system (the new one)": a space before the parenthesis and words inside is prose.
            code = re.match(r"""\s*(?:[$'"`\d)\[@]|\w+\s*\(|$)""", after) is not None
        if not code:
            continue
        empty = re.match(r"\s*\)", after) is not None or not after.strip()
        name = call.group(1).lower()
        if empty and not _code_only(text, call.start(), call.end() + 2):
            # "use eval() with care": a function named in a sentence, not called.  # sealgate: allow
            mentioned = mentioned or call
            continue
        if name in _INCLUDES and _MODULE_SPECIFIER.match(after) is not None:
            continue  # "require('node:events')": a Node.js module by name, no file PHP could include
        php_arg = re.match(r"""\s*(?:@?\$|['"`\d)\[])""", after) is not None
        severity = "critical"
        if is_prose(text, min_words=6) and not re.match(r"\s*@?\$", after):  # only here: most "(" are no call
            # Code quoted in a sentence ("eval(repr(obj)) == obj"): critical only on a PHP variable.  # sealgate: allow
            severity = "warning"
        elif name not in _EXEC_FUNCTIONS and not php_arg and not empty:
            # "gethostbyname(host) -> address": a signature in documentation, not a PHP call.
            severity = "warning"
        add("php-function-call", f"call of PHP function {call.group(1)}()", severity, call.start(), call.end())
        return
    if mentioned is not None:
        add("php-function-call", f"PHP function {mentioned.group(1)}() mentioned in text", "warning",
            mentioned.start(), mentioned.end())


def _compact(text: str) -> str:
    """``text`` without PHP comments and whitespace (how PHP's tokenizer sees a payload)."""
    if "/*" in text or "#" in text or "//" in text:
        text = _PHP_COMMENT.sub("", text)
    return _WHITESPACE.sub("", text)


def _php_callable(text: str, add: _Add) -> None:
    """``(system)('id')``, ``[system][0](ls)``, ``'sys'.'tem'`` ... ``(x)('id')`` (CRS 933210)."""
    compact = _compact(text)
    if "." in compact:
        compact = _CONCAT.sub("", compact)
    # The first candidate after the start: at the start there is no callee ('"(system)('id')"'
    # opens with a quote, and the call is the next candidate).
    for call in _INDIRECT_CALL.finditer(compact):
        if call.start() == 0:
            continue
        # The function name must be close to the call: (sy.(st).em)('id'), or define('x','sys'.'tem');(x)(.
        window = compact[max(0, call.start() - 80) : call.start() + 1]
        name = _RISKY_NAME.search(window)
        if name is None:
            # (sy.(st).em)('id'): PHP joins the pieces of the callee into one name.
            callee = _callee(compact, call.start())
            flat = _NON_WORD.sub("", callee)
            name = _RISKY_NAME.search(flat)
        if name is not None:
            add("php-callable-obfuscation", f"PHP callable built from {name.group()!r}", "critical",
                call.start(), call.end(), source=compact)
        return


def _callee(compact: str, close: int) -> str:
    """The bracketed expression ending at ``compact[close]`` (at most 200 characters back)."""
    closer = compact[close]
    opener = {")": "(", "]": "[", "}": "{"}.get(closer)
    if opener is None:
        return ""
    depth = 0
    for index in range(close, max(-1, close - 200), -1):
        ch = compact[index]
        if ch == closer:
            depth += 1
        elif ch == opener:
            depth -= 1
            if depth == 0:
                return compact[index : close + 1]
    return ""


_JAVA_CLASS_GATE = re.compile(r"java|com\.|org\.|sun\.|groovy|ognl|bsh\.|clojure|weblogic")
_JAVA_GADGET_GATE = re.compile(
    r"runtime|processbuilder|transformer|closure|factory|templatesimpl|handler|exception|rowset|lazymap"
    r"|transformedmap|comparator|c3p0|interpreter"
)
_JAVA_EXPRESSION_GATE = re.compile(
    r"[#@]|classloader|getruntime|forname|getdeclared|scriptengine|new\s+java|\.exec|defineclass|t\s*\("
)
_NODE_GATE = re.compile(r"nd_func|js_function|require|child_process|process|constructor|function|eval|module|=>")
_INI_GATE = re.compile(
    r"allow_url|auto_(?:pre|ap)|disable_|open_base|safe_mode|register_gl|magic_quo|session\.|cgi\.|sendmail"
    r"|enable_dl|zend_ext|doc_root|user_ini|include_path|error_log|display_err|expose_php|file_upl|upload_tmp"
    r"|mail\.log|extension_dir"
)


# The gates above that are alternations of plain literals, as one Aho-Corasick pass each: the same
# answer (some literal occurs) at a fraction of a regex alternation's cost on a long text. The
# literal lists are read off the patterns, so the two forms cannot drift apart.
def _literals(pattern: re.Pattern[str]) -> list[str]:
    return pattern.pattern.replace("auto_(?:pre|ap)", "auto_pre|auto_ap").replace("\\.", ".").split("|")


_INI_GATE_MATCH = trigger_matcher(_literals(_INI_GATE))
_JAVA_CLASS_GATE_MATCH = trigger_matcher(_literals(_JAVA_CLASS_GATE))
_JAVA_GADGET_GATE_MATCH = trigger_matcher(_literals(_JAVA_GADGET_GATE))
_NODE_GATE_MATCH = trigger_matcher(_literals(_NODE_GATE))
# _PHP_NAMES is a plain alternation ("call_user_func(?:_array)?" holds "call_user_func").
_PHP_NAME_LITERALS: Final = _PHP_NAMES.pattern.strip("(?:)").replace("(?:_array)?", "").split("|")
_PHP_NAMES_MATCH = trigger_matcher(_PHP_NAME_LITERALS)
# Plain prose (:func:`plain_prose`: ASCII words, single spaces, a mark only before a space) has no
# "(", "$", "<", "/", "=", quote, bracket, "_", digit or "." followed by a letter: so no PHP rule
# but the names of _PHP_NAMES that are all letters, no Java class name, no Node.js rule without
# "process" or "constructor", and the Java rules only through their gates' words (gadgets, the
# expression words, the KztAAU magic). Without any of these words _php, _java and _node report
# nothing; tests/detectors/test_fast_paths.py checks it.
_PROSE_CODE_MATCH = trigger_matcher(
    [name for name in _PHP_NAME_LITERALS if name.isalpha()] + _literals(_JAVA_GADGET_GATE)
    + ["kztaau", "classloader", "getruntime", "forname", "getdeclared", "scriptengine", "java", "defineclass",
       "process", "constructor"]
)
_JAVA_MAGIC: Final = ("rO0AB", "KztAAU", "Cs7QAF", "\xac\xed\x00\x05")  # _JAVA_SERIALIZED's literals


def _java_serialized(text: str) -> re.Match[str] | None:
    """``_JAVA_SERIALIZED.search(text)``, run only when one of its literals is in ``text``."""
    if not any(magic in text for magic in _JAVA_MAGIC):
        return None
    return _JAVA_SERIALIZED.search(text)
# Every match of _JAVA_EXPRESSION_GATE holds one of these ("new\s+java" holds "java", "t\s*\("
# holds "("): without one, the regex is not run.
_JAVA_EXPRESSION_NEEDS = trigger_matcher(
    ["#", "@", "classloader", "getruntime", "forname", "getdeclared", "scriptengine", "java", ".exec",
     "defineclass", "("]
)


def _java(text: str, lower: str, value: Value, location: str, paranoia: int, add: _Add) -> None:
    if "." in lower and _JAVA_CLASS_GATE_MATCH(lower):
        danger = _JAVA_DANGEROUS_CLASS.search(lower)
        if danger is not None:
            add("java-class", f"Java class {danger.group()!r}", "critical", danger.start(), danger.end(), source=lower)
        else:
            common = _JAVA_SENSITIVE_PACKAGE.search(lower) or _JAVA_COMMON_CLASS.search(lower)
            if common is not None:
                before = lower[max(0, common.start() - 16) : common.start()]
                after = lower[common.end() : common.end() + 8]
                code = is_name_location(location) or (
                    _JAVA_BEFORE.search(before) is not None and _JAVA_AFTER.match(after) is not None
                )
                add("java-class", f"Java class {common.group()!r}", "critical" if code else "warning",
                    common.start(), common.end(), source=lower)
        qualified = _JAVA_QUALIFIED_RUNTIME.search(lower)
        if qualified is not None:
            add("java-gadget", "package-qualified Runtime/ProcessBuilder", "critical",
                qualified.start(), qualified.end(), source=lower)
    gadget = _JAVA_GADGET.search(lower) if _JAVA_GADGET_GATE_MATCH(lower) else None
    if gadget is not None:
        add("java-gadget", f"Java deserialization gadget {gadget.group()!r}", "critical",
            gadget.start(), gadget.end(), source=lower)
    serialized = _java_serialized(text) or _java_serialized(value.raw)
    if serialized is None and (not text.isascii() or "aced0005" in lower):
        # Case-insensitive "aced0005": in ASCII text (where ``lower`` is ``text.lower()``) it is
        # the literal in ``lower``; other text is searched as before.
        serialized = _JAVA_SERIALIZED_HEX.search(text)
    if serialized is not None:
        add("java-serialized-object", "Java serialized object", "critical", serialized.start(), serialized.end())
    expression = (
        _JAVA_EXPRESSION.search(lower)
        if _JAVA_EXPRESSION_NEEDS(lower) and _JAVA_EXPRESSION_GATE.search(lower)
        else None
    )
    if expression is not None:
        add("java-expression", "OGNL/SpEL/EL reflection", "critical", expression.start(), expression.end(),
            source=lower)


def _node_process_severity(text: str, match: re.Match[str]) -> str:
    """"error" for a module only loaded into a declaration, "critical" otherwise.

    ``const { exec, spawn } = require('node:child_process');`` at the head of a code sample
    binds names and runs nothing; a payload calls what it loads: ``require('child_process')
    .exec(...)`` (a member right after the call), ``cp.execSync('id')``, ``exec('id')``,
    ``new vm.Script(...)``, ``new Worker(...)`` later in the value. So a declaration with no
    such call after it counts 4 points (it blocks with a second sign).
    """
    if match.group()[:7].lower() != "require":
        return "critical"
    end = match.end()
    if text.startswith(".", end) or _NODE_MEMBER_AFTER.match(text, end) is not None:
        return "critical"
    if _NODE_DECLARATION.search(text, max(0, match.start() - _NODE_DECLARATION_REACH), match.start()) is None:
        return "critical"
    return "critical" if _NODE_RUN_CALL.search(text, end) is not None else "error"


# A declaration right before ``require(...)``: ``const x =``, ``let { a, b } =``.
_NODE_DECLARATION_REACH: Final = 240
_NODE_DECLARATION = re.compile(r"\b(?:const|let|var)\s+(?:[\w$]{1,60}|\{[^{}]{0,200}\})\s*=\s*\Z")
_NODE_MEMBER_AFTER = re.compile(r"\s*[.\[(]")
# A call that runs a command or code with something Node's child_process/vm/worker_threads give.
_NODE_RUN_CALL = re.compile(
    r"\b(?:exec|execsync|execfile|execfilesync|spawn|spawnsync|fork|runin(?:new|this)?context"
    r"|compilefunction)(?:['\"`]\s*\])?\s*\((?!\s*\))|\bnew\s+(?:[\w$]{1,30}\s*\.\s*)?(?:script|worker)\s*\(",
    re.IGNORECASE,
)


def _node(text: str, paranoia: int, add: _Add) -> None:
    lower = text.lower()
    if not _NODE_GATE_MATCH(lower):
        return
    marker = _NODE_SERIALIZED.search(text)
    if marker is not None:
        add("node-serialized-function", "serialized JavaScript function", "critical", marker.start(), marker.end())
    # Each regex below runs only when a literal every one of its matches holds is present
    # (_node_may_match); "function" in a sentence no longer costs all of them.
    process = _NODE_PROCESS.search(text) if _node_may_match(text, lower, ("require", "process")) else None
    if process is not None:
        add("node-process-access", "Node.js process/child_process access", _node_process_severity(text, process),
            process.start(), process.end())
    sandbox = _NODE_SANDBOX.search(text) if _node_may_match(text, lower, ("constructor",)) else None
    if sandbox is not None:
        add("node-sandbox-escape", "constructor.constructor sandbox escape", "critical",
            sandbox.start(), sandbox.end())
    elif "constructor" in text:  # the regex is case-sensitive
        this_ctor = _NODE_THIS_CONSTRUCTOR.search(text)
        if this_ctor is not None:
            add("node-sandbox-escape", "this.constructor access", "critical" if paranoia >= 2 else "error",
                this_ctor.start(), this_ctor.end())
    dynamic = _NODE_DYNAMIC.search(text) if "(" in text else None  # each alternative has "\("
    if dynamic is not None:
        add("node-dynamic-code", "dynamic JavaScript code", "critical", dynamic.start(), dynamic.end())
    if ("function" in text or "=>" in text) and "(" in text:  # each alternative has "\("
        iife = _NODE_IIFE.search(text)
        if iife is not None:
            add("node-function-literal", "immediately invoked function", "critical", iife.start(), iife.end())
        else:
            function = _NODE_FUNCTION.search(text)
            if function is not None:
                alone = paranoia >= 2 or _code_only(text, function.start(), function.end())
                add("node-function-literal", "JavaScript function literal", "critical" if alone else "error",
                    function.start(), function.end())
    exports = _NODE_EXPORTS.search(text) if "exports" in text else None  # case-sensitive regex
    if exports is not None:
        alone = paranoia >= 2 or _code_only(text, exports.start(), exports.end())
        add("node-module-exports", "module.exports assignment", "critical" if alone else "error",
            exports.start(), exports.end())


def _node_may_match(text: str, lower: str, literals: tuple[str, ...]) -> bool:
    """False only when a case-insensitive regex whose every match holds one of ``literals`` cannot match.

    For ASCII text a case-insensitive match of an ASCII literal is that literal in ``lower``; in
    other text Unicode case folding (``ı``, ``ſ``, the Kelvin sign) can match an ASCII letter, so
    the regex is run.
    """
    return not text.isascii() or any(literal in lower for literal in literals)


def _standalone(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` is a whole field: alone, or right after ``name=``/``"key":``."""
    before = text[max(0, start - 64) : start].rstrip(" \t\"'")
    after = text[end : end + 4].lstrip("=\"' \t")
    return (not before or before.endswith(("=", ":"))) and (not after or after[0] in "&;,}\n")


def _code_only(text: str, start: int, end: int) -> bool:
    """True when nothing around ``text[start:end]`` reads like a sentence (fewer than 2 words)."""
    outside = text[max(0, start - 200) : start] + " " + text[end : end + 200]
    return prose_words(outside) < 2


def _base64(text: str, paranoia: int, add: _Add, seen: set[str]) -> None:
    """Payload markers hidden in base64 tokens (any alignment)."""
    if not _B64_GATE(text.lower()):
        return  # no base64 text of a marker: decoding every token (a User-Agent's) finds nothing
    for start, end, decoded in b64_decoded_tokens(text):
        marker = _B64_MARKERS.search(decoded)
        if marker is not None:
            shown = marker.group().decode("latin-1")
            add("base64-payload", f"base64 of {shown!r}", "critical", start, end)
            return
        if end - start <= 256 and _PREFIX + "java-base64-keyword" not in seen:
            keyword = _JAVA_KEYWORDS.search(decoded)
            if keyword is not None:
                shown = keyword.group().decode("latin-1")
                # The token encodes the keyword and nothing else (up to the bytes an arbitrary
                # cut of the encoding garbles): no data, only an obfuscated name.
                only = len(decoded) - len(keyword.group()) <= 4 and _standalone(text, start, end)
                add("java-base64-keyword", f"base64 of Java keyword {shown!r}",
                    "critical" if paranoia >= 2 or only else "error", start, end)


CodeInjectionDetector.triggers = _build_triggers()
# The triggers written in the base64 alphabet: among them the base64 cores of every marker
# (_b64_cores), so a value without one cannot hold a base64-encoded marker.
_B64_GATE = trigger_matcher([w for w in CodeInjectionDetector.triggers if re.fullmatch(r"[a-z0-9+/_-]+", w)])
DETECTOR = CodeInjectionDetector()
