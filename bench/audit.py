"""The disclosure audit (`manage.py audit_disclosure`) on the demo and on generated worst cases:
every network of the demo (two of its structures belong to two networks), a two-structure
network with sparse months, a network of four tiny structures, and a network made of one
structure of each (so that both belong to two networks). In a throw-away database (bench/common.py).

    .venv/bin/python bench/audit.py [--year 2026] [--quick] [--draws N]

Prints each audit's closing line, then one line of key=value pairs; exits 1 when any count of
1 to 10 is recovered within ±2 or a closed period was published twice differently (the
audit's own verdict), so CI fails on it. `--quick`: one closed quarter and its months only.
`--draws N`: the whole audit N times, with new record keys each time (every key redrawn, the
stored reports and archives dropped): the protection must hold whatever keys are drawn, not
for most draws; prints how many draws failed.
"""

import argparse
import sys
import time
from io import StringIO

from common import finish, setup_django

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--year", type=int, default=None)
parser.add_argument("--quick", action="store_true")
parser.add_argument("--draws", type=int, default=1)
args = parser.parse_args()

setup_django("audit")

from django.apps import apps  # noqa: E402
from django.core.management import CommandError, call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from generate import generate_activity  # noqa: E402

from mediation.models import Network, Structure  # noqa: E402
from mediation.report_keys import randomise_report_keys  # noqa: E402
from reports import audit  # noqa: E402
from reports.models import PublishedReport, ReportArchive  # noqa: E402

TOTALS = ("reports", "attacked", "exact", "within2", "small_within2", "versions")


def run(scope: str, year: int) -> dict:
    out = StringIO()
    started = time.perf_counter()
    try:
        call_command("audit_disclosure", scope=scope, year=year, stdout=out)
        code = 0
    except CommandError as error:
        code = error.returncode
        if code == 2:
            raise
    lines = [line for line in out.getvalue().splitlines() if "=" in line and " " in line]
    values = dict(part.split("=", 1) for part in lines[-1].split())
    print(f"  {scope:40} exit {code} in {time.perf_counter() - started:5.1f} s: {lines[-1]}")
    if code:
        for line in out.getvalue().splitlines():
            if "→" in line:
                print("     ", line.strip())
    return {"code": code, **values}


def worst_cases() -> list[str]:
    """Generated networks where small counts abound; returns their slugs."""
    slugs = []
    for prefix, sessions, structures in (("binome", 150, 2), ("hameaux", 90, 4)):
        generate_activity(
            sessions=sessions, structures=structures, years=1, seed=11, prefix=prefix, out=None
        )
        slugs.append(prefix)
    # Structures in two networks: the first of each generated network also joins "croisé"
    # (before anything of theirs is published: a network's published reports count the
    # structures it had then).
    crossed = Network.objects.create(name="Réseau croisé", slug="croise")
    for slug in slugs:
        network = Network.objects.get(slug=slug)
        Structure.objects.in_network(network).order_by("slug").first().networks.add(crossed)
    slugs.append(crossed.slug)
    return slugs


def redraw_keys() -> None:
    """New keys for every record, as if the data had been entered again; nothing published."""
    for model in apps.get_models():
        fields = {field.name for field in model._meta.concrete_fields}
        if "report_key" in fields and not model._meta.proxy:
            randomise_report_keys(model)
    PublishedReport.objects.all().delete()
    ReportArchive.objects.all().delete()


def main() -> None:
    started = time.perf_counter()
    year = args.year or timezone.localdate().year
    call_command("seed_demo", verbosity=0, stdout=StringIO())
    generated = worst_cases()
    if args.quick:
        closed = audit.closed_periods(year, timezone.localdate())
        quarter = next(p for p in reversed(closed) if p.kind == "quarter")
        keep = [p for p in closed if p == quarter or quarter.start <= p.start < quarter.end]
        audit.closed_periods = lambda year, today: keep
    scopes = [*Network.objects.order_by("slug").values_list("slug", flat=True)]
    print(f"Audit {year}: {', '.join(scopes)} ({', '.join(generated)} generated)")
    results, failed_draws = [], 0
    for draw in range(args.draws):
        if draw:
            redraw_keys()
            print(f"Draw {draw + 1} of {args.draws}: new record keys")
        these = [run(scope, year) for scope in scopes]
        failed_draws += any(r["code"] for r in these)
        results += these
    totals = {key: sum(int(r.get(key, 0)) for r in results) for key in TOTALS}
    failed = sum(1 for r in results if r["code"])
    finish(
        draws=args.draws,
        failed_draws=failed_draws,
        scopes=len(results),
        failed=failed,
        **totals,
        seconds=time.perf_counter() - started,
    )
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
