"""Forms of the desk agenda and of booking by phone or at the desk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mediation.forms import CrispyMixin
from mediation.phones import phone_read

ALL_MEDIATORS = "tous"


def parse_slot_start(value) -> datetime | None:
    """An aware UTC datetime from a hidden field or a link ("2025-03-04T08:30:00+00:00"), or
    None for anything else (naive, malformed, absurd)."""
    if not isinstance(value, str) or not 16 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        return None
    if timezone.is_naive(parsed) or not 2000 <= parsed.year <= 2100:
        return None
    return parsed.astimezone(UTC)


def format_slot_start(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


class MediatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.email


class AgendaFilterForm(forms.Form):
    """Day, place and mediator of the agenda (all optional: defaults are chosen by the view)."""

    day = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide.")},
    )
    place = forms.ModelChoiceField(
        label=_("Lieu"),
        queryset=None,
        required=False,
        empty_label=_("Tous les lieux"),
        error_messages={"invalid_choice": _("Ce lieu n'existe pas dans cette structure.")},
    )
    mediator = forms.ChoiceField(label=_("Médiateur·rice"), required=False)

    def __init__(self, *args, places, mediators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["mediator"].choices = [(ALL_MEDIATORS, _("Toute l'équipe"))] + [
            (str(m.pk), m.get_full_name() or m.email) for m in mediators
        ]
        self.fields["mediator"].error_messages["invalid_choice"] = _(
            "Choisissez une personne de la liste."
        )

    def clean_day(self):
        day = self.cleaned_data.get("day")
        if day is not None and not 2000 <= day.year <= 2100:
            raise forms.ValidationError(_("Choisissez une date entre 2000 et 2100."))
        return day


class ResidentSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Nom, prénom ou téléphone"),
        max_length=100,
        required=False,
        help_text=_("Ex. : « eric martin », « 06 12 34 56 78 » ou les derniers chiffres."),
    )


class DeskResidentForm(CrispyMixin, forms.Form):
    """A new followed resident, with the minimum: a name, and a phone number for the SMS."""

    submit_label = _("Créer et continuer")

    first_name = forms.CharField(label=_("Prénom"), max_length=100)
    last_name = forms.CharField(label=_("Nom (ou initiales)"), max_length=100)
    phone = forms.CharField(
        label=_("Téléphone mobile"),
        max_length=30,
        required=False,
        help_text=_("Facultatif. Un mobile permet d'envoyer la confirmation et le rappel par SMS."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Facultatif. Pour recevoir la confirmation avec le fichier d'agenda."),
        error_messages={"invalid": _("Saisissez une adresse e-mail valide.")},
    )

    def __init__(self, *args, regions: list[str], residents, **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = regions
        self.residents = residents
        self.existing_resident = None

    def clean_phone(self):
        numbers = phone_read(
            self.cleaned_data["phone"],
            self.regions,
            invalid=_(
                "Ce numéro de téléphone n'est pas valide. "
                "Ex. : 06 12 34 56 78, 0692 12 34 56 ou +262 692 12 34 56."
            ),
        )
        if not numbers:
            return ""
        existing = self.residents.filter(phone__in=numbers).first()
        if existing is not None:
            self.existing_resident = existing
            raise forms.ValidationError(
                _("Ce numéro est déjà celui de %(name)s : choisissez cette personne ci-dessus.")
                % {"name": existing},
                code="duplicate",
            )
        return numbers[0]


class SlotSearchForm(forms.Form):
    """Step 2: where, what for, and optionally with whom."""

    place = forms.ModelChoiceField(
        label=_("Lieu"),
        queryset=None,
        empty_label=None,
        error_messages={"invalid_choice": _("Ce lieu n'existe pas dans cette structure.")},
    )
    motif = forms.ModelChoiceField(
        label=_("Motif"),
        queryset=None,
        empty_label=_("Choisissez un motif"),
        error_messages={
            "required": _("Choisissez un motif."),
            "invalid_choice": _("Ce motif n'est pas proposé par cette structure."),
        },
    )
    mediator = MediatorChoiceField(
        label=_("Avec"),
        queryset=None,
        required=False,
        empty_label=_("Peu importe"),
        error_messages={"invalid_choice": _("Choisissez une personne de la liste.")},
    )
    start = forms.DateField(
        label=_("À partir du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide.")},
    )

    ignore_buffers = forms.BooleanField(
        label=_(
            "Montrer aussi les horaires pris sur le temps libre prévu autour des rendez-vous "
            "ou au-delà du nombre de rendez-vous prévu par jour"
        ),
        required=False,
    )

    def __init__(self, *args, places, motifs, mediators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["motif"].queryset = motifs
        self.fields["mediator"].queryset = mediators

    def clean_start(self):
        start = self.cleaned_data.get("start")
        if start is None:
            return None
        today = timezone.localdate()
        if start < today:
            return today
        if start > today + timedelta(days=366):
            raise forms.ValidationError(_("Choisissez une date dans l'année qui vient."))
        return start


class DeskBookingForm(forms.Form):
    """Step 3: the chosen slot (hidden fields, checked again here and by the service) and the
    need the resident expressed. Rendered field by field (crispy's `as_crispy_field`)."""

    HIDDEN = ("place", "motif", "mediator", "starts_at")

    place = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    motif = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    mediator = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    starts_at = forms.CharField(widget=forms.HiddenInput, max_length=40)
    need = forms.CharField(
        label=_("Besoin exprimé"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "En quelques mots, ce que la personne veut faire (ex. : « renouveler sa carte "
            "d'identité »). Jamais de numéro de sécurité sociale, de mot de passe ni "
            "d'information de santé."
        ),
    )

    override_buffers = forms.BooleanField(
        label=_("Réserver quand même sur ce temps libre"),
        required=False,
    )
    override_limits = forms.BooleanField(
        label=_("Réserver quand même au-delà du nombre prévu"),
        required=False,
    )

    def __init__(self, *args, places, motifs, mediators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["motif"].queryset = motifs
        self.fields["mediator"].queryset = mediators
        invalid = _("Ce créneau n'est plus valable : choisissez un horaire dans la liste.")
        for name in self.HIDDEN:
            self.fields[name].error_messages.update({"required": invalid, "invalid": invalid})
        self.fields["place"].error_messages["invalid_choice"] = _(
            "Ce lieu n'existe pas dans cette structure."
        )
        self.fields["motif"].error_messages["invalid_choice"] = _(
            "Ce motif n'est pas proposé par cette structure."
        )
        self.fields["mediator"].error_messages["invalid_choice"] = _(
            "Cette personne ne tient pas de permanence dans cette structure."
        )

    def clean_starts_at(self):
        value = parse_slot_start(self.cleaned_data["starts_at"])
        if value is None:
            raise forms.ValidationError(
                _("Cet horaire n'est pas valable : choisissez un créneau dans la liste."),
                code="invalid",
            )
        return value

    def full_clean(self):
        super().full_clean()
        self.hoist_hidden_errors()

    def hoist_hidden_errors(self) -> None:
        """Errors of hidden fields (a tampered or stale slot) are shown at the top of the form:
        there is no field on the page to show them next to."""
        if not self._errors:
            return
        for name in self.HIDDEN:
            errors = self._errors.pop(name, None)
            if errors:
                self._errors.setdefault(NON_FIELD_ERRORS, self.error_class(error_class="nonfield"))
                for message in errors:
                    if message not in self._errors[NON_FIELD_ERRORS]:
                        self._errors[NON_FIELD_ERRORS].append(message)


class ReassignForm(forms.Form):
    """The colleague an appointment goes to (the service checks that they are free then)."""

    mediator = MediatorChoiceField(
        label=_("Confier le rendez-vous à"),
        queryset=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez un·e collègue."),
            "invalid_choice": _("Cette personne ne prend pas de rendez-vous dans la structure."),
        },
    )

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediator"].queryset = colleagues


class WaitlistFilterForm(forms.Form):
    """The waiting list page's choice of motif (empty: every motif). A motif's id is not
    personal data: the template sends it by GET, without a crispy helper."""

    motif = forms.ModelChoiceField(
        label=_("Motif"),
        queryset=None,
        required=False,
        empty_label=_("Tous les motifs"),
        error_messages={"invalid_choice": _("Ce motif n'existe pas ou plus : choisissez-en un.")},
    )

    def __init__(self, *args, motifs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["motif"].queryset = motifs
