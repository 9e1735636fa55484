from django.shortcuts import redirect
from django.templatetags.static import static


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: send them to the static icon.
    Resolved per request (the collected file's name carries a hash in production) and not a
    permanent redirect, so that a new icon is picked up after a deployment."""
    return redirect(static("mediation/favicon.ico"))
