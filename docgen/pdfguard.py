"""Bounds on what docgen reads from a PDF it is handed (``docgen inspect``, ``docgen verify``): a hostile
file gives one line and exit 2 in bounded time and memory, never a traceback or a hang.

:func:`scan` goes over a PDF opened with pyHanko's reader before anything else reads it:

* every object reachable from the trailer, iteratively (no recursion): arrays and dictionaries nested
  deeper than :data:`MAX_DEPTH` levels, or more than :data:`MAX_OBJECTS` objects, are refused (a
  parser that recurses hits Python's recursion limit long before 200,000 levels: that is refused too);
* the page tree: a node met twice (a kid pointing back to its parent), more than :data:`MAX_PAGES`
  pages, or a tree deeper than :data:`MAX_DEPTH`, is refused;
* the embedded files (the ``/EmbeddedFiles`` name tree): each is hashed while it is inflated, a piece
  at a time (:func:`inflate`), and refused past :data:`MAX_ATTACHMENT` bytes, or past
  :data:`MAX_ATTACHMENTS_TOTAL` for all of them together; only Flate (or no filter) is read.

What it finds (the pages, the attachments' names, sizes and sha256) is returned, so the caller does
not read the same things again without those bounds. pyHanko is never imported here: the caller
hands over its reader.
"""
from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field

MAX_DEPTH = 64  # arrays and dictionaries nested in one object; levels of the page tree
MAX_OBJECTS = 250_000  # indirect objects reachable from the trailer
MAX_ITEMS = 2_000_000  # array items and dictionary entries, all objects together
MAX_PAGES = 20_000
MAX_ATTACHMENTS = 1_000
MIB = 1 << 20
MAX_ATTACHMENT = 64 * MIB  # inflated, one embedded file
MAX_ATTACHMENTS_TOTAL = 256 * MIB  # inflated, all of them
PIECE = 1 * MIB  # inflated at a time
INPUT_PIECE = 64 * 1024  # compressed data fed to zlib at a time


class UnsafePdf(ValueError):
    """A PDF past one of the bounds: the message says which, in one line."""


@dataclass
class Attachment:
    name: str
    size: int
    sha256: str
    data: bytes | None = None  # kept only for the names asked for (``keep``)


@dataclass
class Scan:
    pages: list = field(default_factory=list)  # page references, in order
    attachments: list[Attachment] = field(default_factory=list)


def _generic():
    from pyhanko.pdf_utils import generic  # noqa: PLC0415 - the caller already imported pyHanko

    return generic


def _key(ref) -> tuple[int, int]:
    ref = getattr(ref, "reference", ref)
    return ref.idnum, ref.generation


def _resolve(obj):
    """An indirect object's value; a parser recursing without end is a nesting too deep."""
    try:
        return obj.get_object()
    except RecursionError:
        raise UnsafePdf(f"objects nested deeper than {MAX_DEPTH} levels") from None


def walk_objects(trailer) -> int:
    """Every object reachable from ``trailer`` (a pyHanko dictionary), without recursion; raises
    :class:`UnsafePdf` past the bounds. Objects that cannot be parsed are passed over (whoever
    reads them later meets the same error). Returns how many indirect objects were seen."""
    generic = _generic()
    seen: set[tuple[int, int]] = set()
    items = 0
    stack = [(trailer, 0)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, generic.IndirectObject):
            key = _key(obj)
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > MAX_OBJECTS:
                raise UnsafePdf(f"more than {MAX_OBJECTS} objects")
            try:
                obj = _resolve(obj)
            except UnsafePdf:
                raise
            except Exception:  # noqa: BLE001, S112 - a broken object: not this walk's to judge
                continue
            depth = 0
        if depth > MAX_DEPTH:
            raise UnsafePdf(f"objects nested deeper than {MAX_DEPTH} levels")
        if isinstance(obj, generic.DictionaryObject):
            children = (_raw(obj, k) for k in list(dict.keys(obj)))
        elif isinstance(obj, generic.ArrayObject):
            children = (_raw(obj, i) for i in range(len(obj)))
        else:
            continue
        for child in children:
            items += 1
            if items > MAX_ITEMS:
                raise UnsafePdf(f"more than {MAX_ITEMS} array items and dictionary entries")
            if isinstance(child, generic.IndirectObject):
                stack.append((child, 0))
            elif isinstance(child, (generic.DictionaryObject, generic.ArrayObject)):
                stack.append((child, depth + 1))
    return len(seen)


def _raw(container, key):
    try:
        return container.raw_get(key)
    except Exception:  # noqa: BLE001 - an entry that cannot be decrypted or read
        return None


def get(container, key, default=None):
    """``container[key]`` resolved, or ``default`` when absent, null or unreadable."""
    generic = _generic()
    if not isinstance(container, generic.DictionaryObject) or key not in container:
        return default
    try:
        value = _resolve(container.raw_get(key))
    except UnsafePdf:
        raise
    except Exception:  # noqa: BLE001
        return default
    return default if isinstance(value, generic.NullObject) else value


def _tree(start, what: str, descend=lambda node: True):
    """(reference, dictionary) of every node of a tree linked by /Kids (page tree, name tree), from
    ``start``, in order, without recursion; :class:`UnsafePdf` when a node is reached twice (a loop),
    past :data:`MAX_DEPTH` levels or :data:`MAX_PAGES` kids. ``descend(node)``: whether to go into a
    node's kids."""
    generic = _generic()
    seen, stack = set(), [(start, 0)]
    while stack:
        ref, depth = stack.pop()
        if isinstance(ref, generic.IndirectObject):
            key = _key(ref)
            if key in seen:
                raise UnsafePdf(f"{what} loops back on itself (a node is reached twice)")
            seen.add(key)
        if depth > MAX_DEPTH:
            raise UnsafePdf(f"{what} is deeper than {MAX_DEPTH} levels")
        node = _resolve(ref) if isinstance(ref, generic.IndirectObject) else ref
        if not isinstance(node, generic.DictionaryObject):
            continue
        yield ref, node
        kids = get(node, "/Kids")
        if isinstance(kids, generic.ArrayObject) and descend(node):
            if len(kids) > MAX_PAGES:
                raise UnsafePdf(f"{what} has a node with more than {MAX_PAGES} kids")
            for i in range(len(kids) - 1, -1, -1):  # reversed: the stack gives them back in order
                stack.append((kids.raw_get(i), depth + 1))


def page_refs(root) -> list:
    """The page objects of the catalog ``root``'s page tree, in order, as references (or the page
    dictionaries themselves when a kid is direct); :class:`UnsafePdf` when a node comes back (a
    loop), past :data:`MAX_PAGES` pages or :data:`MAX_DEPTH` levels."""
    generic = _generic()
    if not isinstance(root, generic.DictionaryObject) or "/Pages" not in root:
        return []
    pages = []
    for ref, node in _tree(root.raw_get("/Pages"), "the page tree", descend=lambda n: get(n, "/Type") != "/Page"):
        if get(node, "/Type") == "/Page" or not isinstance(get(node, "/Kids"), generic.ArrayObject):
            pages.append(ref)
            if len(pages) > MAX_PAGES:
                raise UnsafePdf(f"more than {MAX_PAGES} pages")
    return pages


def _name_tree(start, limit: int):
    """(key, value) pairs of a name tree, in order; see :func:`_tree` for the bounds."""
    generic = _generic()
    found = 0
    for _ref, node in _tree(start, "a name tree"):
        names = get(node, "/Names")
        if isinstance(names, generic.ArrayObject):
            for i in range(0, len(names) - 1, 2):
                found += 1
                if found > limit:
                    raise UnsafePdf(f"more than {limit} attachments")
                yield names[i], names.raw_get(i + 1)


def _text(value) -> str:
    generic = _generic()
    if isinstance(value, (generic.TextStringObject, generic.ByteStringObject, str)):
        return str(value)
    return "(unnamed)"


class TooLarge(UnsafePdf):
    """A stream that inflates past the limit it was read with."""


def inflate(stream, limit: int):
    """The decoded data of a pyHanko stream, a piece at a time, never more than ``limit`` bytes in
    all (:class:`TooLarge` past it). Flate without predictor, or no filter; anything else is refused
    (:class:`UnsafePdf`): docgen writes nothing else into the files it reads back."""
    generic = _generic()
    raw = memoryview(stream.encoded_data)
    filters = get(stream, "/Filter")
    if isinstance(filters, generic.ArrayObject):
        filters = [filters[i] for i in range(len(filters))]
    else:
        filters = [] if filters is None else [filters]
    params = get(stream, "/DecodeParms")
    if filters not in (["/FlateDecode"], []):
        raise UnsafePdf(f"an embedded file is stored with {' '.join(map(str, filters))}, which docgen does not read")
    if params is not None and params != generic.DictionaryObject():
        raise UnsafePdf("an embedded file is stored with decode parameters, which docgen does not read")
    if not filters:
        if len(raw) > limit:
            raise TooLarge
        for start in range(0, len(raw), PIECE):
            yield bytes(raw[start:start + PIECE])
        return
    decompressor, total = zlib.decompressobj(), 0
    try:
        for start in range(0, len(raw), INPUT_PIECE):
            pending: bytes | memoryview = raw[start:start + INPUT_PIECE]
            while True:
                piece = decompressor.decompress(pending, PIECE)
                total += len(piece)
                if total > limit:
                    raise TooLarge
                if piece:
                    yield piece
                pending = decompressor.unconsumed_tail
                if not pending and len(piece) < PIECE:  # a full piece may leave output inside zlib
                    break
            if decompressor.eof:
                break
        rest = decompressor.flush(PIECE)
    except zlib.error:
        raise UnsafePdf("an embedded file is not valid Flate data") from None
    if total + len(rest) > limit:
        raise TooLarge
    if rest:
        yield rest


def attachments(root, keep: frozenset[str] = frozenset()) -> list[Attachment]:
    """The embedded files of the catalog ``root``'s ``/EmbeddedFiles`` name tree, sorted by name:
    size and sha256 of the inflated data (bounded), and the data itself for the names in ``keep``."""
    generic = _generic()
    tree = get(get(root, "/Names"), "/EmbeddedFiles")
    if tree is None:
        return []
    found, total = [], 0
    for key, spec_ref in _name_tree(tree, MAX_ATTACHMENTS):
        name = _text(key)
        spec = _resolve(spec_ref) if isinstance(spec_ref, generic.IndirectObject) else spec_ref
        files = get(spec, "/EF")
        stream = get(files, "/F")
        if not isinstance(stream, generic.StreamObject):
            stream = get(files, "/UF")
        if not isinstance(stream, generic.StreamObject):
            continue
        digest, size, kept = hashlib.sha256(), 0, []
        room = min(MAX_ATTACHMENT, MAX_ATTACHMENTS_TOTAL - total)
        try:
            for piece in inflate(stream, room):
                digest.update(piece)
                size += len(piece)
                if name in keep:
                    kept.append(piece)
        except TooLarge:
            if room < MAX_ATTACHMENT:
                raise UnsafePdf(f"the attachments inflate to more than {MAX_ATTACHMENTS_TOTAL // MIB} MiB") from None
            raise UnsafePdf(f"attachment {name} inflates to more than {MAX_ATTACHMENT // MIB} MiB") from None
        total += size
        found.append(Attachment(name, size, digest.hexdigest(), b"".join(kept) if name in keep else None))
    return sorted(found, key=lambda a: a.name)


def scan(reader, keep: frozenset[str] = frozenset()) -> Scan:
    """Check a (decrypted) pyHanko ``reader`` against every bound; its pages and attachments.
    Raises :class:`UnsafePdf`."""
    try:
        walk_objects(reader.trailer_view)
        root = reader.root
        return Scan(page_refs(root), attachments(root, keep))
    except RecursionError:  # a parser or a library below recursed without end
        raise UnsafePdf(f"objects nested deeper than {MAX_DEPTH} levels") from None
