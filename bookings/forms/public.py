from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber

from mediation.phones import (
    FRENCH_CALLING_CODES,
    is_mobile,
    online_phone_refusal,
    phone_accepted_online,
    phone_read,
)

INVALID_PHONE = _(
    "Ce numéro de téléphone n'est pas valide. Ex. : 06 12 34 56 78 ou +262 692 12 34 56"
)


class PhoneField(forms.CharField):
    """A phone number read in the desk's regions first (overseas numbers typed the local way),
    cleaned to a PhoneNumber in E.164, of a country the structure accepts online
    (`Structure.online_phone_codes`: French territories by default)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})
        )
        super().__init__(*args, **kwargs)
        self.regions = ["FR"]
        self.codes = list(FRENCH_CALLING_CODES)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return text
        phone = PhoneNumber.from_string(phone_read(text, self.regions, invalid=INVALID_PHONE)[0])
        if not phone_accepted_online(phone, self.codes):
            raise forms.ValidationError(online_phone_refusal(self.codes), code="country")
        return phone


class RegionalPhoneForm(forms.Form):
    def __init__(self, *args, regions: list[str] | None = None, phone_codes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].regions = regions or ["FR"]
        self.fields["phone"].codes = list(phone_codes or FRENCH_CALLING_CODES)


class PublicDetailsForm(RegionalPhoneForm):
    first_name = forms.CharField(
        label=_("Prénom"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Nom"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = PhoneField(
        label=_("Téléphone mobile"),
        help_text=_("Pour recevoir la confirmation et le rappel par SMS. Ex. : 06 12 34 56 78"),
    )
    email = forms.EmailField(
        label=_("Adresse e-mail (facultatif)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    need = forms.CharField(
        label=_("Pour quoi avez-vous besoin d'aide ?"),
        max_length=300,
        required=False,
        help_text=_(
            "Ex. : renouveler ma carte d'identité, déclarer mes revenus. "
            "N'indiquez ni mot de passe, ni numéro de sécurité sociale, "
            "ni information sur votre santé."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Honeypot: hidden from people (and from assistive technologies), filled by bots.
    website = forms.CharField(
        required=False,
        label=_("Ne pas remplir ce champ"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_first_name(self):
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self):
        return self.cleaned_data["last_name"].strip()

    def clean(self):
        data = super().clean()
        phone = data.get("phone")
        if phone and not is_mobile(phone) and not data.get("email"):
            self.add_error(
                "phone",
                _(
                    "Ce numéro n'est pas un mobile : nous ne pourrons pas "
                    "vous envoyer de SMS. Indiquez un mobile, ou une adresse "
                    "e-mail ci-dessous."
                ),
            )
        return data


class WaitlistForm(RegionalPhoneForm):
    first_name = forms.CharField(label=_("Prénom"), max_length=100)
    phone = PhoneField(
        label=_("Téléphone mobile"),
        help_text=_("Nous vous enverrons un SMS si un créneau se libère."),
    )
    website = forms.CharField(
        required=False,
        label=_("Ne pas remplir ce champ"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        if not is_mobile(phone):
            raise forms.ValidationError(_("Indiquez un numéro de mobile pour recevoir un SMS."))
        return phone
