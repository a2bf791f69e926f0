"""Load: read record documents from files and folders, safely.

A file is JSON or YAML holding one document (a JSON array holds several), or JSONL holding one
document a line; a folder is read recursively in sorted order. Anything wrong with a file becomes a
``RawDocument`` with an ``error`` (one line, naming where, never quoting content), never an exception.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml

#: Largest JSON / YAML file read whole, and largest JSONL line.
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_LINE_BYTES = 8 * 1024 * 1024
#: Deepest nesting accepted in a document (records are about 6 levels deep).
MAX_DEPTH = 32

SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}


from ..errors import LoadError  # noqa: E402 - a document that cannot be read (never quotes content)


@dataclass
class RawDocument:
    source: str  # file, with ":LINE" for JSONL or "[N]" for an item of a JSON array
    data: Any = None
    error: str | None = None

    @property
    def id(self) -> str | None:
        return _scalar(self.data, "id")

    @property
    def client(self) -> str | None:
        return _scalar(self.data.get("client") if isinstance(self.data, dict) else None, "id")


def input_hash(data: Any) -> str:
    """sha256 of a document's data as read (canonical JSON): what the audit trail and the manifest
    record of an input, whatever file format it came in."""
    import hashlib  # noqa: PLC0415

    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()  # a lone surrogate is hashed too


_POSITION = re.compile(r"(?::\d+|\[\d+\])$")


def source_file(source: str) -> str:
    """The file part of a ``source``: without a JSONL/CSV ``:LINE`` or a JSON array ``[N]``."""
    return _POSITION.sub("", source)


def normal_id(text: str) -> str:
    """An id as docgen compares it everywhere (duplicates, locks, file names): surrounding plain spaces
    removed and Unicode normalised to NFC, so that a composed and a decomposed spelling are one id.
    The model refuses ids that hold invisible, control or bidi characters (``docgen.model.base``)."""
    import unicodedata  # noqa: PLC0415

    return unicodedata.normalize("NFC", text.strip(" "))


def _scalar(data: Any, key: str) -> str | None:
    if isinstance(data, dict):
        value = data.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            text = normal_id(str(value))
            if not text.isprintable():  # shown escaped (an invalid id), so that reports still name it
                text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace")
                               .decode("ascii") for ch in text)
            return text if len(text) <= 128 else None
    return None


# --- YAML: the core schema (YAML 1.2 style), no aliases, no duplicate keys ----------------------
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it


class _YamlLoader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """SafeLoader without YAML 1.1 surprises: ``10:30`` stays a string (not 630), ``no`` stays a
    string, dates stay strings for pydantic to parse; aliases (alias bombs) and duplicate keys are
    refused. Parsed by libyaml (C) where available, constructed by these Python rules."""

    yaml_implicit_resolvers: ClassVar[dict] = {}

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _refuse_aliases(node)
        return node

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except LoadError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError):
            # e.g. `!!timestamp 2026-02-30`, `!!int abc`, an integer of thousands of digits
            raise yaml.constructor.ConstructorError(
                None, None, "a value cannot be read (bad explicit tag or number too long)", node.start_mark
            ) from None

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, (list, dict, set)):
                raise LoadError(f"line {line}: a key must be a plain value, not a list or mapping")
            if key in seen:
                raise LoadError(f"line {line}: duplicate key '{str(key)[:64]}'")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _refuse_aliases(root) -> None:
    """An alias makes its anchored node appear twice in the composed graph: refuse the first node met
    again (before anything is constructed, so an alias bomb is never expanded)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise LoadError(f"line {node.start_mark.line + 1}: YAML aliases (*name) are not accepted in records "
                            "(this node is used again)")
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))


for _tag, _regex, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
):
    # Numbers stay text: pydantic turns "45" into 45 where a field is a number, and an id or member
    # number such as 0123 or 1.5e3 keeps exactly the characters typed.
    _YamlLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regex), list(_first))


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise LoadError(f"duplicate key '{key[:64]}'")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise LoadError(f"{name} is not a valid JSON number")


def parse_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_json_pairs, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise LoadError(f"line {exc.lineno} column {exc.colno}: broken JSON: {exc.msg}") from None
    except LoadError:
        raise
    except ValueError:  # an integer of thousands of digits (int max str digits)
        raise LoadError("broken JSON: a number too long to read") from None
    except RecursionError:
        raise LoadError("nesting too deep") from None


def parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "syntax error"
        if "expected a single document" in str(exc.context):  # problem: "but found another document"
            what = "a YAML file holds one record; use JSONL or a folder for several"
        raise LoadError(f"{where}broken YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise LoadError(f"broken YAML: {type(exc).__name__}") from None
    except RecursionError:
        raise LoadError("nesting too deep") from None
    except LoadError:
        raise
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise LoadError("broken YAML: a value cannot be read") from None


def depth_ok(data: Any) -> bool:
    """Whether ``data`` (parsed JSON or YAML) nests no deeper than :data:`MAX_DEPTH` levels."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _decode(raw: bytes) -> str:
    if b"\x00" in raw:
        raise LoadError("binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8 text (byte {exc.start})") from None


def _document(source: str, data: Any, check_depth: bool = True) -> RawDocument:
    if not isinstance(data, dict):
        kind = "empty document" if data is None else f"a {type(data).__name__}"
        return RawDocument(source, None, f"a record must be a mapping of fields, found {kind}")
    raw = RawDocument(source, data)
    return depth_checked(raw) if check_depth else raw


def depth_checked(raw: RawDocument) -> RawDocument:
    """``raw`` with an error when its data nests deeper than :data:`MAX_DEPTH` (what :func:`read` does
    unless told ``check_depth=False``: a batch reads each document in its main process for its ids
    and leaves this check, like validation, to the worker that takes the record)."""
    if raw.error is None and isinstance(raw.data, dict) and not depth_ok(raw.data):
        return RawDocument(raw.source, raw.data, f"nesting deeper than {MAX_DEPTH} levels")
    return raw


def read_file(path: Path, skip_line: Callable[[bytes], bool] | None = None,
              check_depth: bool = True) -> Iterator[RawDocument]:
    """The documents in one file. ``skip_line``: a JSONL line for which it is true is yielded as a
    document without data, unparsed (a first pass that only looks for some kinds of record).
    ``check_depth=False``: documents nested too deep are yielded without the error that says so, for
    :func:`depth_checked` to add later."""
    source = str(path)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        yield RawDocument(source, error=f"unsupported file type '{path.suffix}' (use .json, .jsonl, .yaml, .csv)")
        return
    try:
        if fmt == "jsonl":
            yield from _read_jsonl(path, skip_line, check_depth)
            return
        if fmt == "csv":
            from .csvin import read_csv  # noqa: PLC0415

            yield from read_csv(path)
            return
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(f"file too large ({size} bytes; limit {MAX_FILE_BYTES})")
        text = _decode(path.read_bytes())
        if not text.strip():
            raise LoadError("empty file")
        data = parse_json(text) if fmt == "json" else parse_yaml(text)
    except LoadError as exc:
        yield RawDocument(source, error=str(exc))
        return
    except OSError as exc:
        yield RawDocument(source, error=f"cannot read file: {exc.strerror or type(exc).__name__}")
        return
    if fmt == "json" and isinstance(data, list):
        if not data:
            yield RawDocument(source, error="empty JSON array")
        for index, item in enumerate(data):
            yield _document(f"{source}[{index}]", item, check_depth)
        return
    yield _document(source, data, check_depth)


def _read_jsonl(path: Path, skip: Callable[[bytes], bool] | None = None,
                check_depth: bool = True) -> Iterator[RawDocument]:
    empty = True
    with path.open("rb") as handle:
        number = 0
        while True:
            line = handle.readline(MAX_LINE_BYTES + 1)
            if not line:
                break
            number += 1
            source = f"{path}:{number}"
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):  # skip the rest of the oversized line
                    line = handle.readline(MAX_LINE_BYTES)
                yield RawDocument(source, error=f"line longer than {MAX_LINE_BYTES} bytes")
                empty = False
                continue
            if not line.strip():
                continue
            empty = False
            if skip is not None and skip(line):
                yield RawDocument(source)  # counted, not parsed
                continue
            try:
                data = parse_json(_decode(line))
            except LoadError as exc:
                yield RawDocument(source, error=str(exc).replace("line 1 column", "column"))
                continue
            yield _document(source, data, check_depth)
    if empty:
        yield RawDocument(str(path), error="empty file")


def iter_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Files named, and record files found recursively (sorted) in folders named."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            yield from found
        else:
            yield path


def read(paths: Iterable[str | os.PathLike], skip_line: Callable[[bytes], bool] | None = None,
         check_depth: bool = True) -> Iterator[RawDocument]:
    """Every document under the given files and folders, in a stable order (``skip_line`` and
    ``check_depth``: see :func:`read_file`)."""
    for path in iter_files(paths):
        yield from read_file(path, skip_line, check_depth)
