"""OData v4.01 query options as Prism Central v4 applies them, over entities in their wire shape.

`$filter` compiles once into nested closures, so a predicate costs no parsing per entity: lists
of 50,000 VMs are filtered on every request.
"""

import re
from collections.abc import Callable
from datetime import datetime
from functools import cmp_to_key

Predicate = Callable[[dict], bool]
Getter = Callable[[dict], object]


class ODataError(ValueError):
    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
    |(?P<enum>[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+)'(?P<enumval>(?:[^']|'')*)'
    |'(?P<string>(?:[^']|'')*)'
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<ident>[A-Za-z_$][\w$]*(?:/[A-Za-z_$][\w$]*)*)
    |(?P<punct>[(),:/])
    |(?P<bad>\S)
    )""",
    re.X,
)
COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
FUNCTIONS = ("startswith", "endswith", "contains")
_MISSING = object()


class _Tok:
    __slots__ = ("kind", "pos", "value")

    def __init__(self, kind: str, value, pos: int) -> None:
        self.kind, self.value, self.pos = kind, value, pos


def _tokenize(text: str) -> list[_Tok]:
    toks, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            break
        start = m.start(m.lastgroup)
        kind = m.lastgroup
        if kind == "bad":
            if text[start] == "'":
                raise ODataError(
                    "$filter", f"Invalid $filter at position {start}: unterminated string literal."
                )
            raise ODataError(
                "$filter", f"Invalid $filter at position {start}: unexpected character '{text[start]}'."
            )
        if kind == "enumval":
            kind = "enum"
        if kind == "enum":
            toks.append(_Tok("enum", (m.group("enum"), m.group("enumval").replace("''", "'")), start))
        elif kind == "string":
            toks.append(_Tok("literal", m.group("string").replace("''", "'"), start))
        elif kind == "number":
            raw = m.group("number")
            toks.append(_Tok("literal", float(raw) if "." in raw else int(raw), start))
        elif kind == "datetime":
            toks.append(_Tok("literal", _parse_dt(m.group("datetime")), start))
        elif kind == "ident":
            word = m.group("ident")
            if word in ("true", "false"):
                toks.append(_Tok("literal", word == "true", start))
            elif word == "null":
                toks.append(_Tok("literal", None, start))
            else:
                toks.append(_Tok("ident", word, start))
        else:
            toks.append(_Tok("punct", m.group("punct"), start))
        pos = m.end()
    toks.append(_Tok("end", None, len(text)))
    return toks


def _parse_dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class _ScalarView(dict):
    """A scalar list element seen through a lambda variable (`t eq 'AOS'`): the bare variable reads it."""

    def __init__(self, value) -> None:
        super().__init__()
        self.value = value


def _lookup(obj, parts: tuple[str, ...]):
    if isinstance(obj, _ScalarView):
        return obj.value if not parts else _MISSING
    for part in parts:
        if not isinstance(obj, dict):
            return _MISSING
        obj = obj.get(part, _MISSING)
        if obj is _MISSING:
            return _MISSING
    return obj


def _coerce(value, literal):
    """Entity datetimes are ISO strings; compare them as datetimes when the literal is one."""
    if isinstance(literal, datetime) and isinstance(value, str):
        try:
            return _parse_dt(value)
        except ValueError:
            return value
    return value


def _compare(op: str, value, literal) -> bool:
    if value is _MISSING:
        value = None
    value = _coerce(value, literal)
    if op == "eq":
        return value == literal
    if op == "ne":
        return value != literal
    if value is None or literal is None or isinstance(value, bool) != isinstance(literal, bool):
        return False
    try:
        if op == "gt":
            return value > literal
        if op == "ge":
            return value >= literal
        if op == "lt":
            return value < literal
        return value <= literal
    except TypeError:
        return False


class _Parser:
    def __init__(self, text: str, filterable, enum_types) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.filterable = filterable
        self.enum_types = dict(enum_types or {})
        self.lambda_vars: dict[str, str] = {}

    # -- token helpers ----------------------------------------------------------------------
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def fail(self, message: str, tok: _Tok | None = None):
        tok = tok or self.tok
        raise ODataError("$filter", f"Invalid $filter at position {tok.pos}: {message}")

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect_punct(self, char: str) -> None:
        if self.tok.kind != "punct" or self.tok.value != char:
            found = "end of expression" if self.tok.kind == "end" else repr(self.tok.value)
            self.fail(f"expected '{char}', found {found}.")
        self.i += 1

    def is_word(self, word: str) -> bool:
        return self.tok.kind == "ident" and self.tok.value == word

    # -- grammar ----------------------------------------------------------------------------
    def parse(self) -> Predicate:
        if self.tok.kind == "end":
            self.fail("the expression is empty.")
        pred = self.parse_or()
        if self.tok.kind != "end":
            self.fail(f"unexpected {self.tok.value!r} after a complete expression.")
        return pred

    def parse_or(self) -> Predicate:
        return self._chain("or", self.parse_and, lambda a, b: lambda e: a(e) or b(e))

    def parse_and(self) -> Predicate:
        return self._chain("and", self.parse_not, lambda a, b: lambda e: a(e) and b(e))

    def _chain(self, word: str, operand: Callable[[], Predicate], combine) -> Predicate:
        left = operand()
        while self.is_word(word):
            self.i += 1
            left = combine(left, operand())
        return left

    def parse_not(self) -> Predicate:
        if self.is_word("not"):
            self.i += 1
            inner = self.parse_not()
            return lambda e: not inner(e)
        return self.parse_primary()

    def parse_primary(self) -> Predicate:
        tok = self.tok
        if tok.kind == "punct" and tok.value == "(":
            self.i += 1
            inner = self.parse_or()
            self.expect_punct(")")
            return inner
        if tok.kind == "ident" and tok.value in FUNCTIONS:
            return self.parse_function()
        return self.parse_comparison()

    def parse_operand(self) -> tuple[str, object, str | None]:
        """('path', getter, path) or ('literal', value, enum type)."""
        tok = self.tok
        if tok.kind in ("literal", "enum"):
            self.i += 1
            if tok.kind == "enum":
                return "literal", tok.value[1], tok.value[0]
            return "literal", tok.value, None
        if tok.kind == "ident" and tok.value in ("tolower", "toupper"):
            self.i += 1
            self.expect_punct("(")
            kind, getter, path = self.parse_operand()
            if kind != "path":
                self.fail(f"{tok.value}() takes a property path.", tok)
            self.expect_punct(")")
            fn = str.lower if tok.value == "tolower" else str.upper
            return "path", (lambda g: lambda e: fn(v) if isinstance(v := g(e), str) else v)(getter), path
        if tok.kind == "ident":
            after = self.toks[self.i + 1]
            if after.kind == "punct" and after.value == "(":
                self.fail(
                    f"unknown function '{tok.value}'; supported: {', '.join(FUNCTIONS)}, tolower, toupper, "
                    "and any/all lambdas."
                )
            if tok.value in ("and", "or", "not", *COMPARISONS, "in"):
                self.fail(f"expected a property or a value, found the keyword '{tok.value}'.")
            self.i += 1
            return "path", *self.resolve(tok)
        if tok.kind == "end":
            self.fail("expected a property or a value, found the end of the expression.")
        self.fail(f"expected a property or a value, found {tok.value!r}.")
        raise AssertionError  # unreachable: fail() raises

    def resolve(self, tok: _Tok) -> tuple[Getter, str]:
        parts = tok.value.split("/")
        if parts[-1] in ("any", "all"):
            self.fail(
                f"'{tok.value}' is a lambda; use it as {'/'.join(parts[:-1])}/{parts[-1]}(x: ...).", tok
            )
        head = parts[0]
        if head in self.lambda_vars:
            full = "/".join([self.lambda_vars[head], *parts[1:]])
            rest = tuple(parts[1:])
            return (lambda e, r=rest: _lookup(e, r)), full
        self.check_field(tok.value, tok)
        t = tuple(parts)
        return (lambda e: _lookup(e, t)), tok.value

    def check_field(self, path: str, tok: _Tok, alternatives: tuple[str, ...] = ()) -> None:
        if self.filterable is None:
            return
        if path in self.filterable or any(a in self.filterable for a in alternatives):
            return
        self.fail(
            f"'{path}' is not filterable here; filterable fields: {', '.join(sorted(self.filterable))}.", tok
        )

    def parse_comparison(self) -> Predicate:
        start = self.tok
        if start.kind == "ident" and start.value.endswith(("/any", "/all")):
            return self.parse_lambda()
        left = self.parse_operand()
        op_tok = self.tok
        if op_tok.kind == "ident" and op_tok.value == "in":
            self.i += 1
            return self.parse_in(left, op_tok)
        if op_tok.kind != "ident" or op_tok.value not in COMPARISONS:
            found = "end of expression" if op_tok.kind == "end" else repr(op_tok.value)
            self.fail(f"expected a comparison operator ({', '.join(COMPARISONS)}) or 'in', found {found}.")
        self.i += 1
        right = self.parse_operand()
        op = op_tok.value
        if left[0] == "literal" and right[0] == "path":
            left, right = right, left
            op = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(op, op)
        if left[0] != "path" or right[0] != "literal":
            self.fail("a comparison needs one property and one value.", op_tok)
        getter, path = left[1], left[2]
        literal, enum_type = right[1], right[2]
        self.check_enum(path, enum_type, op_tok)
        return lambda e: _compare(op, getter(e), literal)

    def check_enum(self, path: str, enum_type: str | None, tok: _Tok) -> None:
        expected = self.enum_types.get(path)
        if enum_type and expected and enum_type.lower() != expected.lower():
            self.fail(f"'{path}' takes {expected} literals, not {enum_type}.", tok)

    def parse_in(self, left, op_tok: _Tok) -> Predicate:
        if left[0] != "path":
            self.fail("'in' needs a property on its left.", op_tok)
        self.expect_punct("(")
        values = []
        while True:
            kind, value, enum_type = self.parse_operand()
            if kind != "literal":
                self.fail("'in' takes a list of values.")
            self.check_enum(left[2], enum_type, op_tok)
            values.append(value)
            if self.tok.kind == "punct" and self.tok.value == ",":
                self.i += 1
                continue
            break
        self.expect_punct(")")
        getter = left[1]
        return lambda e: any(_compare("eq", getter(e), v) for v in values)

    def parse_function(self) -> Predicate:
        name_tok = self.take()
        self.expect_punct("(")
        kind, getter, _ = self.parse_operand()
        if kind != "path":
            self.fail(f"{name_tok.value}() takes a property first.", name_tok)
        self.expect_punct(",")
        kind2, value, _ = self.parse_operand()
        if kind2 != "literal" or not isinstance(value, str):
            self.fail(f"{name_tok.value}() takes a string second.", name_tok)
        self.expect_punct(")")
        name = name_tok.value
        if name == "startswith":
            return lambda e: isinstance(v := getter(e), str) and v.startswith(value)
        if name == "endswith":
            return lambda e: isinstance(v := getter(e), str) and v.endswith(value)
        return lambda e: isinstance(v := getter(e), str) and value in v

    def parse_lambda(self) -> Predicate:
        tok = self.take()
        collection, kind = tok.value.rsplit("/", 1)
        parts = collection.split("/")
        if parts[0] in self.lambda_vars:
            full = "/".join([self.lambda_vars[parts[0]], *parts[1:]])
            rest = tuple(parts[1:])
            items_of = lambda e, r=rest: _lookup(e, r)  # noqa: E731
        else:
            full = collection
            rest = tuple(parts)
            items_of = lambda e, r=rest: _lookup(e, r)  # noqa: E731
        self.expect_punct("(")
        if self.tok.kind == "punct" and self.tok.value == ")":
            self.i += 1
            if self.lambda_vars.get(parts[0]) is None:
                self.check_field(collection, tok)
            return lambda e: isinstance(v := items_of(e), list) and len(v) > 0
        var = self.take()
        if var.kind != "ident" or "/" in var.value:
            self.fail("a lambda starts with a variable name, as in any(x: x/extId eq '...').", var)
        self.expect_punct(":")
        saved = dict(self.lambda_vars)
        self.lambda_vars[var.value] = full
        checker = self.filterable
        # Fields inside the lambda are judged as `collection/field`, or by the collection itself.
        self.filterable = None
        body = self.parse_or()
        self.filterable = checker
        self.lambda_vars = saved
        self.expect_punct(")")
        if parts[0] not in saved:
            self.check_field(
                collection, tok, tuple(f for f in (checker or ()) if f.startswith(collection + "/"))
            )
        if kind == "any":
            return lambda e: isinstance(v := items_of(e), list) and any(_scalar_or(body, x) for x in v)
        return lambda e: isinstance(v := items_of(e), list) and all(_scalar_or(body, x) for x in v)


def _scalar_or(body: Predicate, item) -> bool:
    return body(item if isinstance(item, dict) else _ScalarView(item))


def compile_filter(
    text: str, filterable: frozenset[str] | None = None, enum_types: dict[str, str] | None = None
) -> Predicate:
    parser = _Parser(text, filterable, enum_types)
    predicate = parser.parse()

    def safe(entity: dict) -> bool:
        try:
            return bool(predicate(entity))
        except (TypeError, ValueError, AttributeError):
            return False

    return safe


def _cmp(a, b) -> int:
    if a is _MISSING or a is None:
        return 0 if (b is _MISSING or b is None) else -1
    if b is _MISSING or b is None:
        return 1
    try:
        return (a > b) - (a < b)
    except TypeError:
        return (str(type(a)) > str(type(b))) - (str(type(a)) < str(type(b)))


def compile_orderby(text: str, sortable: frozenset[str] | None = None) -> Callable[[list[dict]], list[dict]]:
    keys = []
    for clause in text.split(","):
        words = clause.split()
        if not words:
            raise ODataError("$orderby", f"Invalid $orderby '{text}': an empty sort clause.")
        if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise ODataError(
                "$orderby", f"Invalid $orderby clause '{clause.strip()}': use 'field' or 'field asc|desc'."
            )
        if sortable is not None and words[0] not in sortable:
            raise ODataError(
                "$orderby",
                f"'{words[0]}' is not sortable here; sortable fields: {', '.join(sorted(sortable))}.",
            )
        keys.append((tuple(words[0].split("/")), len(words) == 2 and words[1] == "desc"))

    def compare(a: dict, b: dict) -> int:
        for parts, desc in keys:
            c = _cmp(_lookup(a, parts), _lookup(b, parts))
            if c:
                return -c if desc else c
        return 0

    def order(items: list[dict]) -> list[dict]:
        if len(keys) == 1:
            parts, desc = keys[0]
            present = [i for i in items if _lookup(i, parts) not in (_MISSING, None)]
            absent = [i for i in items if _lookup(i, parts) in (_MISSING, None)]
            try:
                present.sort(key=lambda i: _lookup(i, parts), reverse=desc)
                return present + absent if desc else absent + present
            except TypeError:
                pass
        return sorted(items, key=cmp_to_key(compare))

    return order


def parse_select(text: str, selectable: frozenset[str] | None = None) -> list[str] | None:
    fields = [f.strip() for f in text.split(",") if f.strip()]
    if not fields or "*" in fields:
        return None
    if selectable is not None:
        unknown = [f for f in fields if f not in selectable]
        if unknown:
            raise ODataError(
                "$select",
                f"'{unknown[0]}' cannot be selected here; selectable fields: "
                f"{', '.join(sorted(selectable))}.",
            )
    return fields


def project(entity: dict, fields: list[str]) -> dict:
    out = {k: v for k, v in entity.items() if k.startswith("$") or k == "extId"}
    for field in fields:
        parts = field.split("/")
        value = _lookup(entity, tuple(parts))
        if value is _MISSING:
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


def parse_paging(
    page: str | None, limit: str | None, default_limit: int = 50, max_limit: int = 100
) -> tuple[int, int]:
    def number(raw: str | None, option: str, default: int) -> int:
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ODataError(option, f"Invalid {option} '{raw}': an integer is required.") from None

    p = number(page, "$page", 0)
    n = number(limit, "$limit", default_limit)
    if p < 0:
        raise ODataError("$page", f"Invalid $page {p}: pages count from 0.")
    if not 1 <= n <= max_limit:
        raise ODataError("$limit", f"Invalid $limit {n}: it must be between 1 and {max_limit}.")
    return p, n
