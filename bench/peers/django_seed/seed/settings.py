"""Settings of the seed app: the minimum for runserver, as the tutorial had.
CSRF is off, as the tutorial's AJAX posts carried no token."""
SECRET_KEY = "benchmark-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "seed.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
TEMPLATES = []
DATABASES = {}
USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": True}
