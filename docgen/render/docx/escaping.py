"""Client text as WordprocessingML run text, and the Jinja environment that prints every value a
Word template prints through it: escaped (braces guarded from docxtpl's own brace clean-up), line
breaks and tabs as ``w:br``/``w:tab``, control characters made visible; markup made by docgen or by
the template itself stays as it is. The environment is Jinja's immutable sandbox: a template (an
agency's file) cannot reach Python internals or change what it is given. Its code generator shapes
the compiled templates, so this module is part of the prepared-template cache key (:mod:`.template`)."""
from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, MutableMapping, MutableSequence, MutableSet
from types import (
    AsyncGeneratorType,
    CodeType,
    CoroutineType,
    FrameType,
    FunctionType,
    GeneratorType,
    MethodType,
    TracebackType,
)

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from ..visible_text import display
from . import limits

# docxtpl turns "{_{" "}_}" "{_%" "%_}" in its output into "{{" "}}" "{%" "%}": keep client text intact.
_BRACE_GUARD = re.compile(r"(?<=\{)_(?=[{%])|(?<=\})_(?=\})|(?<=%)_(?=\})")
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_TAB = '</w:t><w:tab/><w:t xml:space="preserve">'
_PLAIN = re.compile(r"[\w .,:;()/'\-]*", re.ASCII)  # nothing to escape, guard, break or make visible
_FORMAT = frozenset({"format", "format_map"})  # a string's: the sandbox wraps them
# what Jinja's sandbox checks beyond attribute names (internals, changing containers), and strings
_NOT_PLAIN = (type, FunctionType, MethodType, CodeType, TracebackType, FrameType, GeneratorType, CoroutineType,
              AsyncGeneratorType, MutableSet, MutableMapping, MutableSequence, deque, str)
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


#: The filter every loop's items pass through (:func:`.limits.steps`).
STEPS_FILTER = "docgen_steps"


class _PrintingGenerator(CodeGenerator):
    """Jinja's code generator with every printed expression passed through the environment's
    ``finalize`` (:func:`_printed`) alone, which escapes whatever is not markup already: the second
    ``escape()`` autoescaping wraps around it is left out, and an ``{% autoescape false %}`` block
    cannot print client text as markup either. (Jinja's own NativeCodeGenerator overrides the same
    two hooks.) An attribute the template names (``b.title``) whose name the sandbox allows
    whatever the object (not starting with ``_``, not ``format``/``format_map``) is read through
    :meth:`Sandbox.plain_getattr`, which checks only the object's type."""

    def _output_child_pre(self, node, frame, finalize) -> None:
        self.write("environment.finalize(")

    def _output_child_post(self, node, frame, finalize) -> None:
        self.write(")")

    def pull_dependencies(self, nodes) -> None:
        """Jinja's, and the steps filter every loop is given (after Jinja looked for filters)."""
        super().pull_dependencies(nodes)
        if STEPS_FILTER not in self.filters:
            self.filters[STEPS_FILTER] = self.temporary_identifier()
        self.writeline(f"{self.filters[STEPS_FILTER]} = environment.filters[{STEPS_FILTER!r}]")

    def visit_For(self, node, frame) -> None:
        """Every loop draws its items through the render's step budget (:func:`.limits.steps`); a
        recursive loop, whose later iterations could not be counted, is refused."""
        if node.recursive:
            raise SecurityError("recursive loops are not allowed in a template")
        # a filter, not a call: Jinja calls a filter directly, a call through the sandbox's checks
        counted = nodes.Filter(node.iter, STEPS_FILTER, [], [], None, None, lineno=node.lineno)
        super().visit_For(nodes.For(node.target, counted, node.body, node.else_, node.test, False, lineno=node.lineno),
                          frame)

    def visit_Getattr(self, node, frame) -> None:
        if self.environment.is_async or node.attr[:1] == "_" or node.attr in _FORMAT \
                or not isinstance(self.environment, Sandbox):
            super().visit_Getattr(node, frame)
            return
        self.write("environment.plain_getattr(")
        self.visit(node.node, frame)
        self.write(f", {node.attr!r})")


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox (no attribute starting with ``_``, no internals of functions, frames
    or types, no changing lists, dicts or sets, ``str.format`` checked), failing at the first unsafe
    reach: Jinja's own gives an undefined value there, which a template may print as nothing or test.
    Its messages name the attribute and the object's type, never the object (client text).

    ``plain_types``: classes of plain data (docgen's own context objects, see :func:`environment`)
    whose attributes and methods are used without the sandbox's per-access checks (they would halve
    the speed of rendering a plan): for an instance of such a class, Jinja's checks come down to the
    attribute's name (not starting with ``_``; ``format`` and ``format_map`` wrapped), which the code
    generator checked when it compiled the template (:class:`_PrintingGenerator`)."""

    plain_types: frozenset[type] = frozenset()
    #: what a render may cost (:mod:`.limits`): loops counted, operators that build values checked
    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context, operator: str, left, right):
        if operator == "*":
            limits.check_repeat(left, right)
        elif operator == "**":
            limits.check_power(left, right)
        else:
            limits.check_printf(left, right)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def checked(*args, **kwargs):
            limits.check_format(fmt, (*args, *kwargs.values(), *(a for m in args if isinstance(m, dict)
                                                                  for a in m.values())))
            return wrapped(*args, **kwargs)

        return checked

    def plain_getattr(self, obj: object, attribute: str):
        """``obj.attribute`` for a name the sandbox allows on any object (checked when compiled)."""
        if type(obj) in self.plain_types:
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        return self.getattr(obj, attribute)

    def unsafe_undefined(self, obj: object, attribute: object):  # a subscript may be any value
        name = repr(attribute) if isinstance(attribute, str) and attribute.isidentifier() and len(attribute) < 64 \
            else "(not a name)"
        raise SecurityError(f"access to attribute {name} of {type(obj).__name__!r} object is unsafe")

    def call(__self, __context, __obj, *args, **kwargs):
        # a method of plain data (docgen's own: TableWidths.begin...) is safe; anything else is asked
        limits.step()
        if not (isinstance(__obj, MethodType) and type(__obj.__self__) in __self.plain_types) \
                and not __self.is_safe_callable(__obj):
            raise SecurityError(f"a {type(__obj).__name__!r} object is not safely callable")
        limits.check_method(__obj, args, kwargs)
        return __context.call(__obj, *args, **kwargs)


def render(template, context: dict) -> str:
    """``template`` rendered with ``context`` within the limits of :mod:`.limits`."""
    return limits.render(template, context)


def environment(plain_types: Iterable[type] = ()) -> Sandbox:
    """The Jinja environment of every Word template: the sandbox (:class:`Sandbox`; ``plain_types``:
    the classes of plain data the template is given), autoescaping on, and every value a template
    prints escaped on the way out (``finalize``, see :class:`_PrintingGenerator`), so templates see
    the composed Document itself and nothing is converted that is not printed. ``safe``, ``e`` and
    ``escape`` do the same: client text never becomes markup, whatever filter a template uses."""
    env = Sandbox(autoescape=True, finalize=_printed)
    env.plain_types = frozenset(plain_types)
    for kind in env.plain_types:  # where the sandbox checks more than names: not plain data
        if issubclass(kind, _NOT_PLAIN):
            raise TypeError(f"{kind.__name__} is not plain data")
    env.code_generator_class = _PrintingGenerator
    env.filters.update({name: limits.bounded_filter(name, env.filters[name])
                        for name in limits.GROWING_FILTERS if name in env.filters})
    env.filters.update(safe=_printed, e=_printed, escape=_printed)
    env.filters[STEPS_FILTER] = limits.steps
    return env
