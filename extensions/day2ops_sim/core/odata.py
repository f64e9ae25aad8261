"""Server-side OData v4.01 query options ($filter, $orderby, $select, $page, $limit) as Prism Central v4
applies them to entities in their JSON wire shape (camelCase keys, nested dicts, lists).

A `$filter` is parsed once into nested closures; list endpoints then run the compiled predicate over
tens of thousands of entities per request, so nothing is parsed or matched by regex per entity.

Comparison rules, chosen so a predicate can never raise:
- a missing property and an explicit null are the same; `eq null` / `ne null` test for them;
- any other comparison with a missing/null property is false (`ne` included, as in SQL);
- values of different kinds (text, number, boolean, datetime) never compare: the comparison is false,
  and `true` never equals `1`;
- when the literal is a datetime, an entity's ISO-8601 text is compared as a datetime (naive = UTC);
- an enum literal such as Vmm.Ahv.Config.PowerState'ON' compares as the text 'ON'.
Error positions are 0-based character offsets into the option's text.
"""

import operator
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import NamedTuple

Predicate = Callable[[dict], bool]
# Compiled nodes see the root entity and the values bound to the enclosing lambda variables.
_Node = Callable[[dict, tuple], bool]
_Getter = Callable[[dict, tuple], object]

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
TEXT_FUNCTIONS = ("contains", "endswith", "startswith")
CASE_FUNCTIONS = ("tolower", "toupper")
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null", *COMPARISONS})
_FLIPPED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_ORDERINGS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
# Nesting is bounded so that neither the parser nor the closures it builds can exhaust the stack.
MAX_DEPTH = 64


class Term(NamedTuple):
    """A condition an index can answer: a root property, as stored, against text, number or boolean
    literals; `values` holds (literal kind, value) pairs, several only for `in`."""

    path: str
    op: str  # eq, in, gt, ge, lt, le or startswith
    values: tuple[tuple[str, object], ...]


_INDEXABLE_KINDS = ("str", "num", "bool")


def _hinted(node: _Node, terms: tuple[Term, ...], exact: bool) -> _Node:
    """Mark a node with the index terms it implies; `exact` when they match exactly what it does."""
    node.terms = terms
    node.exact = exact
    return node


def _hints(node: _Node) -> tuple[tuple[Term, ...], bool]:
    return getattr(node, "terms", ()), getattr(node, "exact", False)


class ODataError(ValueError):
    """A query option Prism would reject.

    `.option` is the query parameter ('$filter', '$orderby', '$select', '$page', '$limit'); `.message` is a
    readable sentence that names the offending field or token, its position and what is allowed.
    """

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message


def _invalid(option: str, pos: int, message: str) -> ODataError:
    return ODataError(option, f"Invalid {option} at position {pos}: {message}")


# --- $filter: tokens ---------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_GUID = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![\w-])", re.A
)
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?(?![\w.:+-])", re.A
)
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}", re.A)
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?(?![\w.])", re.A)
_ENUM_TYPE = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)'", re.A)
# Possessive, so that `'a''` reads as an unterminated "a'..." rather than "a" plus a stray quote.
_STRING_REST = re.compile(r"((?:[^']|'')*+)'")
_PATH = re.compile(r"[A-Za-z_$][\w$]*(?:/[A-Za-z_$][\w$]*)*", re.A)
_PATH_ONLY = re.compile(r"[A-Za-z_$][\w$]*(?:/[A-Za-z_$][\w$]*)*\Z", re.A)
_BAD_WORD = re.compile(r"[^\s(),:']+")


class _Lit:
    __slots__ = ("enum_type", "kind", "value")

    def __init__(self, kind: str, value: object, enum_type: str | None = None) -> None:
        self.kind = kind  # 'str', 'num', 'bool', 'null' or 'dt'
        self.value = value
        self.enum_type = enum_type


class _Tok:
    __slots__ = ("kind", "pos", "source", "value")

    def __init__(self, kind: str, value: object, pos: int, source: str) -> None:
        self.kind = kind  # 'lit', 'path', 'punct' or 'end'
        self.value = value
        self.pos = pos
        self.source = source


def _to_datetime(value: object) -> datetime | None:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    elif isinstance(value, datetime):
        parsed = value
    else:
        return None
    # Prism's timestamps carry an offset; a value without one is taken as UTC rather than refused.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos, end = 0, len(text)
    while True:
        ws = _WS.match(text, pos)
        if ws:
            pos = ws.end()
        if pos >= end:
            break
        kind, value, stop = _token_at(text, pos)
        toks.append(_Tok(kind, value, pos, text[pos:stop]))
        pos = stop
    toks.append(_Tok("end", None, end, ""))
    return toks


def _token_at(text: str, pos: int) -> tuple[str, object, int]:
    """The token starting at `pos`, as (kind, value, the offset after it)."""
    ch = text[pos]
    if ch in "(),:":
        return "punct", ch, pos + 1
    if ch == "'":
        return _string_token(text, pos)
    if m := _GUID.match(text, pos):
        return "lit", _Lit("str", m.group()), m.end()
    if m := _DATETIME.match(text, pos):
        value = _to_datetime(m.group().replace("z", "Z"))
        if value is None:
            raise _invalid("$filter", pos, f"'{m.group()}' is not a valid datetime.")
        return "lit", _Lit("dt", value), m.end()
    if _DATE_LIKE.match(text, pos):
        word = _BAD_WORD.match(text, pos).group()
        raise _invalid(
            "$filter",
            pos,
            f"'{word}' is not a valid datetime; write a full timestamp such as 2024-01-01T00:00:00Z.",
        )
    if m := _NUMBER.match(text, pos):
        raw = m.group()
        return "lit", _Lit("num", float(raw) if m.group(1) or m.group(2) else int(raw)), m.end()
    if m := _ENUM_TYPE.match(text, pos):
        return _enum_token(text, m)
    if m := _PATH.match(text, pos):
        return _word_token(m)
    bad = _BAD_WORD.match(text, pos)
    word = bad.group() if bad else ch
    raise _invalid("$filter", pos, f"unexpected '{word}'.")


def _string_token(text: str, pos: int) -> tuple[str, object, int]:
    m = _STRING_REST.match(text, pos + 1)
    if m is None:
        raise _invalid(
            "$filter",
            pos,
            "unterminated string literal; close it with ' (write '' for a quote inside it).",
        )
    return "lit", _Lit("str", m.group(1).replace("''", "'")), m.end()


def _enum_token(text: str, m: re.Match) -> tuple[str, object, int]:
    """A typed enum literal such as Vmm.Ahv.Config.PowerState'ON', from its type name on."""
    rest = _STRING_REST.match(text, m.end())
    if rest is None:
        raise _invalid("$filter", m.end() - 1, f"unterminated string literal after {m.group(1)}.")
    return "lit", _Lit("str", rest.group(1).replace("''", "'"), m.group(1)), rest.end()


def _word_token(m: re.Match) -> tuple[str, object, int]:
    word = m.group()
    if word in ("true", "false"):
        return "lit", _Lit("bool", word == "true"), m.end()
    if word == "null":
        return "lit", _Lit("null", None), m.end()
    return "path", word, m.end()


# --- $filter: closures -------------------------------------------------------------------------------


def walker(parts: tuple[str, ...]) -> Callable[[object], object]:
    """The value at a path of dict keys, or None where the path leaves the dicts."""

    def walk(obj: object) -> object:
        for part in parts:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(part)
        return obj

    return walk


def _root_getter(parts: tuple[str, ...]) -> _Getter:
    # The one- and two-segment forms are the common ones (name, cluster/extId): spare them the loop.
    if len(parts) == 1:
        key = parts[0]
        return lambda e, v: e.get(key)
    if len(parts) == 2:
        first, second = parts

        def get_two(e: dict, v: tuple) -> object:
            inner = e.get(first)
            return inner.get(second) if isinstance(inner, dict) else None

        return get_two
    walk = walker(parts)
    return lambda e, v: walk(e)


def _variable_getter(index: int, rest: tuple[str, ...]) -> _Getter:
    if not rest:
        return lambda e, v: v[index]
    walk = walker(rest)
    return lambda e, v: walk(v[index])


def _case_getter(get: _Getter, upper: bool) -> _Getter:
    convert = str.upper if upper else str.lower

    def changed(e: dict, v: tuple) -> object:
        value = get(e, v)
        return convert(value) if isinstance(value, str) else value

    return changed


def _datetime_getter(get: _Getter) -> _Getter:
    return lambda e, v: _to_datetime(get(e, v))


def _never(e: dict, v: tuple) -> bool:
    return False


def _is_number(value: object) -> bool:
    return value.__class__ is int or value.__class__ is float


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_bool(value: object) -> bool:
    return value is True or value is False


def _is_present(value: object) -> bool:
    return value is not None


# Which entity values an ordering (gt, ge, lt, le) against a literal of each kind may compare at all;
# a datetime literal's getter has already turned the entity's text into a datetime or None.
_ORDERABLE = {"str": _is_text, "num": _is_number, "bool": _is_bool, "dt": _is_present}


def _equality(get: _Getter, lit: _Lit) -> _Node:
    value = lit.value
    if lit.kind == "bool":
        return lambda e, v: get(e, v) is value
    if lit.kind == "num":

        def num_eq(e: dict, v: tuple) -> bool:
            x = get(e, v)
            # Only numbers (and bools, excluded here) can equal a number; True == 1 must not match.
            return x == value and x.__class__ is not bool

        return num_eq
    # A text or datetime literal is only ever equal to a value of its own kind.
    return lambda e, v: get(e, v) == value


def _comparison(get: _Getter, op: str, lit: _Lit) -> _Node:
    value = lit.value
    kind = lit.kind
    if kind == "null":
        if op == "eq":
            return lambda e, v: get(e, v) is None
        if op == "ne":
            return lambda e, v: get(e, v) is not None
        return _never
    if kind == "dt":
        get = _datetime_getter(get)
    if op == "eq":
        return _equality(get, lit)
    if op == "ne":
        # OData: `ne` is the negation of `eq`, so a missing field or another type is "not equal".
        equal = _equality(get, lit)
        return lambda e, v: not equal(e, v)
    accept = _ORDERABLE[kind]
    compare = _ORDERINGS[op]

    def ordered(e: dict, v: tuple) -> bool:
        x = get(e, v)
        return accept(x) and compare(x, value)

    return ordered


def _membership(get: _Getter, lits: list[_Lit]) -> _Node:
    texts = frozenset(lit.value for lit in lits if lit.kind == "str")
    numbers = frozenset(lit.value for lit in lits if lit.kind == "num")
    bools = frozenset(lit.value for lit in lits if lit.kind == "bool")
    datetimes = frozenset(lit.value for lit in lits if lit.kind == "dt")
    with_null = any(lit.kind == "null" for lit in lits)
    if all(lit.kind == "str" for lit in lits):

        def in_texts(e: dict, v: tuple) -> bool:
            x = get(e, v)
            return isinstance(x, str) and x in texts

        return in_texts

    def in_values(e: dict, v: tuple) -> bool:
        x = get(e, v)
        if x is None:
            return with_null
        if x is True or x is False:
            return x in bools
        if _is_number(x):
            return x in numbers
        if isinstance(x, str):
            return x in texts or (bool(datetimes) and _to_datetime(x) in datetimes)
        return False

    return in_values


def _text_function(name: str, get: _Getter, needle: str) -> _Node:
    if name == "startswith":

        def startswith(e: dict, v: tuple) -> bool:
            x = get(e, v)
            return isinstance(x, str) and x.startswith(needle)

        return startswith
    if name == "endswith":

        def endswith(e: dict, v: tuple) -> bool:
            x = get(e, v)
            return isinstance(x, str) and x.endswith(needle)

        return endswith

    def contains(e: dict, v: tuple) -> bool:
        x = get(e, v)
        return isinstance(x, str) and needle in x

    return contains


def _lambda(kind: str, items_of: _Getter, body: _Node | None) -> _Node:
    if body is None:

        def non_empty(e: dict, v: tuple) -> bool:
            items = items_of(e, v)
            return isinstance(items, list) and len(items) > 0

        return non_empty
    if kind == "any":

        def any_item(e: dict, v: tuple) -> bool:
            items = items_of(e, v)
            if not isinstance(items, list):
                return False
            # Explicit loops here and below: a generator inside any()/all() costs more per entity.
            for item in items:  # noqa: SIM110
                if body(e, (*v, item)):
                    return True
            return False

        return any_item

    def all_items(e: dict, v: tuple) -> bool:
        items = items_of(e, v)
        if not isinstance(items, list):
            return False
        for item in items:  # noqa: SIM110
            if not body(e, (*v, item)):
                return False
        return True

    return all_items


def _negation(inner: _Node) -> _Node:
    return lambda e, v: not inner(e, v)


def _all_of(nodes: list[_Node]) -> _Node:
    if len(nodes) == 1:
        return nodes[0]
    hints = [_hints(node) for node in nodes]
    terms = tuple(term for node_terms, _exact in hints for term in node_terms)
    exact = all(node_exact for _terms, node_exact in hints)
    if len(nodes) == 2:
        first, second = nodes
        return _hinted(lambda e, v: first(e, v) and second(e, v), terms, exact)
    # A flat loop, not a left-deep tree: a long `a and b and c ...` must not deepen the call stack.
    chain = tuple(nodes)

    def conjunction(e: dict, v: tuple) -> bool:
        for node in chain:  # noqa: SIM110
            if not node(e, v):
                return False
        return True

    return _hinted(conjunction, terms, exact)


def _any_of(nodes: list[_Node]) -> _Node:
    if len(nodes) == 1:
        return nodes[0]
    if len(nodes) == 2:
        first, second = nodes
        return _hinted(lambda e, v: first(e, v) or second(e, v), *_alternatives(nodes))
    chain = tuple(nodes)

    def disjunction(e: dict, v: tuple) -> bool:
        for node in chain:  # noqa: SIM110
            if node(e, v):
                return True
        return False

    return _hinted(disjunction, *_alternatives(nodes))


def _alternatives(nodes: list[_Node]) -> tuple[tuple[Term, ...], bool]:
    """`p eq a or p eq b or p in (c)` is `p in (a, b, c)`: how task polls name the tasks they want."""
    terms = []
    for node in nodes:
        node_terms, exact = _hints(node)
        if not exact or len(node_terms) != 1 or node_terms[0].op not in ("eq", "in"):
            return (), False
        terms.append(node_terms[0])
    if len({term.path for term in terms}) != 1:
        return (), False
    return (Term(terms[0].path, "in", tuple(value for term in terms for value in term.values)),), True


# --- $filter: grammar --------------------------------------------------------------------------------


class _Scope:
    __slots__ = ("chain", "collection", "name")

    def __init__(self, name: str, collection: str, chain: tuple[str, ...]) -> None:
        self.name = name
        self.collection = collection  # the collection's full path from the entity root
        self.chain = chain  # that path and those of the collections enclosing it


class _Operand:
    __slots__ = ("get", "lit", "path", "tok", "written")

    def __init__(
        self, tok: _Tok, written: str, *, get: _Getter | None = None, path: str = "", lit: _Lit | None = None
    ) -> None:
        self.tok = tok
        self.written = written
        self.get = get
        self.path = path
        self.lit = lit


class _FilterParser:
    def __init__(
        self, text: str, filterable: frozenset[str] | None, enum_types: dict[str, str] | None
    ) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.filterable = filterable
        self.enum_types = dict(enum_types or {})
        self.scopes: list[_Scope] = []
        self.depth = 0

    # Token helpers.

    def peek(self, ahead: int = 0) -> _Tok:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def advance(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def at_word(self, word: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "path" and tok.value == word

    def at_punct(self, char: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "punct" and tok.value == char

    def fail(self, tok: _Tok, message: str) -> ODataError:
        return _invalid("$filter", tok.pos, message)

    @staticmethod
    def describe(tok: _Tok) -> str:
        if tok.kind == "end":
            return "the end of the expression"
        if tok.kind == "lit":
            return f"the value {tok.source}"
        text = f"'{tok.value}'"
        if tok.kind == "path" and tok.value.lower() in _KEYWORDS and tok.value not in _KEYWORDS:
            text += f" (OData keywords are lowercase: {tok.value.lower()})"
        return text

    def expect(self, char: str, context: str) -> _Tok:
        tok = self.peek()
        if not self.at_punct(char):
            raise self.fail(tok, f"expected '{char}' {context}, found {self.describe(tok)}.")
        return self.advance()

    def enter(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(tok, f"the expression nests deeper than {MAX_DEPTH} levels.")

    # Field policy.

    def allowed(self) -> str:
        return ", ".join(sorted(self.filterable or ())) or "(none)"

    def check_property(self, tok: _Tok, written: str, full: str, chain: tuple[str, ...]) -> None:
        if self.filterable is None or full in self.filterable:
            return
        # Inside a lambda a field is allowed through its collection (entitiesAffected/any(a: a/extId ...)).
        if any(collection in self.filterable for collection in chain):
            return
        name = f"'{written}'" if written == full else f"'{written}' (that is, '{full}')"
        raise self.fail(tok, f"{name} is not a filterable property; filterable properties: {self.allowed()}.")

    def check_collection(self, tok: _Tok, written: str, full: str, chain: tuple[str, ...]) -> None:
        if self.filterable is None:
            return
        prefix = full + "/"
        if any(f == full or f.startswith(prefix) for f in self.filterable):
            return
        self.check_property(tok, written, full, chain)

    def check_enum(self, tok: _Tok, path: str, lit: _Lit) -> None:
        expected = self.enum_types.get(path)
        if lit.enum_type is None or expected is None or lit.enum_type.lower() == expected.lower():
            return
        raise self.fail(
            tok,
            f"'{path}' takes {expected} values, not {lit.enum_type}; "
            f"write {expected}'{lit.value}' or plain '{lit.value}'.",
        )

    def resolve(self, written: str) -> tuple[_Getter, str, tuple[str, ...]]:
        """A path as written -> (getter, full path from the entity root, enclosing lambda collections)."""
        parts = written.split("/")
        for index in range(len(self.scopes) - 1, -1, -1):
            scope = self.scopes[index]
            if scope.name == parts[0]:
                rest = tuple(parts[1:])
                return _variable_getter(index, rest), "/".join((scope.collection, *rest)), scope.chain
        return _root_getter(tuple(parts)), written, ()

    def hint(self, node: _Node, subject: _Operand, op: str, lits: list[_Lit]) -> _Node:
        """The node, marked with its index term when an index can answer it exactly: a root property
        as stored (not inside a lambda, not through tolower/toupper) against text, numbers or booleans."""
        if op == "ne" or self.scopes or subject.written != subject.path:
            return node
        if any(lit.kind not in _INDEXABLE_KINDS for lit in lits):
            return node
        return _hinted(node, (Term(subject.path, op, tuple((lit.kind, lit.value) for lit in lits)),), True)

    # Grammar: or > and > not > primary, with comparisons inside primary.

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise self.fail(self.peek(), "the expression is empty.")
        node = self.parse_or()
        tok = self.peek()
        if tok.kind != "end":
            if self.at_punct(")"):
                raise self.fail(tok, "unbalanced parentheses: this ')' has no matching '('.")
            raise self.fail(
                tok,
                f"found {self.describe(tok)} after a complete expression; join conditions with and/or.",
            )
        return node

    def parse_or(self) -> _Node:
        nodes = [self.parse_and()]
        while self.at_word("or"):
            self.advance()
            nodes.append(self.parse_and())
        return _any_of(nodes)

    def parse_and(self) -> _Node:
        nodes = [self.parse_not()]
        while self.at_word("and"):
            self.advance()
            nodes.append(self.parse_not())
        return _all_of(nodes)

    def parse_not(self) -> _Node:
        if self.at_word("not"):
            tok = self.advance()
            self.enter(tok)
            inner = self.parse_not()
            self.depth -= 1
            return _negation(inner)
        return self.parse_primary()

    def parse_primary(self) -> _Node:
        tok = self.peek()
        if self.at_punct("("):
            self.advance()
            self.enter(tok)
            node = self.parse_or()
            self.depth -= 1
            closing = self.peek()
            if not self.at_punct(")"):
                raise self.fail(
                    closing,
                    f"unbalanced parentheses: expected ')' to close the '(' at position {tok.pos}, "
                    f"found {self.describe(closing)}.",
                )
            self.advance()
            return node
        if tok.kind == "path" and self.at_punct("(", 1):
            name = tok.value
            if name in TEXT_FUNCTIONS:
                return self.boolean_suffix(self.parse_text_function())
            if name.rsplit("/", 1)[-1] in ("any", "all") and "/" in name:
                return self.boolean_suffix(self.parse_lambda())
            if name not in CASE_FUNCTIONS:
                raise self.unknown_function(tok)
        return self.parse_comparison()

    def unknown_function(self, tok: _Tok) -> ODataError:
        name = tok.value
        if "/" in name:
            collection, operator_name = name.rsplit("/", 1)
            return self.fail(
                tok,
                f"'{operator_name}' is not a lambda operator; use {collection}/any(x: ...) "
                f"or {collection}/all(x: ...).",
            )
        return self.fail(
            tok,
            f"unknown function '{name}'; supported functions: {', '.join(TEXT_FUNCTIONS + CASE_FUNCTIONS)}, "
            "and the lambda operators any and all.",
        )

    def boolean_suffix(self, node: _Node) -> _Node:
        """`startswith(name,'a') eq true` is legal OData; only true/false may follow a condition."""
        if not (self.at_word("eq") or self.at_word("ne")):
            return node
        op = self.advance().value
        tok = self.peek()
        if tok.kind != "lit" or tok.value.kind != "bool":
            raise self.fail(
                tok, f"a condition can only be compared with true or false, found {self.describe(tok)}."
            )
        self.advance()
        return node if tok.value.value == (op == "eq") else _negation(node)

    def parse_operand(self, context: str) -> _Operand:
        tok = self.peek()
        if tok.kind == "lit":
            self.advance()
            return _Operand(tok, tok.source, lit=tok.value)
        if tok.kind == "path":
            if self.at_punct("(", 1):
                if tok.value in CASE_FUNCTIONS:
                    return self.parse_case_function()
                if tok.value in TEXT_FUNCTIONS or tok.value.endswith(("/any", "/all")):
                    raise self.fail(tok, f"{tok.value}(...) is a condition, not a value; expected {context}.")
                raise self.unknown_function(tok)
            if tok.value in _KEYWORDS:
                raise self.fail(tok, f"expected {context}, found the keyword '{tok.value}'.")
            if tok.value.endswith(("/any", "/all")):
                raise self.fail(
                    tok, f"'{tok.value}' is a lambda operator; write {tok.value}(x: <condition>)."
                )
            self.advance()
            get, full, chain = self.resolve(tok.value)
            self.check_property(tok, tok.value, full, chain)
            return _Operand(tok, tok.value, get=get, path=full)
        raise self.fail(tok, f"expected {context}, found {self.describe(tok)}.")

    def parse_case_function(self) -> _Operand:
        name_tok = self.advance()
        name = name_tok.value
        self.advance()  # the '(' seen by the caller
        arg = self.parse_operand(f"a property as the argument of {name}()")
        self.expect(")", f"to close {name}(")
        upper = name == "toupper"
        if arg.lit is not None:
            if arg.lit.kind != "str":
                raise self.fail(arg.tok, f"{name}() takes text, found {arg.written}.")
            text = arg.lit.value.upper() if upper else arg.lit.value.lower()
            return _Operand(name_tok, f"{name}({arg.written})", lit=_Lit("str", text, arg.lit.enum_type))
        return _Operand(name_tok, f"{name}({arg.written})", get=_case_getter(arg.get, upper), path=arg.path)

    def parse_comparison(self) -> _Node:
        left = self.parse_operand("a property or a value")
        tok = self.peek()
        if self.at_word("in"):
            self.advance()
            return self.parse_in(left, tok)
        if tok.kind == "path" and tok.value in COMPARISONS:
            op = self.advance().value
            right = self.parse_operand(f"a value after '{op}'")
            if left.lit is not None and right.lit is None:
                left, right, op = right, left, _FLIPPED[op]
            if left.lit is not None:
                raise self.fail(tok, f"'{op}' needs a property on one side; found two values.")
            if right.lit is None:
                raise self.fail(
                    tok,
                    f"'{op}' compares a property with a value; comparing two properties "
                    f"('{left.written}' and '{right.written}') is not supported.",
                )
            self.check_enum(right.tok, left.path, right.lit)
            return self.hint(_comparison(left.get, op, right.lit), left, op, [right.lit])
        if left.lit is None and (
            tok.kind == "end" or self.at_punct(")") or self.at_word("and") or self.at_word("or")
        ):
            # A bare property is a boolean condition in OData: `isAgentVm`, `not isAgentVm`.
            return self.hint(
                _comparison(left.get, "eq", _Lit("bool", True)), left, "eq", [_Lit("bool", True)]
            )
        raise self.fail(
            tok,
            f"expected a comparison operator ({', '.join(COMPARISONS)}) or 'in' after '{left.written}', "
            f"found {self.describe(tok)}.",
        )

    def parse_in(self, left: _Operand, in_tok: _Tok) -> _Node:
        if left.lit is not None:
            raise self.fail(in_tok, f"'in' needs a property on its left, found {left.written}.")
        self.expect("(", "after 'in'")
        if self.at_punct(")"):
            raise self.fail(self.peek(), "'in' needs at least one value, as in name in ('a', 'b').")
        lits: list[_Lit] = []
        while True:
            item = self.parse_operand("a value in the 'in' list")
            if item.lit is None:
                raise self.fail(item.tok, f"'in' takes values only, found the property '{item.written}'.")
            self.check_enum(item.tok, left.path, item.lit)
            lits.append(item.lit)
            tok = self.peek()
            if self.at_punct(","):
                self.advance()
                continue
            if self.at_punct(")"):
                self.advance()
                break
            raise self.fail(tok, f"expected ',' or ')' in the 'in' list, found {self.describe(tok)}.")
        return self.hint(_membership(left.get, lits), left, "in", lits)

    def parse_text_function(self) -> _Node:
        name_tok = self.advance()
        name = name_tok.value
        self.advance()  # '('
        subject = self.parse_operand(f"a property as the first argument of {name}()")
        if subject.lit is not None:
            raise self.fail(
                subject.tok, f"{name}() takes a property as its first argument, found {subject.written}."
            )
        self.expect(",", f"between the arguments of {name}()")
        needle = self.parse_operand(f"a text value as the second argument of {name}()")
        if needle.lit is None or needle.lit.kind != "str":
            raise self.fail(
                needle.tok, f"{name}() takes a quoted text as its second argument, found {needle.written}."
            )
        self.check_enum(needle.tok, subject.path, needle.lit)
        self.expect(")", f"to close {name}(")
        node = _text_function(name, subject.get, needle.lit.value)
        return self.hint(node, subject, name, [needle.lit]) if name == "startswith" else node

    def parse_lambda(self) -> _Node:
        tok = self.advance()
        written, kind = tok.value.rsplit("/", 1)
        items_of, full, chain = self.resolve(written)
        self.check_collection(tok, written, full, chain)
        self.advance()  # '('
        if self.at_punct(")"):
            if kind == "all":
                raise self.fail(self.peek(), "all() needs a condition, as in all(x: x/extId ne null).")
            self.advance()
            return _lambda(kind, items_of, None)
        var = self.peek()
        if var.kind != "path" or "/" in var.value or var.value in _KEYWORDS:
            raise self.fail(
                var,
                f"expected a lambda variable name, as in {tok.value}(x: x/extId eq '...'), "
                f"found {self.describe(var)}.",
            )
        self.advance()
        self.expect(":", f"after the lambda variable '{var.value}'")
        self.enter(tok)
        self.scopes.append(_Scope(var.value, full, (*chain, full)))
        body = self.parse_or()
        self.scopes.pop()
        self.depth -= 1
        self.expect(")", f"to close {tok.value}(")
        return _lambda(kind, items_of, body)


def compile_filter(
    text: str, filterable: frozenset[str] | None = None, enum_types: dict[str, str] | None = None
) -> Predicate:
    """Compile a `$filter` expression into a predicate over wire-shape entity dicts.

    `filterable` (None = anything) limits the property paths; `enum_types` maps a path to the enum type
    name its typed literals must carry, e.g. {'powerState': 'Vmm.Ahv.Config.PowerState'}.
    """
    if not isinstance(text, str):
        raise ODataError("$filter", "Invalid $filter: the expression must be text.")
    try:
        node = _FilterParser(text, filterable, enum_types).parse()
    except ODataError:
        raise
    except RecursionError:
        raise ODataError("$filter", "Invalid $filter: the expression nests too deeply.") from None
    except Exception as exc:
        # The contract is that a bad query is a 400, never a 500, even if the parser has a gap.
        raise ODataError("$filter", f"Invalid $filter: {exc}.") from None

    def predicate(entity: dict) -> bool:
        try:
            return node(entity, ())
        except Exception:
            # Entities are arbitrary JSON; an unexpected shape is a non-match, not a failed request.
            return False

    # An indexed collection narrows the entities to test by these (see core/index.py).
    return _hinted(predicate, *_hints(node))


# --- $orderby, $select, projection, paging -----------------------------------------------------------


def _split_commas(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for part in text.split(","):
        yield start, part
        start += len(part) + 1


def _sort_key(value: object) -> tuple:
    # Ranks keep values of different kinds apart, so sorting never compares str with int.
    if value is None:
        return (0, 0)
    if value is True or value is False:
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        # ISO timestamps with different fractional precision do not sort correctly as text.
        if len(value) >= 16 and value[4] == "-" and value[7] == "-" and value[10] in "Tt ":
            parsed = _to_datetime(value)
            if parsed is not None:
                return (3, parsed)
        return (4, value)
    return (5, 0)


def compile_orderby(text: str, sortable: frozenset[str] | None = None) -> Callable[[list[dict]], list[dict]]:
    """Compile `$orderby` ('path [asc|desc], ...') into a stable sort returning a new list.

    Missing or null values sort first ascending and last descending.
    """
    keys: list[tuple[Callable[[object], object], bool]] = []
    if text and text.strip():
        for start, part in _split_commas(text):
            words = [(start + m.start(), m.group()) for m in re.finditer(r"\S+", part)]
            if not words:
                raise _invalid(
                    "$orderby", start, "empty sort clause; write property [asc|desc], separated by commas."
                )
            path_pos, path = words[0]
            if not _PATH_ONLY.match(path):
                raise _invalid("$orderby", path_pos, f"'{path}' is not a property path.")
            descending = False
            if len(words) > 1:
                dir_pos, direction = words[1]
                if direction not in ("asc", "desc"):
                    raise _invalid(
                        "$orderby",
                        dir_pos,
                        f"unknown sort direction '{direction}' after '{path}'; use asc or desc.",
                    )
                descending = direction == "desc"
            if len(words) > 2:
                extra_pos, extra = words[2]
                raise _invalid(
                    "$orderby",
                    extra_pos,
                    f"unexpected '{extra}' after '{path} {words[1][1]}'; separate sort clauses with commas.",
                )
            if sortable is not None and path not in sortable:
                raise _invalid(
                    "$orderby",
                    path_pos,
                    f"'{path}' is not a sortable property; sortable properties: "
                    f"{', '.join(sorted(sortable)) or '(none)'}.",
                )
            keys.append((walker(tuple(path.split("/"))), descending))

    def order(items: list[dict]) -> list[dict]:
        out = list(items)
        # Sorting by the last key first and relying on stability gives mixed asc/desc for free.
        for walk, descending in reversed(keys):
            out.sort(key=lambda item, walk=walk: _sort_key(walk(item)), reverse=descending)
        return out

    return order


def parse_select(text: str, selectable: frozenset[str] | None = None) -> list[str] | None:
    """Parse `$select` into property paths in the order given; None means every property."""
    if text is None or not text.strip():
        return None
    fields: list[str] = []
    everything = False
    for start, part in _split_commas(text):
        name = part.strip()
        pos = start + len(part) - len(part.lstrip())
        if not name:
            raise _invalid(
                "$select", pos, "empty property name; list properties separated by commas, or * for all."
            )
        if name == "*":
            everything = True
            continue
        if not _PATH_ONLY.match(name):
            raise _invalid("$select", pos, f"'{name}' is not a property path.")
        if selectable is not None and name not in selectable:
            raise _invalid(
                "$select",
                pos,
                f"'{name}' is not a selectable property; selectable properties: "
                f"{', '.join(sorted(selectable)) or '(none)'}.",
            )
        if name not in fields:
            fields.append(name)
    return None if everything else fields


def _project(obj: dict, tree: dict) -> dict:
    out = {}
    for key, value in obj.items():
        # Identity and `$` metadata ($objectType, $reserved) stay so clients can still deserialise.
        if key == "extId" or key.startswith("$"):
            out[key] = value
            continue
        if key not in tree:
            continue
        sub = tree[key]
        if sub is None or value is None:
            out[key] = value
        elif isinstance(value, dict):
            out[key] = _project(value, sub)
        elif isinstance(value, list):
            out[key] = [_project(item, sub) for item in value if isinstance(item, dict)]
    return out


def project(entity: dict, fields: list[str]) -> dict:
    """Keep only the selected top-level or slash paths of an entity (plus extId and `$` keys).

    'cluster/extId' keeps {"cluster": {"extId": ...}}; through a list ('nics/extId') each element is
    projected. Selected values are shared with the entity, not copied.
    """
    # A tree of wanted keys; None marks "this whole value".
    tree: dict = {}
    for field in fields:
        node = tree
        parts = field.split("/")
        for part in parts[:-1]:
            child = node.get(part, {})
            if child is None:
                break
            node = node.setdefault(part, child)
        else:
            node[parts[-1]] = None
    return _project(entity, tree)


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _paging_number(option: str, raw: str | None, default: int) -> int:
    if raw is None or str(raw).strip() == "":
        return default
    text = str(raw).strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        raise ODataError(option, f"Invalid {option} '{raw}': a whole number is required.")
    return int(text)


def parse_paging(
    page: str | None, limit: str | None, default_limit: int = 50, max_limit: int = 100
) -> tuple[int, int]:
    """`$page` (0-based) and `$limit` (1..max_limit) as (page, limit); absent values take defaults."""
    number = _paging_number("$page", page, 0)
    if number < 0:
        raise ODataError("$page", f"Invalid $page '{page}': pages are numbered from 0, so use 0 or more.")
    size = _paging_number("$limit", limit, default_limit)
    if not 1 <= size <= max_limit:
        raise ODataError("$limit", f"Invalid $limit '{limit}': use a whole number from 1 to {max_limit}.")
    return number, size
