"""Wayfarer."""
