"""The dashboard's choice of period and scope (a GET form: its URL can be shared)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.periods import Period, PeriodError, last_full_quarter

CUSTOM = "dates"


def period_choices(today=None) -> list[tuple[str, str]]:
    """Quarters, months and years a coordinator picks from, most recent first."""
    today = today or timezone.localdate()
    quarters, months, years = [], [], []
    quarter = Period.of_quarter(today.year, (today.month - 1) // 3 + 1)
    for _i in range(8):
        label = quarter.label + (" (en cours)" if quarter.start <= today < quarter.end else "")
        quarters.append((quarter.code, label))
        quarter = quarter.previous()
    month = Period.of_month(today.year, today.month)
    for _i in range(12):
        current = " (en cours)" if month.start <= today < month.end else ""
        months.append((month.code, month.label + current))
        month = month.previous()
    for year in range(today.year, today.year - 3, -1):
        current = " (en cours)" if year == today.year else ""
        years.append((str(year), Period.of_year(year).label + current))
    return [
        (_("Trimestres"), quarters),
        (_("Mois"), months),
        (_("Années"), years),
    ]


class ReportForm(forms.Form):
    """`exact`, `place` and custom dates are for the members of a structure looking at their
    own activity; anonymised reports (networks, exports) take whole periods only."""

    periode = forms.ChoiceField(label=_("Période"), required=False)
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
        choices = period_choices()
        if allow_exact:
            choices = [*choices, (CUSTOM, _("Autres dates (chiffres exacts)"))]
        self.fields["periode"].choices = choices
        self.fields["periode"].initial = last_full_quarter().code
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
        code = data.get("periode") or last_full_quarter().code
        if self.allow_exact and (data.get("du") or data.get("au")):
            # Dates typed are what the person wants, whatever the list still says.
            code = CUSTOM
        exact = bool(data.get("exact"))
        if code == CUSTOM:
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
        return data
