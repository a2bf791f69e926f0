"""A commented YAML skeleton of a record to start from (``docgen new KIND``).

Made from the record's JSON schema (:mod:`docgen.model.schema`, which pydantic makes from the models),
so it follows every change of the models: each field in model order, the required ones with a
placeholder that passes ``docgen validate`` (a field's ``examples`` where it declares one, otherwise a
value of its type), the optional ones commented out with what they mean. Nested records, lists of
them and each variant of a union (the assessment instruments) are written out in full, so that
uncommenting a block gives the shape the schema expects.
"""
from __future__ import annotations

import json
import re
from typing import Any

from .schema import record_schema

#: Placeholder values by format, all valid.
PLACEHOLDER_DATE = "2026-01-05"
PLACEHOLDER_TIME = "09:00"
#: Trailing comments start at this column when the line leaves room.
COMMENT_COLUMN = 40
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*|[0-9]{4}-[0-9]{2}-[0-9]{2}")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def skeleton(kind: str) -> str:
    """The commented YAML skeleton of a record of ``kind``; raises UsageError for an unknown kind."""
    schema = record_schema(kind)
    head = [
        f"# A docgen record of kind {kind} (`docgen new {kind}`).",
        "# Every value below is a placeholder: required fields hold one that passes `docgen validate`;",
        "# replace them all. Optional fields are commented out (# name: ...): uncomment those you fill.",
        f"# Dates are YYYY-MM-DD, times HH:MM (24-hour). Every field: `docgen schema {kind}`.",
    ]
    return "\n".join(head + _Writer(schema["$defs"]).fields(schema, 0)) + "\n"


class _Writer:
    def __init__(self, defs: dict[str, dict]):
        self.defs = defs

    # --- schemas ---------------------------------------------------------------------------------
    def resolve(self, schema: dict) -> dict:
        """``schema`` with a ``$ref`` replaced by its definition (the field's own keys win) and a
        nullable ``anyOf [X, null]`` by X."""
        if "$ref" in schema:
            target = self.defs[schema["$ref"].rsplit("/", 1)[-1]]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
        if len(options) == 1:
            inner = self.resolve(options[0])
            schema = {**inner, **{k: v for k, v in schema.items() if k != "anyOf"}}
        return schema

    def variants(self, schema: dict) -> list[dict]:
        return [self.resolve(s) for s in schema["oneOf"]] if "oneOf" in schema else [schema]

    # --- values ----------------------------------------------------------------------------------
    def value(self, schema: dict, name: str) -> Any:
        """A placeholder that the schema and the model accept."""
        if schema.get("examples"):
            return schema["examples"][0]
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if schema.get("default") not in (None, [], {}):
            return schema["default"]
        kind = schema.get("type")
        if kind == "array":
            item = self.resolve(schema.get("items", {}))
            return [self.value(item, name)] * max(1, schema.get("minItems", 1))
        if kind == "boolean":
            return False
        if kind in ("integer", "number"):
            return schema.get("minimum", 1)
        if schema.get("format") == "date":
            return PLACEHOLDER_DATE
        if "HH:MM" in schema.get("description", ""):
            return PLACEHOLDER_TIME
        return f"<{name}>"

    def hint(self, schema: dict, required: bool) -> str:
        """The trailing comment: required, meaning, choices, format, size, default."""
        parts = ["required"] if required else []
        item = self.resolve(schema["items"]) if schema.get("type") == "array" and "items" in schema else {}
        description = " ".join((schema.get("description") or item.get("description") or "").split())
        if description:
            parts.append(description)
        choices = schema.get("enum") or item.get("enum") or ()
        if len(choices) > 1:
            parts.append(("each " if item else "") + "one of: " + ", ".join(map(str, choices)))
        if schema.get("format") == "date" and "YYYY-MM-DD" not in description:
            parts.append("YYYY-MM-DD")
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low and low == high:
            parts.append(f"exactly {low}")
        elif low:
            parts.append(f"at least {low}")
        if not required and schema.get("default") not in (None, [], {}) and not schema.get("examples"):
            parts.append(f"default: {_scalar(schema['default'])}")
        return "; ".join(parts)

    # --- lines -----------------------------------------------------------------------------------
    def fields(self, schema: dict, indent: int, lead: str | None = None) -> list[str]:
        """The lines of an object's fields, in model order (``lead`` first), at ``indent``."""
        lines: list[str] = []
        required = set(schema.get("required", ()))
        properties = schema.get("properties", {})
        order = [lead] * (lead in properties) + [name for name in properties if name != lead]
        for name in order:
            field = properties[name]
            block = self.field(name, self.resolve(field), indent, name in required)
            lines.extend(block if name in required else _commented(block, indent))
        return lines

    def field(self, name: str, schema: dict, indent: int, required: bool) -> list[str]:
        pad = " " * indent
        note = self.hint(schema, required)
        if "properties" in schema:
            return [_line(f"{pad}{name}:", note), *self.fields(schema, indent + 2)]
        if schema.get("type") == "array":
            items = self.resolve(schema.get("items", {}))
            objects = [v for v in self.variants(items) if "properties" in v]
            if objects:
                if len(objects) > 1:
                    tag = items.get("discriminator", {}).get("propertyName", "kind")
                    note = "; ".join(filter(None, [note, f"one item per {tag}: each kind is shown"]))
                lines = [_line(f"{pad}{name}:", note)]
                for variant in objects:
                    lines.extend(self.item(variant, indent + 2))
                return lines
        return [_line(f"{pad}{name}: {_scalar(self.value(schema, name))}", note)]

    def item(self, schema: dict, indent: int) -> list[str]:
        """A list item: the object's fields under ``- ``, led by its kind (a union's tag) or else by
        its first required one-line field, so that the ``- `` does not start a comment."""
        properties = {name: self.resolve(field) for name, field in schema.get("properties", {}).items()}
        lead = next((name for name, field in properties.items() if "const" in field), None) or next(
            (name for name, field in properties.items()
             if name in schema.get("required", ()) and "properties" not in field and field.get("type") != "array"),
            None)
        lines = self.fields(schema, indent + 2, lead)
        first = lines[0]
        lines[0] = first[:indent] + "- " + first[indent + 2:]
        return lines


def _commented(lines: list[str], indent: int) -> list[str]:
    """A block commented out at ``indent``: removing that one ``# `` gives the block back."""
    return [line[:indent] + "# " + line[indent:] for line in lines]


def _line(text: str, note: str) -> str:
    if not note:
        return text
    return f"{text.ljust(COMMENT_COLUMN - 2)}  # {note}"


def _scalar(value: Any) -> str:
    """``value`` as a YAML flow scalar read as the same value by docgen and by YAML 1.2 readers
    (schema-aware editors): text that could be read as a number, boolean or null is quoted, and so
    are times (YAML 1.1 reads 09:30 as a number). Dates stay plain, as in the README's examples."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


__all__ = ["skeleton", "PLACEHOLDER_DATE", "PLACEHOLDER_TIME"]
