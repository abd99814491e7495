"""Seed the embedded demo: a licence, a manually reviewed model with a small release, and
four accounts (researcher, reviewer, auditor, admin). Safe to run again: nothing is
duplicated, and the printed passwords are (re)set on every run."""

import secrets
import tempfile
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accessgate.access.models import Grant
from accessgate.access.selectors import collection_by_name
from accessgate.access.services import (
    PolicySettings,
    access_request_submit,
    collection_create,
    policy_set,
)
from accessgate.accounts.mfa import has_totp, totp_new_secret
from accessgate.accounts.models import ApiToken
from accessgate.accounts.selectors import user_by_email
from accessgate.accounts.services import (
    mfa_totp_activate,
    profile_update,
    role_grant,
    token_create,
    token_revoke,
    user_create,
    user_password_set,
)
from accessgate.catalog.models import LicenseVersion
from accessgate.catalog.selectors import model_by_name, release_by_ref
from accessgate.catalog.services import license_publish, model_create
from accessgate.downloads.imports import release_import_prepare, release_import_run
from accessgate.training.models import Question, Training

from ._demo_content import (
    ACCOUNTS,
    COUNCIL_NAME,
    COUNCIL_QUESTIONS,
    DEMO_DOMAIN,
    DEMO_QUIZ,
    DEMO_QUIZ_INTRO,
    DEMO_REVIEW_TOKEN_NAME,
    DEMO_TOKEN_NAME,
    LARGE_VERSION,
    LICENCE_TEXT,
    MODEL_CARD,
    NAME,
    NAMESPACE,
    OPEN_NAME,
    SECURE_NAME,
    STATEMENTS,
    VERSION,
    demo_files,
)


class Command(BaseCommand):
    help = "Create (or refresh) the demo model and accounts, and print their log-ins."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even with ACCESSGATE_DEBUG off.")
        parser.add_argument(
            "--large",
            action="store_true",
            help=f"Also give {OPEN_NAME} a release {LARGE_VERSION} of 36 MB, to watch download progress and resume.",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to seed demo accounts with DEBUG off; pass --force if you mean it.")
        with transaction.atomic():
            passwords = self._accounts()
            reviewer = user_by_email(f"reviewer@{DEMO_DOMAIN}")
            researcher = user_by_email(f"researcher@{DEMO_DOMAIN}")
            licence = self._licence()
            model = self._model(
                NAME,
                "Frontier Demo 7B",
                "A demonstration model behind a licence and manual review.",
                "manual",
                licence=licence,
                reviewer=reviewer,
                # Access over time: renewals reviewed with a progress report; a close-out when a
                # grant ends, and none of the demo's models accept applicants with one overdue.
                require_closeout=True,
                closeout_blocks_requests=True,
            )
            open_model = self._model(
                OPEN_NAME,
                "Tiny Demo 1B",
                "A small demonstration model; approval is automatic.",
                "auto",
                licence=licence,
                reviewer=reviewer,
                # The researcher's demo grant can be renewed at once (auto-renewal) or ended with a close-out.
                renewal_window_days=90,
                renewal_auto=True,
                require_closeout=True,
            )
            secure_model = self._model(
                SECURE_NAME,
                "Secure Demo 13B",
                "Needs a verified identity and two-factor authentication.",
                "auto",
                licence=licence,
                reviewer=reviewer,
                require_identity=True,
                require_mfa=True,
                required_trainings=[self._training()],
            )
            council = self._council(licence=licence, reviewer=reviewer)
            family = self._family(model, council)
            if options.get("large"):
                files = partial(demo_files, OPEN_NAME, size="large", shards=4)
                self._release(open_model, LARGE_VERSION, files, notes="A larger checkpoint (random weights).")
            self._grant(researcher, open_model)
            secret = self._token(researcher)
            for label in ("reviewer", "auditor", "admin"):
                self._totp(user_by_email(f"{label}@{DEMO_DOMAIN}"))
            # The demo reviewer has a second factor (above), so a review-scoped token is allowed.
            review_secret = self._token(reviewer, DEMO_REVIEW_TOKEN_NAME, scopes=["review"], mfa_passed=True)
        self._print(model, open_model, secure_model, passwords, secret)
        self.stdout.write(
            f"{council.full_name} needs two approvals (the reviewer's and the admin's), asks its own questions, "
            "and makes a rejected researcher wait 14 days:\n"
            f"  {settings.SITE_URL}/models/{council.full_name}/\n"
            f"One application to the collection {family.full_name} covers {model.full_name} and {council.full_name}:\n"
            f"  {settings.SITE_URL}/models/collections/{family.full_name}/apply/\n"
        )
        if options.get("large"):
            self.stdout.write(
                f"The 36 MB release: {settings.SITE_URL}/models/{open_model.full_name}/{LARGE_VERSION}/download/\n"
            )
        self._print_hf(model, open_model, secret, review_secret)

    def _accounts(self) -> dict[str, str]:
        passwords = {}
        for label, (role, profile) in ACCOUNTS.items():
            email = f"{label}@{DEMO_DOMAIN}"
            password = f"demo-{secrets.token_urlsafe(9)}"
            user = user_by_email(email)
            if user is None:
                user = user_create(actor=None, email=email, password=password, email_verified=True)
            else:
                user_password_set(actor=None, user=user, password=password)
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

    def _training(self):
        """A short quiz the secure model requires (access over time: required training)."""
        training, created = Training.objects.get_or_create(
            name="Responsible use of model weights",
            defaults={"kind": "quiz", "validity_days": 365, "pass_mark": 100, "description": DEMO_QUIZ_INTRO},
        )
        if created:
            for position, (text, choices, correct) in enumerate(DEMO_QUIZ):
                Question.objects.create(
                    training=training, position=position, text=text, choices=choices, correct=correct
                )
        return training

    def _licence(self):
        licence = LicenseVersion.objects.filter(name="Frontier Demo Research Licence", version="1.0").first()
        return licence or license_publish(
            actor=None, name="Frontier Demo Research Licence", version="1.0", text=LICENCE_TEXT
        )

    def _model(self, name, display_name, summary, gating, *, licence, reviewer, **requirements):
        model = model_by_name(NAMESPACE, name, include_drafts=True)
        if model is None:
            model = model_create(
                actor=None,
                namespace=NAMESPACE,
                name=name,
                display_name=display_name,
                summary=summary,
                card_markdown=MODEL_CARD.replace("Frontier Demo 7B", display_name),
                reviewers=[reviewer],
            )
        policy_set(
            actor=None,
            model=model,
            terms=PolicySettings(
                license=licence,
                statements=STATEMENTS,
                gating=gating,
                min_intended_use_chars=50,
                grant_days=90,
                url_ttl_seconds=300,
                max_downloads_per_file=None if gating == "auto" else 5,
                **requirements,
            ),
        )
        self._release(model, VERSION, partial(demo_files, name), notes="First public release.")
        return model

    def _council(self, *, licence, reviewer):
        """Two-person approval with custom questions (no release, so no files)."""
        model = model_by_name(NAMESPACE, COUNCIL_NAME)
        if model is None:
            model = model_create(
                actor=None,
                namespace=NAMESPACE,
                name=COUNCIL_NAME,
                display_name="Council Demo 70B",
                summary="Two reviewers must approve; the application asks its own questions.",
                card_markdown=MODEL_CARD.replace("Frontier Demo 7B", "Council Demo 70B"),
                reviewers=[reviewer],
            )
        policy_set(
            actor=None,
            model=model,
            terms=PolicySettings(
                license=licence,
                statements=STATEMENTS,
                form_fields=COUNCIL_QUESTIONS,
                gating="manual",
                min_intended_use_chars=50,
                grant_days=90,
                approvals_required=2,
                reapply_cooldown_days=14,
                review_target_days=3,
            ),
        )
        return model

    def _family(self, lead, *members):
        """A collection: one application, a grant on each member."""
        family = collection_by_name(NAMESPACE, "frontier-family")
        return family or collection_create(
            actor=None,
            namespace=NAMESPACE,
            name="frontier-family",
            display_name="Frontier family",
            summary="Every demo-lab model with the manual review licence.",
            lead=lead,
            members=list(members),
        )

    def _release(self, model, version, make_files, *, notes):
        if release_by_ref(model, version) is None:
            # Through the real import path, so the demo works on local disk and on S3 alike.
            with tempfile.TemporaryDirectory() as source:
                for path, content in make_files().items():
                    (Path(source) / path).write_bytes(content)
                job = release_import_prepare(
                    actor=None, model=model, version=version, source=source, notes=notes, operator=True
                )
                release_import_run(job)

    def _grant(self, researcher, model):
        if Grant.objects.active().filter(user=researcher, model=model).exists():
            return
        statements = model.policy.statements.filter(is_active=True).values_list("pk", flat=True)
        access_request_submit(
            actor=researcher,
            model=model,
            intended_use="Trying out accessgate's download path from the demo: browser, curl and aria2c.",
            accepted_statement_ids=set(statements),
            typed_name=researcher.profile.full_name,
        )

    def _totp(self, user) -> None:
        """Staff pages need a second factor; demo staff get an authenticator app already."""
        if not has_totp(user):
            mfa_totp_activate(actor=None, user=user, secret=totp_new_secret())

    def _token(self, user, name=DEMO_TOKEN_NAME, scopes=("download",), mfa_passed=False) -> str:
        # A fresh token per run; the previous demo token is revoked so only one stays valid.
        for old in ApiToken.objects.active().filter(user=user, name=name):
            token_revoke(actor=user, token=old)
        _, secret = token_create(actor=user, name=name, days=30, scopes=scopes, mfa_passed=mfa_passed)
        return secret

    def _print_hf(self, model, open_model, secret, review_secret):
        out, site = self.stdout, settings.SITE_URL
        out.write("With the Hugging Face client (pip install huggingface-hub==2.4.0), as the researcher:")
        out.write(
            f"  HF_ENDPOINT={site} HF_TOKEN={secret} python -c "
            f"\"from huggingface_hub import snapshot_download; print(snapshot_download('{open_model.full_name}'))\""
        )
        out.write(f"  HF_ENDPOINT={site} HF_TOKEN={secret} hf download {open_model.full_name} --revision {VERSION}")
        out.write(f"As the reviewer (a token with the review scope), approve requests for {model.full_name}:")
        out.write(
            f'  HF_ENDPOINT={site} HF_TOKEN={review_secret} python -c "from huggingface_hub import HfApi; '
            f"print([r.username for r in HfApi().list_pending_access_requests('{model.full_name}')])\""
        )
        out.write(
            f'  HF_ENDPOINT={site} HF_TOKEN={review_secret} python -c "from huggingface_hub import HfApi; '
            f"HfApi().accept_access_request('{model.full_name}', '<username>')\"\n"
        )

    def _print(self, model, open_model, secure_model, passwords, secret):
        out = self.stdout
        site = settings.SITE_URL
        out.write(self.style.SUCCESS("\naccessgate demo is ready."))
        out.write(f"Log in at {site}/accounts/login/ with:")
        for email, password in passwords.items():
            out.write(f"  {email:<36} {password}")
        out.write("The reviewer, auditor and admin have an authenticator app set up. When asked for a code, run:")
        out.write(f"  .venv/bin/python manage.py totp_code reviewer@{DEMO_DOMAIN}\n")
        out.write(f"Apply as the researcher to {model.full_name} and approve as the reviewer in the review queue:")
        out.write(f"  {site}/models/{model.full_name}/")
        out.write(f"The researcher already has access to {open_model.full_name}. Download a file now:")
        filename = "model-00001-of-00002.safetensors"
        out.write(
            f'  curl -fL -H "Authorization: Bearer {secret}" -o {filename} \\\n'
            f"    {site}/models/{open_model.full_name}/{VERSION}/files/{filename}"
        )
        out.write(f"Or everything, verified: {site}/models/{open_model.full_name}/{VERSION}/download/")
        out.write("For the README's download block, paste this line into your shell first:")
        out.write(f"  export TOKEN={secret} SITE={site}")
        out.write(
            f"{secure_model.full_name} needs a verified identity and two-factor: its checklist links to both "
            "(the demo's identity check is a page with buttons).\n"
        )
