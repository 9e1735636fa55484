"""Pull every activity of a Permanence read API client, page by page, as JSON lines.

    python3 scripts/pull_activities.py https://permanence.example.fr <client-id>:<secret> \
        [--since 2026-09-01T00:00:00Z] [--size 500] > activites.jsonl

Standard library only: what a national tool or a data warehouse does to consume the API
(follow `links.next` until there is none). Prints the number of activities read on stderr;
exits 1 with the API's error on a refusal."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


def pull(base_url: str, token: str, *, since: str | None = None, size: int = 500):
    """Yield every activity, following the `next` links."""
    query = {"page[size]": str(size)}
    if since:
        query["filter[modification][depuis]"] = since
    url = f"{base_url.rstrip('/')}/api/v1/activites?{urllib.parse.urlencode(query)}"
    while url:
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            document = json.load(response)
        yield from document["data"]
        url = document["links"]["next"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("token")
    parser.add_argument("--since", default=None)
    parser.add_argument("--size", type=int, default=500)
    args = parser.parse_args(argv)
    count = 0
    try:
        for activity in pull(args.base_url, args.token, since=args.since, size=args.size):
            print(json.dumps(activity, ensure_ascii=False))
            count += 1
    except urllib.error.HTTPError as error:
        print(f"Refusé ({error.code}) : {error.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    print(f"{count} activités", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
