"""The dashboard's blueprints: auth (PIN login), pages (forms, sessions, history), live (streams), api."""
