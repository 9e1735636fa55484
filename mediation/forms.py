import re
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout, Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import Role
from mediation.communes import commune_get
from mediation.fields import CommuneField
from mediation.models import Membership, Place, Structure


class LoginForm(AuthenticationForm):
    """The staff login. The address is authenticated as stored (trimmed, lowercase), the
    spelling django-axes counts failures under is the same account (mediation.ratelimit
    .login_username)."""

    def clean_username(self):
        return (self.cleaned_data.get("username") or "").strip().lower()


class CrispyMixin:
    submit_label = _("Enregistrer")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # Our French messages at the field, not the browser's own bubbles.
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("submit", self.submit_label))


def _https_urls(field, **kwargs):
    """Form fields of a model form, a web address typed without its scheme read as https."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class PlaceForm(CrispyMixin, forms.ModelForm):
    """The place, and what the national places schema publishes of it (second fieldset)."""

    #: Decimal degrees as people paste them: "47.9560123" or "47,956" (rounded to 6 places,
    #: about 10 cm); the range is checked by the model, with its message.
    latitude = forms.DecimalField(
        label=_("Latitude"),
        required=False,
        localize=True,
        help_text=Place._meta.get_field("latitude").help_text,
    )
    longitude = forms.DecimalField(
        label=_("Longitude"),
        required=False,
        localize=True,
        help_text=Place._meta.get_field("longitude").help_text,
    )
    #: The commune by name or postcode; stored as its INSEE code, its name copied to `commune`.
    insee_code = CommuneField(
        label=_("Commune"),
        help_text=_("Tapez son nom ou son code postal, puis choisissez-la dans la liste."),
        error_messages={"required": _("Indiquez la commune du lieu.")},
    )

    class Meta:
        model = Place
        formfield_callback = _https_urls
        fields = [
            "name",
            "address",
            "address_complement",
            "insee_code",
            "postcode",
            "latitude",
            "longitude",
            "time_zone",
            "phone",
            "emails",
            "website",
            "accessibility",
            "acceslibre_url",
            "is_qpv",
            "is_rural",
            "is_roaming",
            "is_active",
            "summary",
            "description",
            "services",
            "support_modes",
            "access_terms",
            "fees",
            "publics",
            "specific_support",
            "national_programmes",
            "is_published",
        ]
        widgets = {
            "accessibility": forms.Textarea(attrs={"rows": 3}),
            "summary": forms.Textarea(attrs={"rows": 2, "maxlength": 280}),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        postcode = self.fields["postcode"]
        postcode.required = False
        postcode.help_text = _("Rempli d'après la commune quand elle n'en a qu'un.")
        fields = list(self._meta.fields)
        national = fields[fields.index("summary") :]
        self.helper.layout = Layout(
            Fieldset(_("Le lieu"), *[name for name in fields if name not in national]),
            Fieldset(
                _("Cartographie nationale des lieux de médiation numérique"),
                HTML(
                    '<p class="text-muted small">'
                    + str(
                        _(
                            "Ces informations suivent le schéma national des lieux de médiation "
                            "numérique. Publié, le lieu figure dans les fichiers ouverts de "
                            "Permanence (adresse /donnees/), que la cartographie nationale "
                            "peut reprendre ; ses horaires viennent des plages d'ouverture."
                        )
                    )
                    + "</p>"
                ),
                *national,
            ),
        )

    def clean(self):
        data = super().clean()
        commune = commune_get(data.get("insee_code"))
        if commune is not None:
            self.instance.commune = commune.name
        if "postcode" in data and not data["postcode"]:
            # A commune with one postcode: the postcode left empty is that one.
            if commune is not None and len(commune.postcodes) == 1:
                data["postcode"] = commune.postcodes[0]
            elif commune is not None and commune.postcodes:
                self.add_error(
                    "postcode",
                    _("Indiquez le code postal : %(name)s en a plusieurs (%(codes)s).")
                    % {"name": commune.name, "codes": ", ".join(commune.postcodes[:8])},
                )
            else:
                self.add_error("postcode", _("Indiquez le code postal."))
        return data

    def _coordinate(self, name: str):
        value = self.cleaned_data.get(name)
        return None if value is None else value.quantize(Decimal("0.000001"))

    def clean_latitude(self):
        return self._coordinate("latitude")

    def clean_longitude(self):
        return self._coordinate("longitude")


class StructureForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Structure
        fields = [
            "name",
            "kind",
            "siret",
            "rna",
            "ridet",
            "email",
            "phone",
            "mediators_need_two_factor",
        ]

    def clean_rna(self):
        return (self.cleaned_data.get("rna") or "").strip().upper()

    def clean_ridet(self):
        # "1234567.001", "1 234 567 001": the register's own ways of writing it.
        return re.sub(r"[\s.]", "", self.cleaned_data.get("ridet") or "")


class InvitationForm(CrispyMixin, forms.Form):
    submit_label = _("Envoyer l'invitation")

    email = forms.EmailField(label=_("Adresse e-mail"))
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices, initial=Role.MEDIATOR)


class MembershipRoleForm(CrispyMixin, forms.ModelForm):
    submit_label = _("Changer le rôle")

    class Meta:
        model = Membership
        fields = ["role"]
