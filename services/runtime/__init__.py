"""Shared machinery every service runs on: settings, logging, database, outbox, inbox, handlers, auth, HTTP."""
