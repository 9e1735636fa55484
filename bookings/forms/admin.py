"""Forms of the structure admin's side of bookings. They parse input; the rules are in
bookings.services.admin (and the models' clean())."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from crispy_forms.bootstrap import InlineCheckboxes
from crispy_forms.layout import Column, Field, Fieldset, Layout, Row
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.choices import Weekday
from bookings.models import DateOverride, Motif, OpeningHours
from mediation.forms import CrispyMixin
from mediation.models import Structure
from mediation.phones import (
    FRENCH_CALLING_CODES,
    calling_codes_display,
    calling_codes_read,
    french_calling_codes,
)

# Longest minimum delay offered: a month.
MAX_MIN_DELAY_HOURS = 30 * 24


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class HoursField(forms.DecimalField):
    """Hours typed the French way (1,5) or the browser's way (1.5)."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


class MotifForm(CrispyMixin, forms.ModelForm):
    min_delay_hours = HoursField(
        label=_("Délai minimum avant le rendez-vous (heures)"),
        min_value=Decimal(0),
        max_value=Decimal(MAX_MIN_DELAY_HOURS),
        max_digits=5,
        decimal_places=2,
        initial=2,
        help_text=_("Ex. : 2 pour ne pas être réservé moins de 2 heures à l'avance."),
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
        error_messages={
            "invalid": _("Saisissez un nombre d'heures, par exemple 2 ou 1,5."),
            "max_value": _("Le délai minimum ne peut pas dépasser %(limit_value)s heures."),
            "min_value": _("Le délai minimum ne peut pas être négatif."),
        },
    )

    # Service errors named after the model field are shown at the form field that edits it.
    field_aliases = {"min_delay_minutes": "min_delay_hours"}

    class Meta:
        model = Motif
        fields = [
            "name",
            "duration_minutes",
            "mode",
            "bookable_online",
            "is_collective",
            "capacity",
            "max_delay_days",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "max_per_day",
            "max_per_mediator_per_day",
            "instructions",
        ]
        widgets = {
            "instructions": forms.Textarea(attrs={"rows": 3}),
            "duration_minutes": forms.NumberInput(attrs={"step": "5", "inputmode": "numeric"}),
            "buffer_before_minutes": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "buffer_after_minutes": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "max_per_day": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "max_per_mediator_per_day": forms.NumberInput(attrs={"inputmode": "numeric"}),
        }
        error_messages = {
            "duration_minutes": {
                "min_value": _("Un rendez-vous dure au moins 5 minutes."),
                "max_value": _("Un rendez-vous dure au plus 8 heures (480 minutes)."),
            },
            "max_delay_days": {
                "min_value": _("Au moins 1 jour."),
                "max_value": _("Au plus 365 jours à l'avance."),
            },
            "capacity": {
                "min_value": _("Au moins 1 place."),
                "max_value": _("Au plus 200 places."),
            },
            "buffer_before_minutes": {
                "min_value": _("Le temps libre ne peut pas être négatif."),
                "max_value": _("Au plus 480 minutes."),
            },
            "buffer_after_minutes": {
                "min_value": _("Le temps libre ne peut pas être négatif."),
                "max_value": _("Au plus 480 minutes."),
            },
            "max_per_day": {
                "min_value": _(
                    "Au moins 1 rendez-vous par jour : laissez vide pour ne pas limiter."
                ),
                "max_value": _("Au plus 1000 rendez-vous par jour."),
            },
            "max_per_mediator_per_day": {
                "min_value": _(
                    "Au moins 1 rendez-vous par jour : laissez vide pour ne pas limiter."
                ),
                "max_value": _("Au plus 1000 rendez-vous par jour."),
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            minutes = self.instance.min_delay_minutes
            self.initial["min_delay_hours"] = (
                (Decimal(minutes) / 60).quantize(Decimal("0.01")).normalize()
                if minutes % 60
                else minutes // 60
            )
        self.fields["capacity"].required = False
        for name in ("buffer_before_minutes", "buffer_after_minutes"):
            # Left empty: no time kept free.
            self.fields[name].required = False
        self.helper.layout = Layout(
            "name",
            Row(
                Column("duration_minutes", css_class="col-sm-6"),
                Column("mode", css_class="col-sm-6"),
            ),
            "bookable_online",
            Fieldset(
                _("Individuel ou atelier"),
                "is_collective",
                Field("capacity", wrapper_class="col-sm-6 px-0"),
            ),
            Fieldset(
                _("Quand peut-on réserver ?"),
                Row(
                    Column("min_delay_hours", css_class="col-sm-6"),
                    Column("max_delay_days", css_class="col-sm-6"),
                ),
            ),
            Fieldset(
                _("Temps gardé libre autour de chaque rendez-vous"),
                Row(
                    Column("buffer_before_minutes", css_class="col-sm-6"),
                    Column("buffer_after_minutes", css_class="col-sm-6"),
                ),
            ),
            Fieldset(
                _("Nombre de rendez-vous par jour"),
                Row(
                    Column("max_per_day", css_class="col-sm-6"),
                    Column("max_per_mediator_per_day", css_class="col-sm-6"),
                ),
            ),
            "instructions",
        )

    def clean_buffer_before_minutes(self):
        return self.cleaned_data.get("buffer_before_minutes") or 0

    def clean_buffer_after_minutes(self):
        return self.cleaned_data.get("buffer_after_minutes") or 0

    def clean(self):
        cleaned = super().clean()
        hours = cleaned.get("min_delay_hours")
        if hours is not None:
            # Not a model field of the form: set on the instance before it is validated.
            self.instance.min_delay_minutes = int(round(hours * 60))
        if not cleaned.get("is_collective"):
            cleaned["capacity"] = 1
        elif cleaned.get("capacity") is None and "capacity" not in self.errors:
            self.add_error("capacity", _("Indiquez le nombre de places de l'atelier."))
        return cleaned


class OpeningHoursForm(CrispyMixin, forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Jours"),
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choisissez au moins un jour de la semaine."),
            "invalid_choice": _("Choisissez des jours de la liste."),
        },
    )

    class Meta:
        model = OpeningHours
        fields = [
            "place",
            "mediator",
            "weekdays",
            "start_time",
            "end_time",
            "every_n_weeks",
            "first_day",
            "last_day",
            "motifs",
        ]
        widgets = {
            "start_time": TimeInput(),
            "end_time": TimeInput(),
            "first_day": DateInput(),
            "last_day": DateInput(),
            "motifs": forms.CheckboxSelectMultiple,
        }
        labels = {
            "start_time": _("Heure de début"),
            "end_time": _("Heure de fin"),
            "every_n_weeks": _("Toutes les N semaines"),
        }
        help_texts = {
            "every_n_weeks": _("1 = chaque semaine, 2 = une semaine sur deux…"),
            "last_day": _("Laissez vide si la plage n'a pas de fin prévue."),
            "motifs": _("Les motifs que l'on peut réserver sur cette plage."),
        }
        error_messages = {
            "motifs": {"required": _("Choisissez au moins un motif.")},
            "every_n_weeks": {
                "min_value": _("Au moins 1 (chaque semaine)."),
                "max_value": _("Au plus toutes les 8 semaines."),
            },
        }

    def __init__(self, *args, places, mediators, motifs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["place"].empty_label = None if places.count() == 1 else "---------"
        self.fields["mediator"].queryset = mediators
        self.fields["mediator"].label_from_instance = lambda user: user.get_full_name()
        self.fields["motifs"].queryset = motifs
        if self.instance.pk is None and not self.initial.get("first_day"):
            # The unsaved instance's empty first_day would hide a field initial.
            self.initial["first_day"] = timezone.localdate()
        self.fields["every_n_weeks"].widget.attrs.update(inputmode="numeric")
        self.helper.layout = Layout(
            Row(
                Column("place", css_class="col-md-6"),
                Column("mediator", css_class="col-md-6"),
            ),
            InlineCheckboxes("weekdays"),
            Row(
                Column("start_time", css_class="col-6"),
                Column("end_time", css_class="col-6"),
            ),
            Row(
                Column("first_day", css_class="col-sm-6 col-md-4"),
                Column("last_day", css_class="col-sm-6 col-md-4"),
                Column("every_n_weeks", css_class="col-sm-6 col-md-4"),
            ),
            "motifs",
        )


class DateOverrideForm(CrispyMixin, forms.ModelForm):
    """An exceptional day: open (a mediator, hours, motifs) or closed (a mediator, or the whole
    place when no one is chosen)."""

    OPEN, CLOSED = "ouvert", "ferme"
    kind = forms.ChoiceField(
        label=_("Ce jour-là"),
        choices=[
            (OPEN, _("Ouvert : ouverture exceptionnelle ou autres horaires")),
            (CLOSED, _("Fermé toute la journée")),
        ],
        initial=OPEN,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez ouvert ou fermé.")},
    )

    class Meta:
        model = DateOverride
        fields = ["place", "day", "kind", "mediator", "start_time", "end_time", "motifs", "reason"]
        widgets = {
            "day": DateInput(),
            "start_time": TimeInput(),
            "end_time": TimeInput(),
            "motifs": forms.CheckboxSelectMultiple,
        }
        labels = {
            "day": _("Jour"),
            "start_time": _("Heure de début"),
            "end_time": _("Heure de fin"),
            "reason": _("Raison (facultatif)"),
        }
        help_texts = {
            "mediator": _(
                "Pour une fermeture, laissez « Tout le lieu » pour fermer le lieu à toute "
                "l'équipe ce jour-là."
            ),
            "start_time": _("Remplace les horaires habituels de cette personne ce jour-là."),
            "motifs": _("Les motifs que l'on peut réserver ce jour-là."),
            "reason": _("Ex. : permanence du samedi, forum de l'emploi, pont."),
        }
        error_messages = {
            "day": {"required": _("Indiquez le jour."), "invalid": _("Saisissez une date valide.")},
            "start_time": {"invalid": _("Saisissez une heure valide, par exemple 09:00.")},
            "end_time": {"invalid": _("Saisissez une heure valide, par exemple 12:00.")},
            "place": {"invalid_choice": _("Choisissez un lieu de la liste.")},
            "mediator": {"invalid_choice": _("Choisissez une personne de la liste.")},
            "motifs": {"invalid_choice": _("Choisissez des motifs de la liste.")},
        }

    def __init__(self, *args, places, mediators, motifs, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["kind"] = self.CLOSED if self.instance.is_closed else self.OPEN
        self.fields["place"].queryset = places
        self.fields["place"].empty_label = None if places.count() == 1 else "---------"
        self.fields["mediator"].queryset = mediators
        self.fields["mediator"].empty_label = _("Tout le lieu (fermeture seulement)")
        self.fields["mediator"].label_from_instance = lambda user: user.get_full_name()
        self.fields["motifs"].queryset = motifs
        self.fields["motifs"].required = False
        self.helper.layout = Layout(
            Row(
                Column("place", css_class="col-md-6"),
                Column("day", css_class="col-md-6"),
            ),
            "kind",
            "mediator",
            Row(
                Column("start_time", css_class="col-6"),
                Column("end_time", css_class="col-6"),
            ),
            "motifs",
            "reason",
        )

    def clean(self):
        cleaned = super().clean()
        closed = cleaned.get("kind") == self.CLOSED
        # Not a model field: set on the instance before the model validates it.
        self.instance.is_closed = closed
        if closed:
            cleaned["start_time"] = cleaned["end_time"] = None
            cleaned["motifs"] = []
        return cleaned

    def _post_clean(self):
        if self.cleaned_data.get("kind") == self.CLOSED:
            self.instance.start_time = self.instance.end_time = None
        super()._post_clean()


class RecurringAbsenceForm(CrispyMixin, forms.Form):
    mediator = forms.ModelChoiceField(
        label=_("Médiateur·rice"),
        queryset=None,
        error_messages={"invalid_choice": _("Choisissez une personne de la liste.")},
    )
    weekday = forms.TypedChoiceField(
        label=_("Jour"),
        choices=Weekday.choices,
        coerce=int,
        error_messages={
            "required": _("Choisissez un jour de la semaine."),
            "invalid_choice": _("Choisissez un jour de la liste."),
        },
    )
    start_time = forms.TimeField(
        label=_("De"),
        widget=TimeInput(),
        error_messages={
            "required": _("Indiquez l'heure de début."),
            "invalid": _("Saisissez une heure valide, par exemple 14:00."),
        },
    )
    end_time = forms.TimeField(
        label=_("À"),
        widget=TimeInput(),
        error_messages={
            "required": _("Indiquez l'heure de fin."),
            "invalid": _("Saisissez une heure valide, par exemple 18:00."),
        },
    )
    every_n_weeks = forms.IntegerField(
        label=_("Toutes les N semaines"),
        initial=1,
        min_value=1,
        max_value=8,
        help_text=_("1 = chaque semaine, 2 = une semaine sur deux…"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("Indiquez 1 pour chaque semaine."),
            "invalid": _("Saisissez un nombre de semaines, par exemple 2."),
            "min_value": _("Au moins 1 (chaque semaine)."),
            "max_value": _("Au plus toutes les 8 semaines."),
        },
    )
    first_day = forms.DateField(
        label=_("Du"),
        widget=DateInput(),
        error_messages={
            "required": _("Indiquez le premier jour."),
            "invalid": _("Saisissez une date valide."),
        },
    )
    last_day = forms.DateField(
        label=_("Au"),
        widget=DateInput(),
        help_text=_("Un an au plus."),
        error_messages={
            "required": _("Indiquez le dernier jour."),
            "invalid": _("Saisissez une date valide."),
        },
    )
    reason = forms.CharField(
        label=_("Motif de l'absence"),
        max_length=150,
        required=False,
        help_text=_("Facultatif. Ex. : temps partiel, formation. Pas de détail de santé."),
    )

    def __init__(self, *args, mediators, tz: ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["mediator"]
        field.queryset = mediators
        field.label_from_instance = lambda user: user.get_full_name()
        if len(mediators) == 1:
            field.empty_label = None
        self.fields["start_time"].help_text = _("Heure locale (%(zone)s).") % {"zone": tz.key}
        self.helper.layout = Layout(
            "mediator",
            Row(
                Column("weekday", css_class="col-sm-4"),
                Column("start_time", css_class="col-6 col-sm-4"),
                Column("end_time", css_class="col-6 col-sm-4"),
            ),
            Row(
                Column("first_day", css_class="col-sm-6 col-md-4"),
                Column("last_day", css_class="col-sm-6 col-md-4"),
                Column("every_n_weeks", css_class="col-sm-6 col-md-4"),
            ),
            "reason",
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("L'heure de fin doit être après l'heure de début."))
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("Le dernier jour doit être après le premier."))
        return cleaned


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed in a given time zone (not the request's)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, *, tz: ZoneInfo | None = None, **kwargs):
        self.tz = tz
        super().__init__(**kwargs)

    def to_python(self, value):
        with timezone.override(self.tz or timezone.get_current_timezone()):
            return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, timezone.datetime) and timezone.is_aware(value) and self.tz:
            return timezone.localtime(value, self.tz)
        return value


class AbsenceForm(CrispyMixin, forms.Form):
    mediator = forms.ModelChoiceField(
        label=_("Médiateur·rice"),
        queryset=None,
        error_messages={"invalid_choice": _("Choisissez une personne de la liste.")},
    )
    starts_at = LocalDateTimeField(
        label=_("Début"),
        error_messages={"invalid": _("Saisissez une date et une heure valides.")},
    )
    ends_at = LocalDateTimeField(
        label=_("Fin"),
        error_messages={"invalid": _("Saisissez une date et une heure valides.")},
    )
    reason = forms.CharField(
        label=_("Motif de l'absence"),
        max_length=150,
        required=False,
        help_text=_("Facultatif. Ex. : congés, formation. Pas de détail de santé."),
    )

    def __init__(self, *args, mediators, tz: ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["mediator"]
        field.queryset = mediators
        field.label_from_instance = lambda user: user.get_full_name()
        if len(mediators) == 1:
            field.empty_label = None
        for name in ("starts_at", "ends_at"):
            self.fields[name].tz = tz
            self.fields[name].help_text = _("Heure locale (%(zone)s).") % {"zone": tz.key}
        self.helper.layout = Layout(
            "mediator",
            Row(
                Column("starts_at", css_class="col-sm-6"),
                Column("ends_at", css_class="col-sm-6"),
            ),
            "reason",
        )

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("La fin doit être après le début."))
        return cleaned


class CallingCodesField(forms.CharField):
    """Country calling codes typed as "+33 +262 +590", stored as a list of numbers."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return calling_codes_display(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        # Left empty: the French territories, the default.
        return calling_codes_read(text) if text.strip() else french_calling_codes()


class BookingRulesForm(CrispyMixin, forms.ModelForm):
    """The structure's booking rules, and whether its public page is live."""

    booking_published = forms.TypedChoiceField(
        label=_("Page de réservation en ligne"),
        choices=[
            ("true", _("Publiée : les usagers réservent en ligne")),
            (
                "false",
                _("Brouillon : la page annonce que la réservation en ligne n'est pas ouverte"),
            ),
        ],
        coerce=lambda value: value == "true",
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez si la page de réservation est publiée."),
            "invalid_choice": _("Choisissez « Publiée » ou « Brouillon »."),
        },
    )
    online_phone_codes = CallingCodesField(
        label=_("Indicatifs téléphoniques acceptés en ligne"),
        help_text=_(
            "Les usagers qui prennent rendez-vous ou s'inscrivent en liste d'attente en ligne "
            "ne peuvent donner qu'un numéro de ces pays. Par défaut, la France métropolitaine "
            "et l'outre-mer : %(codes)s (laissez vide pour y revenir). L'accueil, lui, accepte "
            "tous les numéros."
        )
        % {"codes": calling_codes_display(FRENCH_CALLING_CODES)},
        max_length=200,
        required=False,
    )

    class Meta:
        model = Structure
        fields = [
            "booking_published",
            "cancel_cutoff_hours",
            "reminder_hours_before",
            "feed_detail",
            "online_phone_codes",
        ]
        labels = {
            "cancel_cutoff_hours": _("Annulation en ligne possible jusqu'à (heures avant)"),
            "reminder_hours_before": _("Rappel envoyé (heures avant le rendez-vous)"),
        }
        help_texts = {
            "cancel_cutoff_hours": _(
                "Passé ce délai, l'usager doit appeler la structure pour annuler ou déplacer "
                "son rendez-vous. 0 = jusqu'à l'heure du rendez-vous."
            ),
            "reminder_hours_before": _("48 = un rappel deux jours avant."),
            "feed_detail": _(
                "Ce que l'agenda abonné sur le téléphone d'un·e médiateur·rice montre des "
                "usagers. Jamais le numéro de téléphone ni le besoin exprimé."
            ),
        }
        error_messages = {
            "cancel_cutoff_hours": {
                "max_value": _("Au plus 168 heures (une semaine)."),
                "min_value": _("Le délai ne peut pas être négatif."),
            },
            "reminder_hours_before": {
                "min_value": _("Au moins 1 heure avant."),
                "max_value": _("Au plus 168 heures (une semaine)."),
            },
        }
        widgets = {
            "cancel_cutoff_hours": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "reminder_hours_before": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "feed_detail": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["booking_published"] = "true" if self.instance.booking_published else "false"
