"""The dashboard's choice of period and scope (a GET form: its URL can be shared)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.periods import Period, PeriodError, is_closed, last_closed_quarter, require_closed

CUSTOM = "dates"


def _state(period: Period, today) -> str:
    if period.start <= today < period.end:
        return " (en cours)"
    if not is_closed(period, today):
        return " (pas encore clos)"
    return ""


def period_choices(today=None, *, closed_only: bool = False) -> list[tuple[str, str]]:
    """Quarters, months and years a coordinator picks from, most recent first; with
    `closed_only` (anonymised reports only), the closed ones."""
    today = today or timezone.localdate()

    def latest(period: Period, count: int) -> list[tuple[str, str]]:
        if closed_only:
            while not is_closed(period, today):
                period = period.previous()
        choices = []
        for _i in range(count):
            choices.append((period.code, period.label + _state(period, today)))
            period = period.previous()
        return choices

    return [
        (_("Trimestres"), latest(Period.of_quarter(today.year, (today.month - 1) // 3 + 1), 8)),
        (_("Mois"), latest(Period.of_month(today.year, today.month), 12)),
        (_("Années"), latest(Period.of_year(today.year), 3)),
    ]


class PeriodChoiceField(forms.ChoiceField):
    """The list offers the usual periods, but any period code is read (a shared URL, a
    period no longer listed): `ReportForm.clean` says what is wrong with it, in words."""

    def validate(self, value):
        forms.Field.validate(self, value)


class ReportForm(forms.Form):
    """`exact`, `place` and custom dates are for the members of a structure looking at their
    own activity, any period, running ones included; anonymised reports (networks, exports)
    take whole, closed periods only."""

    periode = PeriodChoiceField(label=_("Période"), required=False)
    du = forms.DateField(
        label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    au = forms.DateField(
        label=_("Au (inclus)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    lieu = forms.ModelChoiceField(
        label=_("Lieu"),
        queryset=None,
        required=False,
        empty_label=_("Toute la structure"),
    )
    exact = forms.BooleanField(
        label=_("Chiffres exacts (usage interne, non anonymisés)"), required=False
    )

    def __init__(self, data=None, *, places=None, allow_exact: bool):
        super().__init__(data)
        self.allow_exact = allow_exact
        choices = period_choices(closed_only=not allow_exact)
        if allow_exact:
            choices = [*choices, (CUSTOM, _("Autres dates (chiffres exacts)"))]
        self.fields["periode"].choices = choices
        self.fields["periode"].initial = last_closed_quarter().code
        if places is None or not allow_exact:
            for name in ("lieu", "du", "au", "exact"):
                del self.fields[name]
        else:
            self.fields["lieu"].queryset = places
        for name, field in self.fields.items():
            css = (
                "form-check-input"
                if name == "exact"
                else ("form-select" if name in ("periode", "lieu") else "form-control")
            )
            field.widget.attrs["class"] = css

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] += " is-invalid"
                attrs["aria-describedby"] = f"id_{name}-error"
                attrs["aria-invalid"] = "true"

    def clean(self):
        data = super().clean()
        code = data.get("periode") or last_closed_quarter().code
        if self.allow_exact and (data.get("du") or data.get("au")):
            # Dates typed are what the person wants, whatever the list still says.
            code = CUSTOM
        exact = bool(data.get("exact"))
        if code == CUSTOM and not self.allow_exact:
            self.add_error(
                "periode",
                _(
                    "Les bilans anonymisés couvrent des mois, trimestres ou années entiers : "
                    "choisissez une période dans la liste."
                ),
            )
        elif code == CUSTOM:
            first, last = data.get("du"), data.get("au")
            if not first:
                self.add_error("du", _("Indiquez la date de début."))
            if not last:
                self.add_error("au", _("Indiquez la date de fin."))
            if first and last:
                if last < first:
                    self.add_error("au", _("La date de fin doit être après la date de début."))
                elif (last - first).days > 3 * 366:
                    self.add_error("au", _("Choisissez au plus trois ans."))
                else:
                    try:
                        data["period"] = Period.between(first, last)
                    except PeriodError as error:
                        self.add_error("au", str(error))
            exact = True
        else:
            from reports.periods import parse_period

            try:
                data["period"] = parse_period(code)
            except PeriodError as error:
                self.add_error("periode", str(error))
        if data.get("lieu") is not None:
            exact = True
        data["exact"] = exact and self.allow_exact
        if not data["exact"] and data.get("period") is not None:
            # Anonymised reports are published for closed periods only (reports.frozen).
            try:
                require_closed(data["period"])
            except PeriodError as error:
                hint = _(" Les chiffres exacts (usage interne) sont disponibles dès maintenant.")
                self.add_error("periode", str(error) + (str(hint) if self.allow_exact else ""))
        return data
