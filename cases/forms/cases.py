"""Forms of the case pages: open, change status, attach a session, edit, and the filters of
"Mes suivis". They parse input; the rules are in cases.services.cases."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.choices import CLOSED_CASE_STATUSES, CaseStatus, ProcedureArea
from cases.selectors.cases import session_label, user_name
from mediation.forms import CrispyMixin

ME = "moi"
EVERYONE = "tous"
TO_DO = "a-traiter"
ALL_OPEN = "ouverts"

SENSITIVE_HINT = _(
    "Jamais de numéro de sécurité sociale, de mot de passe, de coordonnées bancaires ni "
    "d'information de santé."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ReferentField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return user_name(obj)


def _area_choices(blank_label):
    return [("", blank_label), *ProcedureArea.choices]


class CaseFieldsMixin:
    """Title, procedure area, referent and next action: shared by opening and editing."""

    def _add_case_fields(self, referents):
        self.fields["title"] = forms.CharField(
            label=_("Intitulé"),
            max_length=150,
            help_text=_("Ex. : Renouvellement carte d'identité, Ouverture droits retraite"),
            error_messages={
                "required": _(
                    "Donnez un intitulé au dossier (ex. : Renouvellement carte d'identité)."
                )
            },
        )
        self.fields["procedure_area"] = forms.ChoiceField(
            label=_("Domaine de la démarche"),
            choices=_area_choices(_("Choisir un domaine")),
            error_messages={
                "required": _("Choisissez le domaine de la démarche dans la liste."),
                "invalid_choice": _("Choisissez le domaine de la démarche dans la liste."),
            },
        )
        self.fields["mediator"] = ReferentField(
            label=_("Médiateur·rice référent·e"),
            queryset=referents,
            required=False,
            empty_label=_("Personne pour l'instant"),
            error_messages={"invalid_choice": _("Choisissez une personne de l'équipe.")},
        )
        self.fields["next_action_on"] = forms.DateField(
            label=_("Prochaine action le"),
            required=False,
            widget=DateInput(),
            help_text=_("Le dossier apparaît dans « Mes suivis » à partir de ce jour."),
            error_messages={"invalid": _("Saisissez une date valide (jj/mm/aaaa).")},
        )


class CaseOpenForm(CaseFieldsMixin, CrispyMixin, forms.Form):
    submit_label = _("Ouvrir le dossier")

    def __init__(self, *args, referents, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_case_fields(referents)
        self.fields["comment"] = forms.CharField(
            label=_("Premier constat (facultatif)"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=SENSITIVE_HINT,
        )


class CaseEditForm(CaseFieldsMixin, CrispyMixin, forms.Form):
    def __init__(self, *args, referents, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_case_fields(referents)


class CaseTransitionForm(CrispyMixin, forms.Form):
    submit_label = _("Changer le statut")

    to = forms.ChoiceField(
        label=_("Nouveau statut"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez le nouveau statut.")},
    )
    comment = forms.CharField(
        label=_("Commentaire"),
        # The service says why (its message at the field), for the form and every other caller.
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Ce qui a été fait, ce qui est attendu et de qui."),
    )
    next_action_on = forms.DateField(
        label=_("Prochaine action le"),
        required=False,
        widget=DateInput(),
        help_text=_("Laissez vide si aucune action n'est prévue. Effacée à la clôture."),
        error_messages={"invalid": _("Saisissez une date valide (jj/mm/aaaa).")},
    )

    def __init__(self, *args, targets, current_label, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = targets
        self.fields["to"].error_messages["invalid_choice"] = _(
            "Ce changement n'est pas possible depuis le statut « %(current)s »."
        ) % {"current": current_label}


class CaseNoteForm(CrispyMixin, forms.Form):
    """A note on the case page: text, a new next-action date, a document reference, any of
    them; the status stays. Prefixed: the status form beside it has a date field too."""

    prefix = "note"
    submit_label = _("Ajouter au dossier")

    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=SENSITIVE_HINT,
    )
    next_action_on = forms.DateField(
        label=_("Nouvelle date de prochaine action"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("Saisissez une date valide (jj/mm/aaaa).")},
    )
    document_reference = forms.CharField(
        label=_("Référence de document"),
        required=False,
        # The service says it in French when longer; the browser would cut it silently.
        help_text=_("Ex. : n° dossier CAF 1234567, n° de pré-demande ANTS."),
    )

    def __init__(self, *args, current_next_action=None, **kwargs):
        super().__init__(*args, **kwargs)
        if current_next_action is not None:
            self.fields["next_action_on"].help_text = _(
                "Actuellement le %(day)s. Laissez vide pour la garder."
            ) % {"day": current_next_action.strftime("%d/%m/%Y")}
        else:
            self.fields["next_action_on"].help_text = _("Aucune action prévue pour l'instant.")


class SessionField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return session_label(obj)


class CaseAttachForm(CrispyMixin, forms.Form):
    submit_label = _("Rattacher")

    def __init__(self, *args, sessions, listed, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["session"] = SessionField(
            label=_("Accompagnement à rattacher"),
            queryset=sessions,
            empty_label=_("Choisir un accompagnement"),
            error_messages={
                "required": _("Choisissez l'accompagnement à rattacher."),
                "invalid_choice": _(
                    "Cet accompagnement ne peut pas être rattaché à ce dossier (il n'est plus "
                    "dans la liste)."
                ),
            },
        )
        # The choices offered are read once (`listed`, the most recent); a POST is checked
        # against the whole queryset.
        field.choices = [("", field.empty_label), *((s.pk, session_label(s)) for s in listed)]
        self.has_choices = bool(listed)


class ResidentPickForm(forms.Form):
    q = forms.CharField(label=_("Nom de l'usager"), max_length=100, required=False)


class FollowupFilterForm(forms.Form):
    """Filters of "Mes suivis". An invalid value falls back to its default."""

    show = forms.ChoiceField(
        label=_("Dossiers"),
        choices=[(TO_DO, _("À traiter")), (ALL_OPEN, _("Tous les dossiers ouverts"))],
        required=False,
    )
    status = forms.ChoiceField(label=_("Statut"), required=False)
    procedure_area = forms.ChoiceField(
        label=_("Domaine"), choices=_area_choices(_("Tous les domaines")), required=False
    )
    mediator = forms.ChoiceField(label=_("Médiateur·rice"), required=False)

    def __init__(self, *args, mediators, can_be_me: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Tous les statuts"))] + [
            (code, label) for code, label in CaseStatus.choices if code not in CLOSED_CASE_STATUSES
        ]
        choices = [(ME, _("Moi"))] if can_be_me else []
        choices.append((EVERYONE, _("Toute l'équipe")))
        choices.extend((str(m.pk), user_name(m)) for m in mediators)
        self.fields["mediator"].choices = choices
