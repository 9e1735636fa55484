"""Search as the pages do: the form POSTs the term, the page it redirects to (`?r=<key>`)
shows the results. The term never goes in a URL (`mediation/search_terms.py`)."""

from urllib.parse import urlencode

from mediation.search_terms import FIELD, MARKER


def search_url(client, path: str, term: str, **params) -> str:
    """The URL the search form leads to (extra `params`, e.g. page=2, added to it)."""
    response = client.post(path, {FIELD: term, MARKER: "1"})
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    return f"{location}&{urlencode(params)}" if params else location


def search_get(client, path: str, term: str, **params):
    return client.get(search_url(client, path, term, **params))
