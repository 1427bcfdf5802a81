"""Content-Security-Policy of the pages and of the offline file: scripts only from this server, or inline ones
whose exact text the policy names by hash.

Folium writes the map as inline script, and the page carries its configuration inline too. Rather than allowing
every inline script ('unsafe-inline', under which any markup injected into a page would run), the policy lists
the SHA-256 of each inline script the service itself wrote into the document: an injected <script> or an
``onerror=`` attribute has no hash there, and the browser refuses it. Hashes, not nonces: the same document
always has the same policy, so it can be cached and compared.
"""

from __future__ import annotations

import base64
import hashlib
import re

# an inline script: a <script> element without src (attributes other than src are allowed), and its text
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def script_hashes(document: str) -> list[str]:
    """The CSP source expressions ('sha256-...') of every inline script of ``document``, in order, once each."""
    found: dict[str, None] = {}
    for match in INLINE_SCRIPT.finditer(document):
        digest = hashlib.sha256(match.group(1).encode("utf-8")).digest()
        found[f"'sha256-{base64.b64encode(digest).decode()}'"] = None
    return list(found)


def page_policy(document: str, frame_ancestors: str, image_origins: str = "") -> str:
    """The policy of a page served by the service: everything from this server; images also as data: URIs (and
    from a configured basemap's origin); inline styles (Leaflet and Folium set them)."""
    scripts = " ".join(["'self'", *script_hashes(document)])
    extra_images = f" {image_origins}" if image_origins else ""
    return (
        f"default-src 'self'; img-src 'self' data:{extra_images}; script-src {scripts}; "
        f"style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        f"form-action 'self'; frame-ancestors {frame_ancestors}"
    )


def offline_policy(document: str) -> str:
    """The policy of a file opened from disk: nothing loaded from anywhere, only its own inline scripts and
    styles and data: images."""
    scripts = " ".join(script_hashes(document)) or "'none'"
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src data:; "
        "object-src 'none'; base-uri 'none'; form-action 'none'"
    )


def maplibre_policy(document: str, frame_ancestors: str) -> str:
    """The policy of a page drawn by MapLibre (/exemples/maplibre): the page policy, with MapLibre's workers,
    which it starts from its module script's own address on this server (worker-src 'self'). Neither blob: (which
    MapLibre uses only when its script comes from another origin) nor 'unsafe-eval': MapLibre needs neither, and
    tests/browser/test_maplibre.py checks that the page draws with no violation of this policy."""
    return page_policy(document, frame_ancestors) + "; worker-src 'self'"
