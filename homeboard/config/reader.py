"""The YAML reader: every problem collected as ``FILE:LINE: field.path: what is wrong``."""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeGuard

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from homeboard.config.fields import _META, Problems, _Meta, _must_be_one_of
from homeboard.config.models import Config
from homeboard.config.values import (
    CONFIG_ENV,
    DISPLAY_ENV,
    PANELS,
    parse_duration,
    parse_time_of_day,
)
from homeboard.errors import ConfigError

# Looked at, in this order, after --config and $HOMEBOARD_CONFIG (a module constant so
# tests can point it elsewhere).
DEFAULT_CONFIG_PATHS: tuple[Path, ...] = (Path("/etc/homeboard/config.yaml"), Path("config.yaml"))

_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("null", "bool", "int", "float", "str", "timestamp", "seq", "map")
}
_FAILED: Any = object()  # a value that could not be read; its problem is already reported

# Each `<<` merge of an aliased mapping is read anew, so nested merges multiply: a
# 700-byte file with nine merges per level reaches millions. A real config merges a
# few anchors per calendar; this bound stops a "merge bomb" within milliseconds.
MERGE_BUDGET = 1000


class _TooManyMerges(Exception):
    """The file's `<<` merges expand past MERGE_BUDGET mappings (line of the last one)."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


@dataclass(frozen=True)
class _Field:
    name: str  # attribute
    key: str  # YAML key
    type: Any
    meta: _Meta
    default: Any  # dataclasses.MISSING when required

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING


@cache
def _fields(cls: type) -> tuple[_Field, ...]:
    """The YAML-facing fields of a model class (fields made by `setting()`)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_META)
        if meta is None:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        out.append(_Field(f.name, meta.key or f.name, hints[f.name], meta, default))
    return tuple(out)


def _invariants(cls: type) -> list[Callable[[Any], Problems]]:
    return [m for m in vars(cls).values() if hasattr(m, "__invariant_fields__")]


def _is_model(tp: Any) -> TypeGuard[type]:
    """Whether `tp` is a model class (a dataclass type, not an instance)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _optional(tp: Any) -> Any | None:
    """The X of ``X | None``, else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_PARENT_RE = re.compile(r"(.*?)(?:\.[^.\[\]]*|\[[0-9]+\])$")


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return repr(node.value)


def _line(node: Node) -> int:
    return node.start_mark.line + 1


_EXPECTED = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    Path: "a file path",
    timedelta: "a duration",
    time: "a time of day (HH:MM)",
}


class _Reader:
    """Turns a composed YAML tree into model objects, collecting every problem."""

    def __init__(self, file: str, base_dir: Path, overrides: Mapping[str, tuple[str, str]]):
        self.file = file
        self.base_dir = base_dir
        self.overrides = overrides  # field path -> (text, where it came from)
        self.sites: dict[str, tuple[str, int]] = {"": (file, 1)}
        self.problems: list[tuple[tuple[int, int], str]] = []
        self.constructor = yaml.constructor.SafeConstructor()
        self.merging: set[int] = set()  # mappings whose `<<` merge is being read
        self.merges = 0  # mappings merged so far, aliases counted each time

    # -- problems

    def site(self, path: str) -> tuple[str, int]:
        """Where `path` (or its nearest ancestor present in the file) was written."""
        while path not in self.sites:
            match = _PARENT_RE.fullmatch(path)
            path = match[1] if match else ""
        return self.sites[path]

    def report(self, path: str, message: str, *, line: int | None = None) -> None:
        origin, found = self.site(path)
        line = found if line is None else line
        where = f"{origin}:{line}" if origin == self.file else origin
        # File problems sort by line; problems from the environment come after them.
        order = (0, line) if origin == self.file else (1, 0)
        self.problems.append((order, f"{where}: {path or '(top level)'}: {message}"))

    def sorted_problems(self) -> list[str]:
        seen: set[str] = set()
        out = []
        for _, text in sorted(self.problems, key=lambda p: p[0]):
            if text not in seen:  # a node reached twice through a YAML alias
                seen.add(text)
                out.append(text)
        return out

    # -- values

    def value(self, tp: Any, node: Node, path: str, meta: _Meta | None) -> Any:
        """Read one value of type `tp`, or report why not and return _FAILED."""
        if node.tag not in _PLAIN_TAGS:
            # Tags such as !!python/object would build arbitrary objects; none are needed.
            self.report(path, f"YAML tag {node.tag!r} is not supported here")
            return _FAILED
        inner = _optional(tp)
        if inner is not None:
            return None if self.is_null(node) else self.value(inner, node, path, meta)
        if _is_model(tp):
            return self.record(tp, None if self.is_null(node) else node, path)
        if typing.get_origin(tp) is tuple:
            # An empty `calendars:` (every entry commented out) means none.
            if self.is_null(node):
                return ()
            return self.sequence(typing.get_args(tp)[0], node, path, meta)
        if self.is_null(node):
            self.report(path, "must have a value (remove the line to use the default)")
            return _FAILED
        value = self.scalar(tp, node, path, meta)
        if value is not _FAILED and meta is not None:
            for rule in meta.checks:
                try:
                    problem = rule(value)
                except ValueError as error:  # e.g. urlsplit on "http://[::1"
                    problem = str(error)
                if problem is not None:
                    self.report(path, problem)
                    return _FAILED
        return value

    @staticmethod
    def is_null(node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.tag == _NULL_TAG

    def scalar(self, tp: Any, node: Node, path: str, meta: _Meta | None) -> Any:
        if typing.get_origin(tp) is Literal:
            choices = [str(c) for c in typing.get_args(tp)]
            if not isinstance(node, ScalarNode):
                self.report(path, f"must be one of {', '.join(choices)}, not {_describe(node)}")
                return _FAILED
            problem = _must_be_one_of(node.value, choices)
            if problem is not None:
                self.report(path, problem)
                return _FAILED
            return node.value
        expected = _EXPECTED[tp]
        if not isinstance(node, ScalarNode):
            self.report(path, f"must be {expected}, not {_describe(node)}")
            return _FAILED
        try:
            return self.convert_scalar(tp, node, meta)
        except ValueError as error:
            self.report(path, str(error) or f"must be {expected}, not {_describe(node)}")
            return _FAILED

    def convert_scalar(self, tp: Any, node: ScalarNode, meta: _Meta | None) -> Any:
        # Text-like values use the text as written, not YAML 1.1's reading of it: that
        # keeps `country: NO` (Norway, not false) and `start: 21:00` (not 1260) intact.
        text = node.value
        if meta is not None and meta.parse is not None:
            return meta.parse(text, self.base_dir)
        if tp is str:
            return text
        if tp is Path:
            if not text.strip():
                raise ValueError("must not be empty")
            path = Path(text).expanduser()
            return path if path.is_absolute() else self.base_dir / path
        if tp is timedelta:
            return parse_duration(text)
        if tp is time:
            return parse_time_of_day(text)
        wrong = ValueError(f"must be {_EXPECTED[tp]}, not {_describe(node)}")
        try:
            # An explicit tag (`!!int abc`) can put any text under these tags.
            if tp is bool and node.tag == _BOOL_TAG:
                return self.constructor.construct_yaml_bool(node)
            if tp is int and node.tag == _INT_TAG:
                return self.constructor.construct_yaml_int(node)
            if tp is float and node.tag in (_INT_TAG, _FLOAT_TAG):
                return float(self.constructor.construct_object(node))
        except (KeyError, ValueError):
            raise wrong from None
        raise wrong

    def sequence(self, item_tp: Any, node: Node, path: str, meta: _Meta | None) -> Any:
        if not isinstance(node, SequenceNode):
            self.report(path, f"must be a list, not {_describe(node)}")
            return _FAILED
        items = []
        first_by_key: dict[Any, str] = {}
        for index, item_node in enumerate(node.value):
            item_path = f"{path}[{index}]"
            self.sites[item_path] = (self.file, _line(item_node))
            item = self.value(item_tp, item_node, item_path, meta)
            if item is _FAILED:
                continue  # keep the good items, so later checks still see them
            if meta is not None and meta.unique is not None:
                key = getattr(item, meta.unique)
                if key in first_by_key:
                    self.report(
                        _join(item_path, meta.unique),
                        f"duplicate {meta.unique} {key!r} (already used by {first_by_key[key]})",
                    )
                    continue
                first_by_key[key] = item_path
            items.append(item)
        return tuple(items)

    def pairs(self, node: MappingNode, path: str) -> dict[str, tuple[Node, Node]]:
        """The key/value nodes of a mapping, with `<<` merges applied and duplicates reported."""
        own: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    self.merges += 1
                    if self.merges > MERGE_BUDGET:
                        raise _TooManyMerges(_line(key_node))
                    if id(source) in self.merging:
                        continue  # `&a {<<: *a}` merges itself: nothing new to add
                    if not isinstance(source, MappingNode):
                        self.report(
                            path,
                            "<< must merge a mapping or a list of mappings",
                            line=_line(source),
                        )
                        continue
                    self.merging.add(id(node))
                    try:
                        for key, pair in self.pairs(source, path).items():
                            merged.setdefault(key, pair)  # the first merged mapping wins
                    finally:
                        self.merging.discard(id(node))
                continue
            if not isinstance(key_node, ScalarNode):
                self.report(
                    path, f"keys must be names, not {_describe(key_node)}", line=_line(key_node)
                )
                continue
            key = key_node.value
            if key in own:
                first = _line(own[key][0])
                self.report(
                    _join(path, key),
                    f"duplicate key '{key}' (first given on line {first})",
                    line=_line(key_node),
                )
                continue
            own[key] = (key_node, value_node)
        return {**merged, **own}

    def record(self, cls: type, node: Node | None, path: str) -> Any:
        """Read a model object from a mapping (None: nothing written, all defaults)."""
        if node is not None and not isinstance(node, MappingNode):
            self.report(path, f"must be a mapping (key: value lines), not {_describe(node)}")
            return _FAILED
        pairs = self.pairs(node, path) if node is not None else {}
        fields = _fields(cls)
        keys = [f.key for f in fields]
        for key, (key_node, _) in pairs.items():
            self.sites[_join(path, key)] = (self.file, _line(key_node))
            if key not in keys:
                self.report(_join(path, key), self.unknown_key(cls, key, keys))

        complete = True
        for group in getattr(cls, "_exactly_one", ()):
            given = [k for k in group if k in pairs and not self.is_null(pairs[k][1])]
            if not given:
                self.report(path, f"needs one of {', '.join(group)}")
                complete = False
            for extra in given[1:]:
                self.report(
                    _join(path, extra),
                    f"cannot be combined with {given[0]} (give exactly one of {', '.join(group)})",
                )
                complete = False

        values: dict[str, Any] = {}
        failed: set[str] = set()
        for f in fields:
            field_path = _join(path, f.key)
            if field_path in self.overrides:
                text, origin = self.overrides[field_path]
                self.sites[field_path] = (origin, 0)
                value = self.value(
                    f.type, ScalarNode("tag:yaml.org,2002:str", text), field_path, f.meta
                )
            elif f.key in pairs:
                value = self.value(f.type, pairs[f.key][1], field_path, f.meta)
            elif f.required:
                self.report(field_path, "is required")
                complete = False
                continue
            elif dataclasses.is_dataclass(f.default):
                # Read defaulted sections too: their own rules and overrides still apply.
                value = self.record(type(f.default), None, field_path)
            else:
                continue
            if value is _FAILED:
                failed.add(f.name)
                complete = complete and not f.required
                continue
            values[f.name] = value
        if not complete:
            return _FAILED

        obj = cls(**values)
        key_of = {f.name: f.key for f in fields}
        for rule in _invariants(cls):
            if failed.isdisjoint(rule.__invariant_fields__):  # type: ignore[attr-defined]
                for name, message in rule(obj):
                    self.report(_join(path, key_of.get(name, name)), message)
        return obj

    @staticmethod
    def unknown_key(cls: type, key: str, keys: list[str]) -> str:
        secrets: Mapping[str, str] = getattr(cls, "_secret_keys", {})
        if key in secrets:
            return (
                f"secrets are not written in the config file: put the {key} in a file only"
                f" the service can read, and give its path as {secrets[key]}"
            )
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
        if close:
            return f"unknown key '{key}' (did you mean '{close[0]}'?)"
        return f"unknown key '{key}' (valid keys: {', '.join(keys)})"


def _yaml_problem(file: str, error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark is not None:
        problem = f"{context} on line {context_mark.line + 1}: {problem}"
    elif context:
        problem = f"{context}: {problem}"
    if "<block" in problem or "could not find expected ':'" in problem:
        # PyYAML's words for the usual mistake, a key indented one space too far or too short.
        problem += " (check the indentation)"
    return f"{file}:{line}: yaml: {problem}"


def _env_overrides(env: Mapping[str, str], root: Node | None) -> dict[str, tuple[str, str]]:
    driver = env.get(DISPLAY_ENV, "").strip()
    if not driver:
        return {}
    overrides = {"display.driver": (driver, f"${DISPLAY_ENV}")}
    # HOMEBOARD_DISPLAY=mock on a board whose file names a real panel emulates that
    # panel, unless the file says which panel to emulate.
    written = _written(root, "display")
    if driver == "mock" and isinstance(written, MappingNode):
        keys = {k.value: v for k, v in written.value if isinstance(k, ScalarNode)}
        file_driver = keys.get("driver")
        if "panel" not in keys and isinstance(file_driver, ScalarNode):
            if file_driver.value in PANELS:
                overrides["display.panel"] = (file_driver.value, f"${DISPLAY_ENV}")
    return overrides


def _written(root: Node | None, key: str) -> Node | None:
    if not isinstance(root, MappingNode):
        return None
    for key_node, value_node in root.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node
    return None


def load_config(path: Path, *, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file; every problem is raised as one ConfigError."""
    env = os.environ if env is None else env
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            [
                f"{file}: cannot read: not UTF-8 text (byte {error.object[error.start]:#04x}"
                f" at offset {error.start})"
            ]
        ) from None
    except OSError as error:
        raise ConfigError([f"{file}: cannot read: {error.strerror or error}"]) from None
    too_deep = ConfigError([f"{file}:1: yaml: lists or mappings nested too deeply"])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise ConfigError([_yaml_problem(file, error)]) from None
    except RecursionError:  # PyYAML composes recursively: '[[[[…' thousands deep
        raise too_deep from None

    reader = _Reader(file, Path(path).absolute().parent, _env_overrides(env, root))
    if root is not None and not isinstance(root, MappingNode):
        raise ConfigError(
            [
                f"{file}:{_line(root)}: (top level): must be a mapping of settings"
                f" (key: value lines), not {_describe(root)}"
            ]
        )
    try:
        config = reader.record(Config, root, "")
    except RecursionError:
        raise too_deep from None
    except _TooManyMerges as error:
        raise ConfigError(
            [
                f"{file}:{error.line}: yaml: '<<' merges expand to more than {MERGE_BUDGET}"
                " mappings (aliases nested in merges multiply); write the settings out"
                " or merge fewer levels"
            ]
        ) from None
    problems = reader.sorted_problems()
    if problems or config is _FAILED:
        raise ConfigError(problems or [f"{file}:1: (top level): is not a valid configuration"])
    return dataclasses.replace(config, path=Path(path))


def find_config_path(explicit: str | Path | None, *, env: Mapping[str, str] | None = None) -> Path:
    """The config file to use: --config, then $HOMEBOARD_CONFIG, then the default places."""
    env = os.environ if env is None else env
    # A file the user named is used or reported, never silently replaced by another one.
    if explicit is not None and str(explicit) != "":
        return Path(explicit)
    named = env.get(CONFIG_ENV, "")
    if named:
        return Path(named)
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(p) for p in DEFAULT_CONFIG_PATHS)
    raise ConfigError(
        [
            f"no config file found: --config not given, ${CONFIG_ENV} not set, and none of"
            f" {looked} exists (start from config.example.yaml)"
        ]
    )
