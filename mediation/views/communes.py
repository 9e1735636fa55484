"""The commune pickers' suggestions: `GET /communes/?commune=guich` → at most 10 communes as JSON.
Public reference data, no structure's: any signed-in staff member may ask (the navigation's
account pages have the same rule); bounded in size and time (`mediation.communes`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from mediation.communes import commune_search

#: What the picker shows at most, and the longest query read.
LIMIT = 10
MAX_QUERY = 100


@login_required
@require_GET
def commune_suggestions(request):
    # A fragment of a commune's name or postcode: reference data, not a person's (the
    # residents' search terms never travel in a URL: see
    # tests/mediation/test_no_personal_data_in_urls.py).
    query = (request.GET.get("commune") or "")[:MAX_QUERY]
    results = [
        {"code": c.code, "label": c.label, "name": c.name, "detail": c.detail}
        for c in commune_search(query, limit=LIMIT)
    ]
    return JsonResponse({"results": results})
