"""The tablet dashboard and HTTP API (Flask application factory: :func:`web.app.create_app`)."""
