"""What a structure admin copies to put the booking on the mairie's own website: the public
link, an iframe that resizes itself, or a plain button, for the structure or one place.

Only `/rdv/<slug>/integration/` (`views.public.embed`) may be framed by another site; the
snippets point at it, and the booking pages it links to open in a new tab."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Snippets:
    title: str
    link: str
    iframe: str
    button: str


def _absolute(path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL + path


def snippets(structure, place=None) -> Snippets:
    """The link, the iframe snippet (with its resizing script) and the button snippet."""
    link = _absolute(reverse("public_start", kwargs={"structure": structure.slug}))
    frame = _absolute(reverse("public_embed", kwargs={"structure": structure.slug}))
    if place is not None:
        link += "?" + urlencode({"lieu_choisi": place.pk})
        frame += "?" + urlencode({"lieu": place.pk})
    title = _("Prendre rendez-vous — %(name)s") % {
        "name": f"{structure.name}, {place.name}" if place is not None else structure.name
    }
    script = _absolute(static("bookings/embed.js"))
    iframe = (
        f'<iframe src="{escape(frame)}" title="{escape(title)}" data-permanence-embed '
        f'style="width:100%;max-width:640px;height:420px;border:0" loading="lazy"></iframe>\n'
        f'<script src="{escape(script)}" async></script>'
    )
    button = (
        f'<a href="{escape(link)}" target="_blank" rel="noopener" '
        f'style="display:inline-block;padding:.75em 1.25em;background:#000091;color:#fff;'
        f'border-radius:.25em;text-decoration:none;font-weight:bold">'
        f"{escape(_('Prendre rendez-vous en ligne'))}</a>"
    )
    return Snippets(title=title, link=link, iframe=iframe, button=button)
