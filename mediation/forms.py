from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from mediation.choices import Role
from mediation.models import Membership, Place, Structure


class CrispyMixin:
    submit_label = _("Enregistrer")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # Our French messages at the field, not the browser's own bubbles.
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("submit", self.submit_label))


class PlaceForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Place
        fields = [
            "name",
            "address",
            "postcode",
            "commune",
            "insee_code",
            "time_zone",
            "phone",
            "accessibility",
            "is_qpv",
            "is_rural",
            "is_active",
        ]
        widgets = {"accessibility": forms.Textarea(attrs={"rows": 3})}


class StructureForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Structure
        fields = ["name", "kind", "siret", "email", "phone", "mediators_need_two_factor"]


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
