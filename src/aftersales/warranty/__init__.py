"""Warranty and repair: sold units by serial / IMEI, warranty terms, claims and repair orders."""
