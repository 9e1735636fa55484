"""`{% capture %}` (mediation/templatetags/capture.py): a fragment rendered once, shown twice."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError


class Counter:
    def __init__(self):
        self.calls = 0

    def __str__(self):
        self.calls += 1
        return "<b>&</b>"


def test_the_block_is_rendered_once_and_shown_where_asked_as_it_was_escaped():
    counter = Counter()
    html = Template(
        "{% load capture %}{% capture as x %}<i>{{ c }}</i>{% endcapture %}[{{ x }}|{{ x }}]"
    ).render(Context({"c": counter}))
    assert html == "[<i>&lt;b&gt;&amp;&lt;/b&gt;</i>|<i>&lt;b&gt;&amp;&lt;/b&gt;</i>]"
    assert counter.calls == 1


def test_each_loop_turn_captures_its_own_value():
    html = Template(
        "{% load capture %}{% for n in ns %}{% capture as x %}{{ n }}{% endcapture %}{{ x }}{{ x }}"
        "{% endfor %}"
    ).render(Context({"ns": [1, 2]}))
    assert html == "1122"


def test_it_says_how_to_use_it():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load capture %}{% capture x %}{% endcapture %}")
