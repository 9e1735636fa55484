"""`{% load form_fields %}`: `{{ form.field|as_field }}` renders a field as crispy-forms'
`|as_crispy_field` does with the bootstrap5 pack (the same elements, attributes and text:
`tests/mediation/test_form_fields.py` compares the two on every field of the desk's forms,
empty and in error), built in Python instead of through crispy's nested templates.

Why: crispy's `bootstrap5/field.html` costs about 0.5 ms per text box and 1 to 3 ms per list
of choices, most of it template interpretation; the one-page session form has 24 fields
(36 ms of its 68). Anything this does not know (a hidden or file field, a multi-widget, a
helper with a layout of its own: horizontal form, label or field classes, inline help text)
goes to crispy unchanged."""

from __future__ import annotations

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, optgroups
from django import forms, template
from django.conf import settings
from django.forms import boundfield
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

#: Helper attributes this renderer reproduces at their default value only.
_LAYOUT_ATTRIBUTES = (
    "form_class",
    "label_class",
    "field_class",
    "wrapper_class",
    "help_text_inline",
    "field_template",
    "tag",
    "inline_class",
)


@register.filter
def as_field(field) -> SafeString:
    html = _render(field) if isinstance(field, boundfield.BoundField) else None
    return as_crispy_field(field) if html is None else html


def _settings(field) -> dict | None:
    """The helper's settings as crispy's field template sees them, or None when they ask for
    something else than the plain stacked layout."""
    helper = getattr(field.form, "helper", None)
    if helper is None:
        return {"error_text_inline": False, "flat_attrs": "", "show_errors": True}
    attributes = helper.get_attributes("bootstrap5")
    for name in _LAYOUT_ATTRIBUTES:
        value = attributes.get(name)
        if name == "field_template":
            if value not in (None, "", "bootstrap5/field.html"):
                return None
        elif value:
            return None
    if not attributes.get("form_show_labels", True):
        return None
    return {
        "error_text_inline": bool(attributes.get("error_text_inline")),
        "flat_attrs": attributes.get("flat_attrs", ""),
        "show_errors": bool(attributes.get("form_show_errors", True)),
    }


def _render(field) -> SafeString | None:
    widget = field.field.widget
    if (
        field.is_hidden
        or isinstance(widget, forms.FileInput | forms.MultiWidget)
        or hasattr(widget, "widget")
        or getattr(settings, "CRISPY_CLASS_CONVERTERS", None)
    ):
        return None
    options = _settings(field)
    if options is None:
        return None
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        return _choices(field, options)
    if isinstance(widget, forms.CheckboxInput):
        return _checkbox(field, options)
    if isinstance(widget, forms.Select):
        _add_classes(field, "form-select is-invalid" if field.errors else "form-select")
    else:
        _add_classes(field, "form-control is-invalid" if field.errors else "form-control")
    parts = [format_html('<div id="div_{}" class="{}">', field.auto_id, _wrapper(field, "mb-3"))]
    if field.label:
        parts.append(_label(field, tag="legend" if field.use_fieldset else "label"))
    parts.append(str(field))
    parts.append(_help_text_and_errors(field, options))
    if field.use_fieldset and field.label:
        parts.append("</fieldset>")
    parts.append("</div>")
    return mark_safe("".join(parts))


def _wrapper(field, base: str) -> str:
    classes = field.css_classes()
    return f"{base} {classes}" if classes else base


def _required(field) -> str:
    return " requiredField" if field.field.required else ""


def _asterisk(field) -> str:
    return '<span class="asteriskField">*</span>' if field.field.required else ""


def _label(field, *, tag: str) -> str:
    parts = []
    if field.use_fieldset:
        described = field.aria_describedby
        parts.append(
            format_html('<fieldset aria-describedby="{}">', described)
            if described
            else "<fieldset>"
        )
    target = field.id_for_label
    parts.append(
        format_html(
            '<{} {}class="form-label{}{}">{}{}</{}>',
            tag,
            format_html('for="{}" ', target) if target else "",
            _required(field),
            " fs-6" if field.use_fieldset else "",
            field.label,
            mark_safe(_asterisk(field)),
            tag,
        )
    )
    return "".join(parts)


def _add_classes(field, classes: str) -> None:
    """What crispy's `{% crispy_field %}` does to the widget (and leaves on it): its class
    name, then the Bootstrap classes, each once."""
    widget = field.field.widget
    class_name = widget.__class__.__name__.lower()
    css_class = widget.attrs.get("class", "")
    if css_class:
        if css_class.find(class_name) == -1:
            css_class += f" {class_name}"
    else:
        css_class = class_name
    for name in classes.split():
        if name not in css_class.split():
            css_class += f" {name}"
    widget.attrs["class"] = css_class


def _errors(field, options, *, inline: bool) -> str:
    if not (options["show_errors"] and field.errors):
        return ""
    element = "span" if inline else "p"
    items = "".join(
        format_html(
            '<{} id="error_{}_{}"><strong>{}</strong></{}>',
            element,
            n,
            field.auto_id,
            error,
            element,
        )
        for n, error in enumerate(field.errors, start=1)
    )
    return format_html(
        '<div id="{}_error" class="invalid-feedback">{}</div>',
        getattr(field.errors, "field_id", "") or "",
        mark_safe(items),
    )


def _help_text(field) -> str:
    if not field.help_text:
        return ""
    # crispy shows help texts unescaped (`|safe`): they are the forms' own texts.
    text = str(field.help_text)
    if field.auto_id:
        return f'<div id="{escape(field.auto_id)}_helptext" class="form-text">{text}</div>'
    return f'<div class="form-text">{text}</div>'


def _help_text_and_errors(field, options) -> str:
    return _errors(field, options, inline=options["error_text_inline"]) + _help_text(field)


def _checkbox(field, options) -> SafeString:
    _add_classes(field, "form-check-input is-invalid" if field.errors else "form-check-input")
    return mark_safe(
        '<div class="mb-3">'
        + format_html('<div id="div_{}" class="{}">', field.auto_id, _wrapper(field, "form-check"))
        + str(field)
        + format_html(
            '<label for="{}" class="form-check-label{}">{}{}</label>',
            field.id_for_label,
            _required(field),
            field.label,
            mark_safe(_asterisk(field)),
        )
        + _help_text_and_errors(field, options)
        + "</div></div>"
    )


def _option_attrs(attrs: dict) -> str:
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def _choices(field, options) -> SafeString:
    """Radio buttons or checkboxes, each in its `form-check`, as crispy's
    `radio_checkbox_select.html` lays them out (errors under the last one)."""
    parts = [format_html('<div id="div_{}" class="{}">', field.auto_id, _wrapper(field, "mb-3"))]
    if field.label:
        parts.append(_label(field, tag="legend"))
    parts.append(f"<div {options['flat_attrs']}>" if options["flat_attrs"] else "<div >")
    invalid = " is-invalid" if field.errors else ""
    groups = list(optgroups(field))
    for group_number, (group, choices, _index) in enumerate(groups, start=1):
        if group:
            parts.append(format_html("<strong>{}</strong>", group))
        for number, option in enumerate(choices, start=1):
            parts.append(
                format_html(
                    '<div class="form-check"><input type="{}" class="form-check-input{}"'
                    ' name="{}" value="{}"{}><label for="{}" class="form-check-label">{}</label>',
                    option["type"],
                    invalid,
                    field.html_name,
                    _unlocalized(option["value"]),
                    mark_safe(_option_attrs(option["attrs"])),
                    option["attrs"].get("id", ""),
                    _unlocalized(option["label"]),
                )
            )
            if field.errors and number == len(choices) and group_number == len(groups):
                # crispy's field_errors_block.html, whatever the helper says.
                parts.append(_errors(field, options, inline=False))
            parts.append("</div>")
    parts.append("</div>")
    parts.append(_help_text(field))
    if field.label:
        parts.append("</fieldset>")
    parts.append("</div>")
    return mark_safe("".join(parts))


def _unlocalized(value) -> str:
    # `|unlocalize`, then the template's autoescape.
    return conditional_escape(value if isinstance(value, str) else str(value))
