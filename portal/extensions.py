"""Flask extensions, created unbound and initialised in the application factory."""

from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"

csrf = CSRFProtect()
migrate = Migrate()
mail = Mail()  # sends only from `flask notify`, and only when MAIL_SERVER is set
