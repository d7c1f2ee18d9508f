"""The portal as a WSGI application: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

from portal import create_app

app = create_app()
