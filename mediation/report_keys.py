"""The permanent random key of every record that reports count (residents, sessions,
appointments): the "record key" of cell-key perturbation (docs/anonymisation.md).

A published count is its exact value plus a small perturbation looked up from the sum of the
keys of the records it counts, so the same records always publish the same value, in every
report, period, scope and format. Keys are drawn once, at random, never shown, never changed
(not even when a resident is anonymised: their sessions keep counting the same way), and kept
out of the history tables. They say nothing about a person."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

#: Keys are drawn in [0, KEY_SPACE); a cell key is the sum of its records' keys modulo it.
KEY_SPACE = 2**31


def new_report_key() -> int:
    return secrets.randbelow(KEY_SPACE)


def report_key_field() -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        _("clé de bilan"),
        default=new_report_key,
        editable=False,
        help_text=_("Nombre aléatoire servant à anonymiser les bilans ; sans signification."),
    )


def randomise_report_keys(model, batch_size: int = 2000) -> None:
    """Give every existing row of `model` its own key (a migration's AddField gives them all
    the same default)."""
    pks = list(model.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), batch_size):
        rows = [model(pk=pk, report_key=new_report_key()) for pk in pks[start : start + batch_size]]
        model.objects.bulk_update(rows, ["report_key"])
