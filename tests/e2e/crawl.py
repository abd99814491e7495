"""The crawler's parts: which URLs to visit, how to fill a form, what counts as a failure.

A route is a *page* when a GET of it answers HTML; anything else (a download, a signed /dl/
link, a JSON API, a webhook or other POST-only route that answers 405) is skipped by that
rule and listed in the run's output. The rule reads the answer, not a list of names.
"""

import socket
from collections import defaultdict
from urllib.parse import urlsplit

from django.urls import URLPattern, URLResolver, get_resolver, reverse

FORM_TEXT = "Crawler check: a sentence long enough for every minimum-length rule on the portal's forms."

# Fills one form with valid-looking data where it can: the form's own values and the first
# real option stay; empty fields get a value of their type; every checkbox is ticked (statements
# to accept, rows to act on); a radio group without a choice gets its first option. File inputs
# stay empty. Returns false for forms the crawler does not submit (another origin, dialogs).
FILL_FORM = """(form, password) => {
  if (form.method === "dialog") return false;
  const action = new URL(form.action || location.href, location.href);
  if (action.origin !== location.origin) return false;
  const byType = {email: "crawler@example.org", url: "https://hooks.example.org/crawler", tel: "+44 20 7946 0000",
    number: "1", date: "2031-03-14", "datetime-local": "2031-03-14T12:00", time: "12:00", month: "2031-03",
    week: "2031-W11", search: "crawler", password: password, color: "#0b4f9c", range: null};
  for (const el of form.elements) {
    if (el.disabled || el.readOnly) continue;
    const tag = el.tagName, type = (el.type || "").toLowerCase();
    if (tag === "SELECT") {
      if (!el.value) { const option = [...el.options].find(o => o.value && !o.disabled); if (option) option.selected = true; }
    } else if (tag === "TEXTAREA") {
      if (!el.value) el.value = FORM_TEXT.slice(0, el.maxLength > 0 ? el.maxLength : undefined);
    } else if (tag === "INPUT") {
      if (["hidden", "submit", "button", "reset", "image", "file"].includes(type)) continue;
      if (type === "checkbox") { el.checked = true; continue; }
      if (type === "radio") {
        const group = form.querySelectorAll(`input[type=radio][name="${CSS.escape(el.name)}"]`);
        if (![...group].some(r => r.checked)) group[0].checked = true;
        continue;
      }
      if (el.value) continue;
      let value = type in byType ? byType[type] : FORM_TEXT;
      if (type === "number" && el.min) value = el.min;
      if (value === null) continue;
      if (el.maxLength > 0) value = value.slice(0, el.maxLength);
      el.value = value;
    }
  }
  return true;
}""".replace("FORM_TEXT", repr(FORM_TEXT))

# What makes two forms the same form: where and how they post, and the fields they send.
FORM_SHAPE = """form => ({method: form.method, action: new URL(form.action || location.href, location.href).pathname,
  fields: [...form.elements].map(el => el.name).filter(Boolean).sort().join(" ")})"""

SUBMIT_FORM = """form => {
  const button = form.querySelector("button[type=submit], button:not([type]), input[type=submit]");
  form.requestSubmit(button && button.form === form ? button : undefined);
}"""

PAGE_WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"


def _names(resolver, namespace=None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace and (f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace)
            yield from _names(pattern, inner or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def allauth_routes() -> tuple[list[tuple[str, str]], list[str]]:
    """allauth's routes (log-in, sign-up, e-mail, MFA...): those that take no argument, and the
    names of those that need one (a one-time key from an e-mail), which the crawler cannot fill."""
    found, needs_key = [], []
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and getattr(pattern.urlconf_module, "__name__", "") == "allauth.urls":
            for name in sorted(set(_names(pattern, None))):
                try:
                    found.append((name, reverse(name)))
                except Exception:  # noqa: BLE001 (NoReverseMatch: the route takes arguments)
                    needs_key.append(name)
    return found, needs_key


class Findings:
    """What went wrong, per rule, and what was skipped; `report()` is the failure message."""

    def __init__(self):
        self.failures = defaultdict(list)
        self.skipped = defaultdict(set)
        self.probes = 0
        self.visits = 0
        self.submits = 0

    def fail(self, rule, text):
        if text not in self.failures[rule]:
            self.failures[rule].append(text)

    def skip(self, reason, name):
        self.skipped[reason].add(name)

    def report(self) -> str:
        lines = []
        for rule, items in sorted(self.failures.items()):
            lines.append(f"{rule} ({len(items)}):")
            lines += [f"  {item}" for item in items]
        return "\n".join(lines)

    def summary(self) -> str:
        lines = [f"crawler: {self.probes} GETs, {self.visits} pages rendered, {self.submits} forms submitted"]
        for reason, names in sorted(self.skipped.items()):
            lines.append(f"skipped ({reason}): {', '.join(sorted(names))}")
        return "\n".join(lines)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def loopback_only_lookups(monkeypatch):
    """The crawler never reaches the network: name lookups other than the loopback fail (a
    webhook the crawler's data triggers records a failed delivery instead of leaving the box)."""
    real = socket.getaddrinfo

    def lookup(host, *args, **kwargs):
        if host not in ("localhost", "127.0.0.1", "::1", None):
            raise socket.gaierror(socket.EAI_NONAME, f"the crawler does not resolve {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
