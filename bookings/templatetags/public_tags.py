from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def with_language(context, code: str) -> str:
    """The current page's query string with `lang` set to `code`."""
    query = context["request"].GET.copy()
    query["lang"] = code
    return "?" + query.urlencode()
