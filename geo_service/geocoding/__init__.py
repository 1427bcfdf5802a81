"""Geocoding of free-text places ("lieu d'intervention") to administrative units and the communes they cover."""

from geo_service.geocoding.gazetteer import Gazetteer
from geo_service.geocoding.geocoder import Geocoder, GeocodeResult, ResolvedUnit

__all__ = ["Gazetteer", "GeocodeResult", "Geocoder", "ResolvedUnit"]
