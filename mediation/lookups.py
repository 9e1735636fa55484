"""Database lookups the project adds to Django's (registered by `MediationConfig.ready`)."""

from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class IntegerFieldIn(In):
    """`in` on an integer column leaves out the values the column cannot hold, as Django's
    own `exact`, `gt`, `lt`… lookups on integer fields do since Django 5.0.

    A multiple choice (ModelMultipleChoiceField, in our forms and the operators' admin)
    filters `pk__in` with the submitted ids: on SQLite an id beyond 64 bits raised
    OverflowError, a 500 instead of "this choice is not valid"."""

    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(
                self.lhs.output_field.get_internal_type()
            )
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)
