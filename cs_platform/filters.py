"""Filter forms for owner pages that take their filters from the address: a value
that does not fit (a stale bookmark, a hand-edited link) is ignored, never an error
page. The page names what it ignored."""

from django import forms


class LenientFilterForm(forms.Form):
    """After cleaning, every field that failed holds its empty value and is listed in
    `ignored` (its label); the form is then valid."""

    ignored: list[str]

    def full_clean(self):
        super().full_clean()
        self.ignored = []
        if not self.is_bound:
            return
        for name in list(self._errors):
            field = self.fields.get(name)
            if field is not None:
                self.cleaned_data[name] = field.clean(None)  # filter fields are optional
                self.ignored.append(str(field.label or name))
        self._errors.clear()
