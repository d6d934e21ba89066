from wtforms import BooleanField, EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from portal.forms import BaseForm


class SignInForm(BaseForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter an email address like name@council.gov.uk."),
            Length(max=254, message="An email address has at most 254 characters."),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Enter your password."),
            Length(max=200, message="A password here has at most 200 characters."),
        ],
    )
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")
