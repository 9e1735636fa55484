"""The PDF of a large report: a network's year (60 places, 40 communes, 12 months), built by
`tests.reports.samples.sample_report` (no database).

Prints the median render time of `reports.pdf.render_pdf`, the number of pages, the size of the
file and the peak of Python memory allocated while rendering (tracemalloc).

    .venv/bin/python bench/pdf.py [--repeat N] [--out var/bench/report.pdf]

Target: ≤ 2 s (issue "Reports")."""

import argparse
import io
import os
import sys
import time
import tracemalloc

from common import ROOT, finish

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--repeat", type=int, default=5)
parser.add_argument("--places", type=int, default=60)
parser.add_argument("--communes", type=int, default=40)
parser.add_argument("--months", type=int, default=12)
parser.add_argument("--out", default=None, help="also write the PDF there")
args = parser.parse_args()

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediation.settings")
os.environ.setdefault("PERMANENCE_TESTING", "1")
import django  # noqa: E402

django.setup()

from pypdf import PdfReader  # noqa: E402

from reports.pdf import render_pdf  # noqa: E402
from tests.reports.samples import sample_report  # noqa: E402

report = sample_report(
    places=args.places, communes=args.communes, months=args.months, kind="network"
)
rows = sum(len(table["rows"]) for table in report["tables"])
print(f"report: {len(report['tables'])} tables, {rows} rows, {len(report['places'])} places")

render_pdf(report)  # warm-up: imports, font metrics
timings = []
for _ in range(args.repeat):
    start = time.perf_counter()
    data = render_pdf(report)
    timings.append((time.perf_counter() - start) * 1000)
timings.sort()
median = timings[len(timings) // 2]

tracemalloc.start()
render_pdf(report)
_current, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()

pages = len(PdfReader(io.BytesIO(data)).pages)
print(f"render: median {median:.0f} ms (min {timings[0]:.0f}, max {timings[-1]:.0f})")
print(f"pdf: {pages} pages, {len(data) / 1024:.0f} KB; peak Python memory {peak / 2**20:.1f} MB")
if args.out:
    with open(args.out, "wb") as file:
        file.write(data)
    print(f"written to {args.out}")
finish(pdf_ms=median, pages=pages, peak_mb=peak / 2**20)
