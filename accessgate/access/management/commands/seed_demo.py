"""Seed the embedded demo: a licence, a manually reviewed model with a small release, and
four accounts (researcher, reviewer, auditor, admin). Safe to run again: nothing is
duplicated, and the printed passwords are (re)set on every run."""

import hashlib
import json
import random
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accessgate.access.services import policy_set
from accessgate.accounts.roles import Role
from accessgate.accounts.selectors import user_by_email
from accessgate.accounts.services import profile_update, role_grant, user_create
from accessgate.catalog.models import LicenseVersion
from accessgate.catalog.selectors import model_by_name, release_by_ref
from accessgate.catalog.services import FileSpec, license_publish, model_create, release_create

DEMO_DOMAIN = "demo.accessgate.test"
NAMESPACE, NAME, VERSION = "demo-lab", "frontier-demo-7b", "1.0"

LICENCE_TEXT = """Frontier Demo Research Licence, version 1.0

1. Grant. The publisher grants you a non-exclusive, non-transferable licence to use the
   model weights for the research purpose you stated in your application.
2. No redistribution. You will not share, publish or host the weights, or derivatives
   that reproduce them, outside the team named in your application.
3. Safeguards. You will not remove or weaken the model's safety training, and you will
   report any dangerous capability you observe to the publisher within 14 days.
4. Security. You will store the weights on access-controlled systems only.
5. Termination. Access ends when your grant expires or is revoked; you will then delete
   every copy of the weights.
"""

STATEMENTS = [
    "I will use the weights only for the research purpose I describe below.",
    "I will not redistribute the weights or host them for people outside my team.",
    "I will not attempt to remove or circumvent the model's safeguards.",
]

MODEL_CARD = """## Frontier Demo 7B

A *demonstration* model for accessgate. Its weight files are small random tensors:
they show how gated downloads work, not how a language model behaves.

| Property | Value |
|---|---|
| Parameters | 7B (simulated) |
| Context | 8k tokens |
| Licence | Frontier Demo Research Licence 1.0 |

### Intended users
Safety and interpretability researchers at universities and labs.
"""

ACCOUNTS = {
    "researcher": (None, None),
    "reviewer": (Role.REVIEWER, ("Rey Viewer", "accessgate demo", "Reviewer", "GB")),
    "auditor": (Role.AUDITOR, ("Audrey Tor", "accessgate demo", "Auditor", "DE")),
    "admin": (Role.ADMIN, ("Ada Min", "accessgate demo", "Administrator", "FR")),
}


def demo_files() -> dict[str, bytes]:
    """Small, deterministic stand-ins for a sharded checkpoint."""
    rng = random.Random(20261128)
    return {
        "config.json": json.dumps({"architectures": ["DemoForCausalLM"], "hidden_size": 64}, indent=2).encode(),
        "model-00001-of-00002.safetensors": rng.randbytes(256 * 1024),
        "model-00002-of-00002.safetensors": rng.randbytes(128 * 1024),
        "tokenizer.json": json.dumps({"version": "1.0", "vocab": {"<s>": 0, "</s>": 1}}).encode(),
    }


class Command(BaseCommand):
    help = "Create (or refresh) the demo model and accounts, and print their log-ins."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even with ACCESSGATE_DEBUG off.")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to seed demo accounts with DEBUG off; pass --force if you mean it.")
        with transaction.atomic():
            passwords = self._accounts()
            model = self._model(reviewer=user_by_email(f"reviewer@{DEMO_DOMAIN}"))
        self._print(model, passwords)

    def _accounts(self) -> dict[str, str]:
        passwords = {}
        for label, (role, profile) in ACCOUNTS.items():
            email = f"{label}@{DEMO_DOMAIN}"
            password = f"demo-{secrets.token_urlsafe(9)}"
            user = user_by_email(email)
            if user is None:
                user = user_create(actor=None, email=email, password=password, email_verified=True)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            if profile:
                full_name, affiliation, position, country = profile
                profile_update(
                    actor=user,
                    user=user,
                    full_name=full_name,
                    affiliation=affiliation,
                    position=position,
                    country=country,
                )
            if role:
                role_grant(actor=None, user=user, role=role)
            passwords[email] = password
        return passwords

    def _model(self, *, reviewer):
        licence = LicenseVersion.objects.filter(name="Frontier Demo Research Licence", version="1.0").first()
        if licence is None:
            licence = license_publish(
                actor=None, name="Frontier Demo Research Licence", version="1.0", text=LICENCE_TEXT
            )
        model = model_by_name(NAMESPACE, NAME)
        if model is None:
            model = model_create(
                actor=None,
                namespace=NAMESPACE,
                name=NAME,
                display_name="Frontier Demo 7B",
                summary="A demonstration model behind identity checks, a licence and manual review.",
                card_markdown=MODEL_CARD,
                reviewers=[reviewer],
            )
        policy_set(
            actor=None,
            model=model,
            license=licence,
            statements=STATEMENTS,
            gating="manual",
            min_intended_use_chars=50,
            grant_days=90,
        )
        if release_by_ref(model, VERSION) is None:
            release_create(
                actor=None,
                model=model,
                version=VERSION,
                notes="First public release.",
                files=self._write_files(model),
            )
        return model

    def _write_files(self, model) -> list[FileSpec]:
        root = settings.ACCESSGATE_LOCAL_STORAGE_ROOT
        specs = []
        for path, content in demo_files().items():
            key = f"{model.namespace}/{model.name}/{VERSION}/{path}"
            target = root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            specs.append(
                FileSpec(path=path, storage_key=key, size=len(content), sha256=hashlib.sha256(content).hexdigest())
            )
        return specs

    def _print(self, model, passwords):
        out = self.stdout
        out.write(self.style.SUCCESS("\naccessgate demo is ready."))
        out.write(f"Model: {model.full_name} → {settings.SITE_URL}/models/{model.full_name}/")
        out.write("Log in at " + settings.SITE_URL + "/accounts/login/ with:")
        for email, password in passwords.items():
            out.write(f"  {email:<36} {password}")
        out.write("The researcher completes the profile and applies; the reviewer approves in the review queue.\n")
