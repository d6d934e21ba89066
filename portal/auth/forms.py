from wtforms import BooleanField, SubmitField

from portal.forms import BaseForm, email_field, password_field


class SignInForm(BaseForm):
    email = email_field("Enter your email address.")
    password = password_field("Password", "Enter your password.")
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")
