"""Reading fields of a source's JSON with their types checked where they are read.

Archive files and twarc pages are hostile input: a list where an object belongs, a number
where text belongs. `Obj` wraps one JSON object; each read names the type it wants and
raises `FieldError` (an ArchiveFormatError) naming the field's path when the value is of
another type, so no importer meets an `AttributeError` or a `TypeError`. The loop that
reads entries adds the file and the entry number (`FieldError.at`).

    tweet = Obj(entry, "entry").obj("tweet")
    tweet.text("full_text")          # str or None (absent or null)
    tweet.id("id_str")               # str of a string or a whole number, or None
    tweet.objs("entities", "urls")   # list of Obj (absent or null: [])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archiver.errors import ArchiveFormatError
from archiver.timestamps import iso

_TYPE_NAMES = {
    dict: "an object",
    list: "a list",
    str: "text",
    bool: "true/false",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class FieldError(ArchiveFormatError):
    """A field of the wrong type: `field` is its path in the entry (`entry.tweet.id_str`)."""

    def __init__(self, field: str, expected: str, value: object) -> None:
        self.field = field
        self.reason = f"{field}: expected {expected}, got {type_name(value)}"
        super().__init__(self.reason)

    def at(self, where: str, entry: int | None = None) -> ArchiveFormatError:
        """The one-line error naming the file (and the entry number) too."""
        place = f"{where}: entry {entry}" if entry is not None else where
        return ArchiveFormatError(f"{place}: {self.reason}")


# where an Obj sits: a path, or (the object it was read from, key, list index or None),
# spelt out only for an error message (building it for every read was a tenth of an import)
_Where = str | tuple["Obj", str, int | None]


def _spell(where: _Where) -> str:
    if isinstance(where, str):
        return where
    parent, key, index = where
    return f"{parent.path}.{key}" if index is None else f"{parent.path}.{key}[{index}]"


class Obj:
    """One JSON object of a source, read field by field with the types checked."""

    __slots__ = ("_where", "value")

    def __init__(self, value: object, path: _Where = "entry") -> None:
        if not isinstance(value, dict):
            raise FieldError(_spell(path), "an object", value)
        self.value: dict[str, Any] = value
        self._where = path

    @property
    def path(self) -> str:
        return _spell(self._where)

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def has(self, key: str) -> bool:
        """Present and not null."""
        return self.value.get(key) is not None

    def get(self, key: str) -> Any:
        """The value as it is, unchecked: only for values kept verbatim (raw)."""
        return self.value.get(key)

    def obj(self, key: str) -> Obj:
        """A nested object ({} when absent or null)."""
        value = self.value.get(key)
        return Obj({} if value is None else value, (self, key, None))

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.value.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise FieldError(self._at(key), "text", value)
        return value

    def id(self, key: str) -> str | None:
        """An id, written as text or as a whole number (never true/false or a fraction)."""
        value = self.value.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise FieldError(self._at(key), "an id (text or a whole number)", value)
        return str(value)

    def number(self, key: str) -> int | None:
        """A count: a whole number, or text of ASCII digits as archives write them."""
        value = self.value.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(self._at(key), "a whole number", value)
        return value

    def flag(self, key: str) -> bool:
        value = self.value.get(key)
        if value is None:
            return False
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise FieldError(self._at(key), "true or false", value)
        return value

    def time(self, key: str) -> str | None:
        """A timestamp in any of the sources' forms, as ISO 8601 UTC (None when absent)."""
        value = self.value.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise FieldError(self._at(key), "a timestamp", value)
        try:
            return iso(value)
        except (ValueError, OverflowError, OSError):
            raise FieldError(self._at(key), "a timestamp", value) from None

    def array(self, key: str) -> list[Any]:
        """A list ([] when absent or null); its items are unchecked."""
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise FieldError(self._at(key), "a list", value)
        return value

    def objs(self, key: str) -> list[Obj]:
        """A list of objects ([] when absent or null)."""
        values = self.array(key)
        return [Obj(v, (self, key, i)) for i, v in enumerate(values)] if values else []

    def texts(self, key: str) -> list[str]:
        """A list of text values ([] when absent or null)."""
        out = []
        for i, value in enumerate(self.array(key)):
            if not isinstance(value, str):
                raise FieldError(f"{self._at(key)}[{i}]", "text", value)
            out.append(value)
        return out

    def ids(self, key: str) -> list[str]:
        """A list of ids ([] when absent or null)."""
        out = []
        for i, value in enumerate(self.array(key)):
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise FieldError(f"{self._at(key)}[{i}]", "an id (text or a whole number)", value)
            out.append(str(value))
        return out


def entries(value: object, where: str, what: str = "entries") -> list[Any]:
    """A data file's top level must be a list (of entries)."""
    if not isinstance(value, list):
        raise ArchiveFormatError(f"{where}: expected a list of {what}, got {type_name(value)}")
    return value


# -- shapes: what a whole object must look like, for code that reads it with .get() ----------
# A shape is a scalar token, a dict {key: shape} (an object; keys not named are not read, so
# not checked; a value may be null), a list [shape] (a list of that shape), or a tuple of
# shapes (any one of them). `ID!` is an id that must be there.
TEXT, ID, REQUIRED_ID, NUMBER, OBJECT = "text", "id", "id!", "number", "object"


def check_shape(value: object, shape: object, path: str = "entry") -> None:
    """Raise FieldError at the first value that does not have its shape."""
    if not _fits(value, shape):
        _report(value, shape, path)


def _fits(value: object, shape: object) -> bool:
    """Whether the value has the shape: the same rules as `_report`, without building paths
    (a twarc page has thousands of values; spelling each one's path was most of its import).
    The shape is compiled once into one Python function (`_compile`), so each value costs a
    few bytecodes, not a call."""
    held = _COMPILED.get(id(shape))
    if held is None or held[0] is not shape:
        if len(_COMPILED) >= 512:  # shapes are module constants; this is only a safeguard
            _COMPILED.clear()
        held = _COMPILED[id(shape)] = (shape, _compile(shape))
    return held[1](value)


_Check = Callable[[object], bool]
# id(shape) -> (the shape, kept so its id is not reused; its check)
_COMPILED: dict[int, tuple[object, _Check]] = {}

# a scalar token's test of a value `{v}` that is not None (an unknown token never fits: a
# shape written wrong, which `_report` says)
_SCALAR_TESTS = {
    TEXT: "isinstance({v}, str)",
    ID: "isinstance({v}, (str, int)) and not isinstance({v}, bool)",
    REQUIRED_ID: "isinstance({v}, (str, int)) and not isinstance({v}, bool)",
    NUMBER: "isinstance({v}, (int, float)) and not isinstance({v}, bool)",
    OBJECT: "isinstance({v}, dict)",
}
_MAX_DEPTH = 12  # nested blocks of one function (Python allows 20): deeper is its own function


def _compile(shape: object) -> _Check:
    """The shape as the source of one function: nested loops and tests that return False at
    the first value that does not fit (a tuple's options, and shapes nested deeper than
    `_MAX_DEPTH`, are functions of their own that it calls). The closures this replaced
    cost a Python call per value: two thirds of a twarc page's check."""
    names: dict[str, object] = {}
    lines = ["def fits(v0):"]
    _emit(shape, "v0", 1, lines, names, [0])
    lines.append("    return True")
    code = "\n".join(lines)
    exec(compile(code, f"<shape check {id(shape):x}>", "exec"), names)  # noqa: S102
    check: _Check = names["fits"]  # type: ignore[assignment]
    return check


def _emit(
    shape: object, var: str, depth: int, lines: list[str], names: dict[str, object], n: list[int]
) -> None:
    """Statements (at `depth`) returning False unless `var` (not None) has the shape."""
    pad = "    " * depth
    if type(shape) is str:
        test = _SCALAR_TESTS.get(shape)
        lines.append(
            f"{pad}if not ({test.format(v=var)}): return False" if test else f"{pad}return False"
        )
        return
    if type(shape) is tuple or (type(shape) in (dict, list) and depth > _MAX_DEPTH):
        n[0] += 1
        name = f"shape{n[0]}"
        if type(shape) is tuple:
            names[name] = tuple(_compile(option) for option in shape)
            lines.append(f"{pad}if not any(f({var}) for f in {name}): return False")
        else:
            names[name] = _compile(shape)
            lines.append(f"{pad}if not {name}({var}): return False")
        return
    if type(shape) is dict:
        lines.append(f"{pad}if not isinstance({var}, dict): return False")
        n[0] += 1
        get, got = f"g{n[0]}", f"v{n[0]}"
        lines.append(f"{pad}{get} = {var}.get")
        for key, inner in shape.items():
            lines.append(f"{pad}{got} = {get}({key!r})")
            if inner == REQUIRED_ID:
                # consumers take a falsy id for a missing one
                lines.append(f'{pad}if {got} is None or {got} == "" or {got} == 0: return False')
                _emit(inner, got, depth, lines, names, n)
            else:
                lines.append(f"{pad}if {got} is not None:")
                _emit(inner, got, depth + 1, lines, names, n)
        return
    if type(shape) is list:
        lines.append(f"{pad}if not isinstance({var}, list): return False")
        n[0] += 1
        item = f"v{n[0]}"
        lines.append(f"{pad}for {item} in {var}:")
        _emit(shape[0] if shape else None, item, depth + 1, lines, names, n)
        return
    lines.append(f"{pad}return False")


def _report(value: object, shape: object, path: str) -> None:
    """Raise FieldError at the first value that does not have its shape."""
    if isinstance(shape, tuple):
        errors = []
        for option in shape:
            try:
                _report(value, option, path)
                return
            except FieldError as exc:
                errors.append(exc)
        raise errors[-1]
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise FieldError(path, "an object", value)
        for key, inner in shape.items():
            got = value.get(key)
            if inner == REQUIRED_ID and (got is None or got == "" or got == 0):
                # consumers take a falsy id for a missing one
                raise FieldError(f"{path}.{key}", "an id", got)
            if got is None:
                continue
            _report(got, inner, f"{path}.{key}")
        return
    if isinstance(shape, list):
        if not isinstance(value, list):
            raise FieldError(path, "a list", value)
        for i, item in enumerate(value):
            _report(item, shape[0], f"{path}[{i}]")
        return
    if shape == TEXT:
        ok = isinstance(value, str)
    elif shape in (ID, REQUIRED_ID):
        ok = isinstance(value, str | int) and not isinstance(value, bool)
    elif shape == NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif shape == OBJECT:
        ok = isinstance(value, dict)
    else:  # pragma: no cover - a shape written wrong is a bug here, not bad input
        raise ValueError(f"unknown shape {shape!r}")
    if not ok:
        names = {TEXT: "text", ID: "an id", REQUIRED_ID: "an id", NUMBER: "a number"}
        raise FieldError(path, names.get(str(shape), "an object"), value)
