from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import ApiClient
from mediation.forms import CrispyMixin
from mediation.models import Structure


class _NamedSubmit(CrispyMixin):
    """Two forms on one page: each submit button says which one was sent."""

    submit_name = "submit"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.inputs = [Submit(self.submit_name, self.submit_label)]


class ApiClientForm(_NamedSubmit, forms.ModelForm):
    submit_name = "create"
    submit_label = _("Créer le client et afficher son secret")

    class Meta:
        model = ApiClient
        fields = ["name"]


class PrecisionsSharingForm(_NamedSubmit, forms.ModelForm):
    submit_name = "share"
    submit_label = _("Enregistrer ce choix")

    class Meta:
        model = Structure
        fields = ["api_shares_precisions"]
