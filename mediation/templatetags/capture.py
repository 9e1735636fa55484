"""`{% load capture %}`: `{% capture as name %}…{% endcapture %}` renders its block once into
the variable `name` (and outputs nothing), for a fragment a page shows twice: a table row's
narrow and wide layouts (`cases/cases/followups.html`) cost one rendering instead of two."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


class CaptureNode(template.Node):
    def __init__(self, nodelist, name: str):
        self.nodelist = nodelist
        self.name = name

    def render(self, context) -> str:
        # The block's output is already escaped: shown as it was rendered.
        context[self.name] = mark_safe(self.nodelist.render(context))
        return ""


@register.tag
def capture(parser, token):
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("Usage: {% capture as name %}…{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])
