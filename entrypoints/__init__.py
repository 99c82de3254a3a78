"""Thin Flask routes: validate the request, call one service with a fresh unit of work, return its reply."""
