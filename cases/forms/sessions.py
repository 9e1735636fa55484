"""Forms of the activity log. They parse what was typed; every rule of a session is in
`cases.services.sessions`, whose errors come back at the same field names."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import (
    DURATION_PICKS,
    Autonomy,
    CountDimension,
    Equipment,
    Outcome,
    PlaceType,
    ProcedureArea,
    RedirectedTo,
    Theme,
    WorkshopLevel,
)
from cases.services.sessions import COUNT_CODES, MAX_COUNT, AnonymousProfile, NewPerson
from mediation.choices import AgeBand, Gender, ResidentStatus
from mediation.fields import CommuneField
from mediation.forms import CrispyMixin
from mediation.phones import phone_read
from mediation.views.staff import add_service_errors

#: The themes most sessions have, first in the list (in this order): the common case is one
#: tick away. The others follow in the order of DOMAIN.md.
COMMON_THEMES = [
    Theme.DEMARCHES_ADMINISTRATIVES,
    Theme.NAVIGATION_INTERNET,
    Theme.EMAIL,
    Theme.PRISE_EN_MAIN_MATERIEL,
    Theme.SECURITE_NUMERIQUE,
    Theme.BANQUE_ACHATS_EN_LIGNE,
    Theme.SANTE,
    Theme.BUREAUTIQUE,
]
THEME_CHOICES = [(t.value, t.label) for t in COMMON_THEMES] + [
    (t.value, t.label) for t in Theme if t not in COMMON_THEMES
]
DEFAULT_DURATION = 30
MAX_NOTES = 5000


def duration_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" + (f" {rest:02d}" if rest else "")


class Checkboxes(forms.CheckboxSelectMultiple):
    """Checkboxes whose first box may take the focus when the page opens."""

    def __init__(self, *args, autofocus_first: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.autofocus_first = autofocus_first

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if self.autofocus_first and index == 0:
            option["attrs"]["autofocus"] = True
        return option


class CountsWidget(forms.MultiWidget):
    """One number box per code of a count dimension, each with its own label."""

    template_name = "cases/sessions/widgets/counts.html"

    def __init__(self, choices, attrs=None):
        self.codes = [code for code, _label in choices]
        self.labels = [label for _code, label in choices]
        widgets = [
            forms.NumberInput(attrs={"min": 0, "max": MAX_COUNT, "inputmode": "numeric"})
            for _choice in choices
        ]
        super().__init__(widgets, attrs)

    def decompress(self, value):
        value = value or {}
        return [value.get(code) for code in self.codes]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for subwidget, label in zip(context["widget"]["subwidgets"], self.labels, strict=True):
            subwidget["label"] = label
        return context


class CountsField(forms.MultiValueField):
    """Anonymous participants of one dimension: {code: number}, zeros left out."""

    def __init__(self, choices, **kwargs):
        self.codes = [code for code, _label in choices]
        fields = [
            forms.IntegerField(
                min_value=0,
                max_value=MAX_COUNT,
                required=False,
                error_messages={
                    "invalid": _("Saisissez un nombre entier."),
                    "min_value": _("Un nombre ne peut pas être négatif."),
                    "max_value": _("500 participants au plus."),
                },
            )
            for _choice in choices
        ]
        super().__init__(
            fields, require_all_fields=False, required=False, widget=CountsWidget(choices), **kwargs
        )

    def compress(self, data_list):
        return {code: n for code, n in zip(self.codes, data_list or [], strict=False) if n}


class SessionForm(CrispyMixin, forms.Form):
    """What every session has. `IndividualSessionForm` and `WorkshopForm` add their part."""

    themes = forms.MultipleChoiceField(
        label=_("Thèmes"),
        choices=THEME_CHOICES,
        widget=Checkboxes,
        required=False,
        error_messages={"invalid_choice": _("Un des thèmes cochés n'existe pas.")},
    )
    procedures = forms.MultipleChoiceField(
        label=_("Démarches administratives : domaines"),
        choices=ProcedureArea.choices,
        widget=Checkboxes,
        required=False,
        help_text=_("Avec le thème « Démarches administratives » seulement."),
        error_messages={"invalid_choice": _("Une des démarches cochées n'existe pas.")},
    )
    procedure_detail = forms.CharField(
        label=_("Précision sur la démarche"),
        max_length=200,
        required=False,
        help_text=_("Ex. : Demande de RSA, renouvellement de passeport."),
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Durée"),
        choices=[(m, duration_label(m)) for m in DURATION_PICKS],
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": _("Choisissez une des durées proposées.")},
    )
    duration_custom = forms.IntegerField(
        label=_("Autre durée (en minutes)"),
        required=False,
        help_text=_("Remplace le choix ci-dessus quand elle est remplie."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 480}),
        error_messages={"invalid": _("Saisissez un nombre entier de minutes.")},
    )
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Indiquez la date."),
            "invalid": _("Saisissez une date valide."),
        },
    )
    place_type = forms.ChoiceField(
        label=_("Où"),
        # "Lieu d'activité" is the label of the list of places: the option says where.
        choices=[
            (PlaceType.PLACE, _("Dans un lieu d'activité")),
            *[(value, label) for value, label in PlaceType.choices if value != PlaceType.PLACE],
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez où l'accompagnement a eu lieu.")},
    )
    place = forms.ModelChoiceField(
        label=_("Lieu d'activité"),
        queryset=None,
        # Required (and marked so) unless another answer to "Où" is chosen: see __init__.
        required=True,
        help_text=_("Obligatoire pour un accompagnement dans un lieu d'activité."),
        error_messages={
            "required": _("Choisissez le lieu d'activité."),
            "invalid_choice": _("Ce lieu n'existe pas dans cette structure."),
        },
    )
    other_commune_insee = CommuneField(
        label=_("Commune de l'autre lieu"),
        required=False,
        help_text=_("Seulement pour « Autre lieu ». Son nom ou son code postal."),
    )
    equipment = forms.MultipleChoiceField(
        label=_("Matériel utilisé"),
        choices=Equipment.choices,
        widget=Checkboxes,
        required=False,
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=MAX_NOTES,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Jamais de numéro de sécurité sociale, de mot de passe, de coordonnées bancaires ni "
            "d'information de santé."
        ),
    )
    mediator = forms.ModelChoiceField(
        label=_("Médiateur·rice"),
        queryset=None,
        empty_label=None,
        error_messages={"invalid_choice": _("Choisissez une personne de l'équipe.")},
    )

    #: Fields passed to the services as they are.
    service_fields = (
        "themes",
        "procedures",
        "procedure_detail",
        "date",
        "place_type",
        "place",
        "other_commune_insee",
        "equipment",
        "notes",
        "mediator",
    )

    def __init__(self, *args, places, mediators, autofocus_themes: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        if self.is_bound and self.data.get(self.add_prefix("place_type")) != PlaceType.PLACE:
            self.fields["place"].required = False
        self.fields["mediator"].queryset = mediators
        self.fields["mediator"].label_from_instance = lambda u: u.get_full_name() or u.email
        self.fields["themes"].widget.autofocus_first = autofocus_themes and not self.is_bound

    def clean(self):
        data = super().clean()
        custom = data.get("duration_custom")
        if custom is not None:
            data["duration_minutes"] = custom
        elif data.get("duration_minutes") in (None, "") and not (
            {"duration_minutes", "duration_custom"} & set(self.errors)
        ):
            self.add_error("duration_minutes", _("Choisissez une durée."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {name: data.get(name) for name in self.service_fields}
        kwargs["duration_minutes"] = data.get("duration_minutes")
        return kwargs

    def add_service_errors(self, error: ValidationError) -> None:
        """The service's errors at their fields (a duration typed by hand: at that box)."""
        if (
            hasattr(error, "error_dict")
            and "duration_minutes" in error.error_dict
            and self.cleaned_data.get("duration_custom") is not None
        ):
            error.error_dict["duration_custom"] = error.error_dict.pop("duration_minutes")
        add_service_errors(self, error)


class IndividualSessionForm(SessionForm):
    autonomy = forms.ChoiceField(
        label=_("Autonomie à la fin"),
        choices=[("", _("Non précisée"))] + list(Autonomy.choices),
        widget=forms.RadioSelect,
        required=False,
    )
    outcome = forms.ChoiceField(
        label=_("Résultat"),
        choices=[("", _("Non précisé"))] + list(Outcome.choices),
        widget=forms.RadioSelect,
        required=False,
    )
    redirected_to = forms.ChoiceField(
        label=_("Orienté vers"),
        choices=[("", "—")] + list(RedirectedTo.choices),
        required=False,
        help_text=_("Seulement avec le résultat « Orienté »."),
    )
    done_on_behalf = forms.BooleanField(
        label=_("Réalisé à la place de l'usager"),
        required=False,
        help_text=_(
            "Agir en ligne au nom d'une personne demande son mandat (Aidants Connect). "
            "Ne notez jamais ses identifiants ni ses mots de passe."
        ),
    )
    case = forms.ModelChoiceField(
        label=_("Dossier suivi"),
        queryset=None,
        required=False,
        empty_label=_("Aucun dossier"),
        error_messages={"invalid_choice": _("Ce dossier n'est pas un dossier ouvert de l'usager.")},
    )
    # Anonymous walk-in: all that is kept of the person.
    age_band = forms.ChoiceField(
        label=_("Tranche d'âge"), choices=AgeBand.choices, initial=AgeBand.NOT_GIVEN
    )
    status = forms.ChoiceField(
        label=_("Situation"), choices=ResidentStatus.choices, initial=ResidentStatus.NOT_GIVEN
    )
    gender = forms.ChoiceField(label=_("Genre"), choices=Gender.choices, initial=Gender.NOT_GIVEN)
    commune_insee = CommuneField(
        label=_("Commune de résidence"),
        required=False,
        help_text=_("Son nom ou son code postal."),
    )

    service_fields = SessionForm.service_fields + (
        "autonomy",
        "outcome",
        "redirected_to",
        "done_on_behalf",
        "case",
    )
    anonymous_fields = ("age_band", "status", "gender", "commune_insee")

    def __init__(self, *args, anonymous: bool = False, cases=None, **kwargs):
        super().__init__(*args, autofocus_themes=not anonymous, **kwargs)
        self.anonymous = anonymous
        if not anonymous:
            for name in self.anonymous_fields:
                del self.fields[name]
        else:
            self.fields["age_band"].widget.attrs["autofocus"] = True
        if cases is None:
            del self.fields["case"]
        else:
            self.fields["case"].queryset = cases

    def service_kwargs(self) -> dict:
        kwargs = super().service_kwargs()
        kwargs.setdefault("case", None)
        if self.anonymous:
            kwargs["anonymous"] = AnonymousProfile(
                **{name: self.cleaned_data[name] for name in self.anonymous_fields}
            )
        return kwargs


class WorkshopForm(SessionForm):
    title = forms.CharField(
        label=_("Titre de l'atelier"),
        max_length=150,
        required=False,
        help_text=_("Ex. : Prendre en main son smartphone"),
    )
    level = forms.ChoiceField(
        label=_("Niveau"),
        choices=[("", _("Non précisé"))] + list(WorkshopLevel.choices),
        required=False,
    )
    q = forms.CharField(
        label=_("Chercher un participant par son nom"), max_length=100, required=False
    )
    participants = forms.ModelMultipleChoiceField(
        label=_("Participants nommés"),
        queryset=None,
        required=False,
        widget=Checkboxes,
        error_messages={"invalid_choice": _("Un des participants n'existe pas dans vos fiches.")},
    )
    counts_age_band = CountsField(AgeBand.choices, label=_("Par tranche d'âge"))
    counts_status = CountsField(ResidentStatus.choices, label=_("Par situation"))
    counts_gender = CountsField(Gender.choices, label=_("Par genre"))

    service_fields = SessionForm.service_fields + ("title", "level", "participants")

    def __init__(self, *args, residents, shown_residents=(), **kwargs):
        """`residents`: those who may be picked (validation); `shown_residents`: the boxes shown
        (the ones ticked and the search results, never the whole file)."""
        super().__init__(*args, autofocus_themes=False, **kwargs)
        self.fields["title"].widget.attrs["autofocus"] = not self.is_bound
        self.fields["participants"].queryset = residents
        self.fields["participants"].widget.choices = [(r.pk, str(r)) for r in shown_residents]

    def service_kwargs(self) -> dict:
        kwargs = super().service_kwargs()
        kwargs["participants"] = list(self.cleaned_data.get("participants") or [])
        kwargs["counts"] = {
            dimension: self.cleaned_data.get(f"counts_{dimension}") or {}
            for dimension in COUNT_CODES
        }
        return kwargs


COUNT_DIMENSION_FIELDS = [f"counts_{d}" for d in CountDimension.values]


class SessionFilterForm(forms.Form):
    """Filters of the structure's session list (all optional)."""

    mediator = forms.ModelChoiceField(
        label=_("Médiateur·rice"), queryset=None, required=False, empty_label=_("Toute l'équipe")
    )
    start = forms.DateField(
        label=_("Du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide.")},
    )
    end = forms.DateField(
        label=_("Au"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide.")},
    )

    def __init__(self, *args, mediators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediator"].queryset = mediators
        self.fields["mediator"].label_from_instance = lambda u: u.get_full_name() or u.email
        self.fields["mediator"].error_messages["invalid_choice"] = _(
            "Choisissez une personne de la liste."
        )

    def clean(self):
        data = super().clean()
        for name in ("start", "end"):
            day = data.get(name)
            if day is not None and not 2000 <= day.year <= 2100:
                self.add_error(name, _("Choisissez une date entre 2000 et 2100."))
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("La date de fin est avant la date de début."))
        return data


class ResidentPickForm(forms.Form):
    q = forms.CharField(label=_("Nom ou prénom de l'usager"), max_length=100, required=False)


# --- The one-page form of the desk (a walk-in: known, new or anonymous) --------------------

WHO_KNOWN, WHO_NEW, WHO_ANONYMOUS = "known", "new", "anonymous"


class DeskSessionForm(IndividualSessionForm):
    """A session and who it was for, on one page: a known resident (found with the one
    resident search), a new person (created with the session) or an anonymous profile.

    `residents`: those who may be picked (validation); `shown_residents`: the choices drawn (the
    search's results and the one picked, never the whole file); `duplicates`: the records the
    duplicate guard found, offered as "Est-ce la même personne ?"."""

    who = forms.ChoiceField(
        label=_("Qui est accompagné ?"),
        choices=[
            (WHO_KNOWN, _("Une personne déjà connue")),
            (WHO_NEW, _("Nouvelle personne")),
            (WHO_ANONYMOUS, _("Anonyme")),
        ],
        widget=forms.RadioSelect,
        initial=WHO_KNOWN,
        error_messages={"required": _("Dites qui est accompagné.")},
    )
    q = forms.CharField(
        label=_("Nom, téléphone ou année de naissance"),
        max_length=100,
        required=False,
        help_text=_("Ex. : « martin », « 56 78 » (fin du numéro), « 1958 »."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    resident = forms.ModelChoiceField(
        label=_("Personne accompagnée"),
        queryset=None,
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": _("Cet usager n'existe pas dans vos fiches.")},
    )
    new_first_name = forms.CharField(label=_("Prénom"), max_length=100, required=False)
    new_last_name = forms.CharField(label=_("Nom (ou initiales)"), max_length=100, required=False)
    new_phone = forms.CharField(
        label=_("Téléphone (facultatif)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    new_birth_year = forms.IntegerField(
        label=_("Année de naissance (facultatif)"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": _("Saisissez une année sur 4 chiffres (ex. : 1958).")},
    )
    # The same declaration as the anonymous profile's commune (IndividualSessionForm).
    new_commune_insee = CommuneField(
        label=_("Commune de résidence"),
        required=False,
        help_text=_("Facultatif. Son nom ou son code postal."),
    )
    same_person = forms.CharField(required=False)

    identity_fields = (
        "new_first_name",
        "new_last_name",
        "new_phone",
        "new_birth_year",
        "new_commune_insee",
    )

    def __init__(
        self,
        *args,
        residents,
        shown_residents=(),
        duplicates=(),
        regions=("FR",),
        theme_order=(),
        **kwargs,
    ):
        super().__init__(*args, anonymous=True, **kwargs)
        self.regions = list(regions)
        self.duplicates = list(duplicates)
        self.fields["resident"].queryset = residents
        self.fields["resident"].widget.choices = [(r.pk, r) for r in shown_residents]
        self.fields["age_band"].widget.attrs.pop("autofocus", None)
        for name in ("age_band", "status", "gender"):
            # Only the anonymous part needs them; left out, they read "Non communiqué".
            self.fields[name].required = False
        self.fields["themes"].widget.autofocus_first = False
        if theme_order:
            rank = {code: i for i, code in enumerate(theme_order)}
            self.fields["themes"].choices = sorted(
                THEME_CHOICES, key=lambda choice: rank.get(choice[0], len(rank))
            )

    @property
    def chosen(self) -> str:
        """Which part of "who" the page shows: what was posted, else the initial choice."""
        value = self.data.get(self.add_prefix("who")) if self.is_bound else None
        if value not in (WHO_KNOWN, WHO_NEW, WHO_ANONYMOUS):
            value = self.initial.get("who") or WHO_KNOWN
        return value

    def clean_new_phone(self):
        numbers = phone_read(
            self.cleaned_data.get("new_phone") or "",
            self.regions,
            invalid=_(
                "Ce numéro de téléphone n'est pas valide. Ex. : 06 12 34 56 78 ou +262 692 12 "
                "34 56."
            ),
        )
        return numbers[0] if numbers else ""

    def clean_new_birth_year(self):
        year = self.cleaned_data.get("new_birth_year")
        this_year = timezone.localdate().year
        if year is not None and not 1900 <= year <= this_year:
            raise ValidationError(
                _("L'année de naissance doit être comprise entre 1900 et %(year)s.")
                % {"year": this_year}
            )
        return year

    def clean(self):
        data = super().clean()
        who = data.get("who")
        self.anonymous = who == WHO_ANONYMOUS
        for name in ("age_band", "status", "gender"):
            data[name] = data.get(name) or "not_given"
        if who == WHO_KNOWN and not data.get("resident") and "resident" not in self.errors:
            self.add_error(
                "resident" if self.fields["resident"].widget.choices else "q",
                _("Choisissez la personne dans la liste, ou « Nouvelle personne »."),
            )
        if who == WHO_NEW:
            if not (data.get("new_first_name") or "").strip():
                self.add_error("new_first_name", _("Indiquez le prénom de la personne."))
            if not (data.get("new_last_name") or "").strip():
                self.add_error(
                    "new_last_name", _("Indiquez le nom de la personne, ou au moins ses initiales.")
                )
        same = data.get("same_person") or ""
        if same and same != "new" and not any(str(r.pk) == same for r in self.duplicates):
            self.add_error("new_last_name", _("Choisissez une des fiches proposées."))
        return data

    def chosen_duplicate(self):
        """The record chosen in answer to "Est-ce la même personne ?", "new", or None."""
        same = self.cleaned_data.get("same_person") or ""
        if same == "new":
            return "new"
        return next((r for r in self.duplicates if str(r.pk) == same), None)

    def person(self):
        data = self.cleaned_data
        return NewPerson(
            first_name=data["new_first_name"].strip(),
            last_name=data["new_last_name"].strip(),
            phone=data.get("new_phone") or "",
            birth_year=data.get("new_birth_year"),
            commune_insee=data.get("new_commune_insee") or "",
        )

    def service_kwargs(self) -> dict:
        kwargs = super().service_kwargs()
        if self.cleaned_data.get("who") == WHO_KNOWN:
            kwargs["resident"] = self.cleaned_data["resident"]
        return kwargs

    def add_service_errors(self, error: ValidationError) -> None:
        # "Choose the resident" is the "who" part's question on this page.
        if hasattr(error, "error_dict") and "resident" in error.error_dict:
            error.error_dict.setdefault("who", []).extend(error.error_dict.pop("resident"))
        super().add_service_errors(error)
