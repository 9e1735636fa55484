"""Forms of the residents' pages: the search box, the minimum identity, the network-sharing
agreement and the choice of a duplicate to merge."""

from __future__ import annotations

from crispy_forms.layout import Layout
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mediation.choices import AgeBand, Gender, ResidentStatus
from mediation.fields import CommuneField
from mediation.forms import CrispyMixin
from mediation.phones import phone_read

SHARING_LABEL = _("L'usager accepte que les autres structures du réseau voient sa fiche")


class ResidentSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Nom, téléphone ou année de naissance"),
        max_length=100,
        required=False,
        help_text=_("Ex. : « eric martin », « 06 12 34 56 78 », « 1958 » ou « dupont 1958 »."),
        error_messages={"max_length": _("Saisissez 100 caractères au plus.")},
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())


class ResidentForm(CrispyMixin, forms.Form):
    """The minimum identity of a followed resident (DOMAIN.md). Rendered inside the page's own
    <form> so that the duplicates warning can add its "create anyway" button."""

    first_name = forms.CharField(
        label=_("Prénom"),
        max_length=100,
        error_messages={"required": _("Indiquez le prénom de la personne.")},
    )
    last_name = forms.CharField(
        label=_("Nom (ou initiales)"),
        max_length=100,
        error_messages={
            "required": _("Indiquez le nom de la personne, ou au moins ses initiales.")
        },
    )
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=30,
        required=False,
        help_text=_(
            "Facultatif. Un mobile permet d'envoyer les confirmations et rappels par SMS. "
            "Numéro étranger : avec son indicatif (+44…)."
        ),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Facultatif."),
        error_messages={"invalid": _("Saisissez une adresse e-mail valide.")},
    )
    birth_year = forms.IntegerField(
        label=_("Année de naissance"),
        required=False,
        help_text=_("Facultatif. Ex. : 1958."),
        error_messages={"invalid": _("Saisissez une année sur 4 chiffres (ex. : 1958).")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    age_band = forms.ChoiceField(
        label=_("Tranche d'âge"),
        choices=AgeBand.choices,
        initial=AgeBand.NOT_GIVEN,
        required=False,
        help_text=_("Si l'année de naissance n'est pas connue (suffit pour les statistiques)."),
    )
    commune_insee = CommuneField(
        label=_("Commune de résidence"),
        required=False,
        help_text=_("Facultatif. Son nom ou son code postal, puis choisissez dans la liste."),
    )
    gender = forms.ChoiceField(
        label=_("Genre"), choices=Gender.choices, initial=Gender.NOT_GIVEN, required=False
    )
    status = forms.ChoiceField(
        label=_("Situation"),
        choices=ResidentStatus.choices,
        initial=ResidentStatus.NOT_GIVEN,
        required=False,
    )

    def __init__(self, *args, regions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = regions
        self.helper.form_tag = False
        self.helper.inputs = []

    def clean_phone(self):
        numbers = phone_read(
            self.cleaned_data["phone"],
            self.regions,
            invalid=_(
                "Ce numéro de téléphone n'est pas valide. "
                "Ex. : 06 12 34 56 78, 0692 12 34 56 ou +262 692 12 34 56. "
                "Un numéro étranger s'écrit avec son indicatif : +44 7911 123456."
            ),
        )
        return numbers[0] if numbers else ""

    def clean_birth_year(self):
        year = self.cleaned_data["birth_year"]
        this_year = timezone.localdate().year
        if year is not None and not 1900 <= year <= this_year:
            raise forms.ValidationError(
                _("L'année de naissance doit être comprise entre 1900 et %(year)s.")
                % {"year": this_year}
            )
        return year


class ResidentCreateForm(ResidentForm):
    shared_with_network = forms.BooleanField(
        label=SHARING_LABEL,
        required=False,
        help_text=_("Demandez-lui. Sans son accord, seule votre structure voit sa fiche."),
    )
    #: Sent by the "Créer quand même" button of the duplicates warning (not drawn as a field).
    confirm_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout(*(name for name in self.fields if name != "confirm_duplicate"))


class SharingForm(forms.Form):
    shared_with_network = forms.BooleanField(label=SHARING_LABEL, required=False)


class SmsResumeForm(CrispyMixin, forms.Form):
    """Lifting a STOP: the desk confirms the resident asked for SMS again."""

    consent = forms.BooleanField(
        label=_(
            "L'usager m'a demandé de recevoir à nouveau les SMS de la structure (rappels, "
            "confirmations) à ce numéro"
        ),
        required=True,
        error_messages={
            "required": _(
                "Cochez la case : l'usager doit avoir donné son accord pour recevoir à "
                "nouveau des SMS."
            )
        },
    )


class MergeForm(forms.Form):
    """The duplicate to merge into the resident of the page (a hidden field: the page shows the
    two records side by side; a tampered id is a form error, never a crash)."""

    remove = forms.ModelChoiceField(
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choisissez la fiche en double."),
            "invalid_choice": _("Cette fiche n'existe pas ou ne vous est pas accessible."),
        },
    )

    def __init__(self, *args, residents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remove"].queryset = residents
