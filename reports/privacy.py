"""The personal data of reports, declared to the core's registry (`mediation/privacy.py`): none
about residents. Imported by `ReportsConfig.ready()`."""

from mediation.privacy import K, N, register_personal_data
from reports.models import PublishedReport, ReportArchive

# Archived reports are anonymised aggregates (the archive never holds exact staff views);
# who archived one is a staff account.
register_personal_data(
    ReportArchive,
    fields={
        "id": N,
        "structure": N,
        "network": N,
        "period": N,
        "format": N,
        "content": N,
        "filename": N,
        "sha256": N,
        "parameters": N,
        "created_at": N,
        "created_by": K,
    },
)
# The anonymised report of a closed period, as first published (aggregates only).
register_personal_data(
    PublishedReport,
    fields={
        "id": N,
        "structure": N,
        "network": N,
        "period": N,
        "report": N,
        "created_at": N,
    },
)
