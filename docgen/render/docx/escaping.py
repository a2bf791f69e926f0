"""Client text as WordprocessingML run text, and the Jinja environment that prints every value a
Word template prints through it: escaped (braces guarded from docxtpl's own brace clean-up), line
breaks and tabs as ``w:br``/``w:tab``, control characters made visible; markup made by docgen or by
the template itself stays as it is. Its code generator shapes the compiled templates, so this
module is part of the prepared-template cache key (:mod:`.template`)."""
from __future__ import annotations

import re

from jinja2 import Environment
from jinja2.compiler import CodeGenerator
from markupsafe import Markup, escape

from ..visible_text import display

# docxtpl turns "{_{" "}_}" "{_%" "%_}" in its output into "{{" "}}" "{%" "%}": keep client text intact.
_BRACE_GUARD = re.compile(r"(?<=\{)_(?=[{%])|(?<=\})_(?=\})|(?<=%)_(?=\})")
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_TAB = '</w:t><w:tab/><w:t xml:space="preserve">'
_PLAIN = re.compile(r"[\w .,:;()/'\-]*", re.ASCII)  # nothing to escape, guard, break or make visible
_markup = str.__new__  # Markup of a string known to be markup, without Markup.__new__'s checks


def text(value: str) -> Markup:
    """Client text as escaped WordprocessingML run text; line breaks and tabs become ``w:br``/``w:tab``."""
    if _PLAIN.fullmatch(value):
        return _markup(Markup, value.replace("'", "&#39;"))  # what escape() gives
    escaped = _BRACE_GUARD.sub("&#95;", str(escape(display(value))))
    return _markup(Markup, escaped.replace("\n", _BREAK).replace("\t", _TAB))


def _printed(value: object) -> Markup:
    """What a template prints: a plain string becomes run text (:func:`text`); markup made by
    docgen (images, charts: :mod:`.images`) or by the template (macros) stays as it is; anything
    else is escaped as Jinja would print it."""
    if type(value) is str:  # exactly str: Markup is a str too, and must stay as it is
        return text(value)
    if hasattr(value, "__html__"):
        return value  # type: ignore[return-value]
    return escape(value)


class _PrintingGenerator(CodeGenerator):
    """Jinja's code generator with every printed expression passed through the environment's
    ``finalize`` (:func:`_printed`) alone, which escapes whatever is not markup already: the second
    ``escape()`` autoescaping wraps around it is left out, and an ``{% autoescape false %}`` block
    cannot print client text as markup either. (Jinja's own NativeCodeGenerator overrides the same
    two hooks.)"""

    def _output_child_pre(self, node, frame, finalize) -> None:
        self.write("environment.finalize(")

    def _output_child_post(self, node, frame, finalize) -> None:
        self.write(")")


def environment() -> Environment:
    """The Jinja environment of every Word template: autoescaping on, and every value a template
    prints escaped on the way out (``finalize``, see :class:`_PrintingGenerator`), so templates see
    the composed Document itself and nothing is converted that is not printed. ``safe``, ``e`` and
    ``escape`` do the same: client text never becomes markup, whatever filter a template uses."""
    env = Environment(autoescape=True, finalize=_printed)
    env.code_generator_class = _PrintingGenerator
    env.filters.update(safe=_printed, e=_printed, escape=_printed)
    return env
