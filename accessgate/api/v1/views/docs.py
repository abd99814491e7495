"""The API's documentation pages under the portal's Content-Security-Policy.

Both pages start from static files (static/api/), so the policy's `script-src 'self'` holds
on both, with no inline script. The ReDoc page alone gets three additions, on that page only:
- `style-src` a per-response nonce: ReDoc (styled-components) writes its rules into `<style>`
  elements it creates at run time and gives them the nonce passed as its `nonce` option;
  plus the hashes of the two fixed `<style>` elements its bundle inserts while loading,
  before any option can reach it (an empty one, and its base rules). Nothing else inline runs.
- `worker-src 'self' blob:`: its search index runs in a Web Worker built from a blob URL.
Every other page keeps the site policy.
"""

import secrets

from django.conf import settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView


def policy_with_source(policy: str, directive: str, source: str) -> str:
    """`policy` with `source` added to `directive` (the directive is added when missing)."""
    parts = [part.strip() for part in policy.split(";") if part.strip()]
    for index, part in enumerate(parts):
        if part.split()[0] == directive:
            parts[index] = f"{part} {source}"
            break
    else:
        parts.append(f"{directive} 'self' {source}")
    return "; ".join(parts)


# The two `<style>` elements redoc.standalone.js (drf-spectacular-sidecar, pinned) inserts at load.
REDOC_LOAD_STYLE_HASHES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty string
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
)


class RedocView(SpectacularRedocView):
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        nonce = secrets.token_urlsafe(18)
        response.data["style_nonce"] = nonce
        policy = getattr(settings, "ACCESSGATE_CSP", "")
        if policy:
            styles = " ".join((f"'nonce-{nonce}'", *REDOC_LOAD_STYLE_HASHES))
            policy = policy_with_source(policy, "style-src", styles)
            response["Content-Security-Policy"] = policy_with_source(policy, "worker-src", "blob:")
        return response
