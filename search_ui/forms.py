"""The UI's POST forms (Flask-WTF): each carries a CSRF token and checks its own input."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from search_ui.users import MIN_PASSWORD, ROLES

_ROLE_CHOICES = list(ROLES)


class LoginForm(FlaskForm):
    name = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class ConfirmForm(FlaskForm):
    """A button that changes something (log out, remove a user): only the CSRF token."""


class AddUserForm(FlaskForm):
    name = StringField("User name", validators=[DataRequired(), Length(max=64)])
    role = SelectField("Role", choices=_ROLE_CHOICES, default="viewer")
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=1024)]
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=_ROLE_CHOICES)


class FoiExportForm(FlaskForm):
    """Export the current search; the search itself travels in hidden fields."""

    reference = StringField("Request reference", validators=[DataRequired(), Length(max=100)])
    redact = BooleanField("Mask third parties' personal data (FOIA s.40)", default=True)


class EvidenceExportForm(FlaskForm):
    case = StringField("Case reference", validators=[DataRequired(), Length(max=100)])
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])
