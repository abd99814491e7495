"""The generated matrix of the one door: every path that can make a grant usable × every rule
of the policy. While the rule is unmet the grant is never usable (`Grant.objects.active()`,
the download check, and on PostgreSQL the fast path's SQL decision); once it is met through
the public services, the grant is usable. Runs on SQLite and on PostgreSQL.
"""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.db import connection
from django.utils import timezone

from accessgate.access import services
from accessgate.access.models import AccessPolicy, AccessRequest, AttestationStatement, FormField, Grant, RequestStatus
from accessgate.access.rules import download_check
from accessgate.accounts.services import token_create
from accessgate.audit.context import RequestMeta
from accessgate.core.errors import DomainError
from accessgate.downloads import fast
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db
SIGNED = "Rosalind Franklin"
USE = "Red-teaming refusal behaviour for a university safety study."


class World:
    """One model under test, its reviewers, the researcher and a download token."""

    def __init__(self, licence, *, gating="manual", **policy):
        self.reviewers = [factories.UserFactory(role="reviewer") for _ in range(3)]
        self.model = factories.ModelFactory(reviewers=self.reviewers)
        make_policy(self.model, licence, gating=gating, **policy)
        self.release = factories.make_release(self.model)
        self.user = factories.UserFactory(profile__full_name=SIGNED)
        self.token, self.secret = token_create(actor=self.user, name="matrix", days=60)
        self.request = None

    def policy(self, **fields):
        AccessPolicy.objects.filter(model=self.model).update(**fields)

    def submit(self, model=None, **kwargs):
        self.request = services.access_request_submit(actor=self.user, **application(model or self.model, **kwargs))
        return self.request

    def grant(self):
        return Grant.objects.filter(user=self.user, model=self.model).order_by("-pk").first()

    def usable(self) -> bool:
        active = Grant.objects.active().filter(user=self.user, model=self.model).exists()
        try:
            downloadable = download_check(self.user, self.release) is not None
        except DomainError:
            downloadable = False
        assert active == downloadable, "Grant.objects.active() and the download check disagree"
        if connection.vendor == "postgresql":
            answer = fast.download_url_fast(
                secret=self.secret,
                namespace=self.model.namespace,
                name=self.model.name,
                ref="1.0",
                path="config.json",
                meta=RequestMeta(ip="10.0.0.9"),
            )
            assert (answer is not None) == active, "the fast path's SQL decision and the door disagree"
        return active

    def sign(self, **answers):
        grant = self.grant()
        ids = set(self.model.policy.statements.filter(is_active=True).values_list("pk", flat=True))
        services.grant_sign(
            actor=self.user,
            grant=grant,
            intended_use=USE,
            accepted_statement_ids=ids,
            typed_name=SIGNED,
            answers=answers,
        )


# --- paths: each runs up to the door's moment; `world.rerun` repeats that last step -----------


def path_review(world, brk):
    world.submit()
    brk()
    world.rerun = lambda: services.access_request_approve(actor=world.reviewers[0], access_request=world.request)
    world.rerun()


def path_automatic(world, brk):
    world.policy(gating="auto")
    brk()
    world.rerun = world.submit
    world.rerun()


def path_bulk(world, brk):
    world.submit()
    brk()

    def bulk():
        [result] = services.access_requests_bulk_decide(
            actor=world.reviewers[0], request_ids=[world.request.pk], approve=True, message="ok"
        )
        if not result.ok:
            raise DomainError(result.message)

    world.rerun = bulk
    world.rerun()


def path_appeal(world, brk):
    world.submit()
    services.access_request_reject(actor=world.reviewers[0], access_request=world.request, reason="No.")
    services.access_request_appeal(actor=world.user, access_request=world.request, message="Please look again.")
    brk()
    world.rerun = lambda: services.access_request_appeal_decide(
        actor=world.reviewers[1], access_request=world.request, grant=True, message="Granted."
    )
    world.rerun()


def path_direct(world, brk):
    brk()

    def direct():
        services.grant_create_direct(actor=world.reviewers[0], user=world.user, model=world.model)
        world.request = world.grant().request
        if world.rule not in ("answers", "signature"):
            world.sign(**world.answers)  # the researcher completes what is theirs to complete

    world.rerun = direct
    world.rerun()


def path_collection(world, brk):
    lead = factories.ModelFactory()
    make_policy(lead, world.model.policy.license)
    family = services.collection_create(
        actor=None, namespace="matrix", name=f"fam-{world.model.pk}", display_name="F", lead=lead, members=[world.model]
    )
    world.rerun_submit = lambda: services.access_request_submit(
        actor=world.user, collection=family, **application(lead)
    )
    world.rerun_submit()
    world.request = AccessRequest.objects.get(user=world.user, model=world.model)
    brk()
    world.rerun = lambda: services.access_request_approve(actor=world.reviewers[0], access_request=world.request)
    world.rerun()


def path_reinstate(world, brk):
    world.submit()
    services.access_request_approve(actor=world.reviewers[0], access_request=world.request)
    services.grant_suspend(actor=world.reviewers[0], grant=world.grant(), reason="Looking into it.")
    brk()
    world.rerun = lambda: services.grant_reinstate(actor=world.reviewers[0], grant=world.grant(), reason="Cleared.")
    world.rerun()


def path_activation(world, brk):
    world.policy(require_institutional_email=True, institutional_domains=["lab.example"], requirements_timing="after")
    world.submit()
    services.access_request_approve(actor=world.reviewers[0], access_request=world.request)
    assert world.grant().status == "pending"
    brk()
    EmailAddress.objects.create(user=world.user, email="rf@lab.example", verified=True)
    world.rerun = lambda: services.grants_activate_ready(user=world.user)
    world.rerun()


PATHS = {
    "review": path_review,
    "automatic": path_automatic,
    "bulk": path_bulk,
    "appeal": path_appeal,
    "direct": path_direct,
    "collection": path_collection,
    "reinstate": path_reinstate,
    "activation": path_activation,
}


# --- rules: break before the door's moment, meet afterwards through public services ---------


def rule_approvals(world):
    def brk():
        world.policy(approvals_required=2)

    def meet():
        request = AccessRequest.objects.get(pk=world.request.pk)
        if request.status == RequestStatus.APPEALED:
            services.access_request_appeal_decide(
                actor=world.reviewers[2], access_request=request, grant=True, message="Agreed."
            )
        else:
            services.access_request_approve(actor=world.reviewers[2], access_request=request)

    return brk, meet


def rule_answers(world):
    def brk():
        FormField.objects.create(policy=world.model.policy, key="lab", label="Which lab?", kind="text")
        world.answers = {"lab": "Cavendish"}

    return brk, lambda: world.sign(lab="Cavendish")


def rule_signature(world):
    def brk():
        AttestationStatement.objects.create(policy=world.model.policy, text="I will report misuse.")

    return brk, lambda: world.sign()


def rule_cooldown(world):
    def brk():
        world.policy(reapply_cooldown_days=14)
        factories.AccessRequestFactory(
            user=world.user, model=world.model, status=RequestStatus.REJECTED, decided_at=timezone.now()
        )

    def meet():
        world.traveller = time_machine.travel(timezone.now() + timedelta(days=15), tick=False)
        world.traveller.start()
        world.rerun()

    return brk, meet


def rule_signoff(world):
    def brk():
        world.policy(require_signoff=True, signoff_domains=["uni.edu"])

    def meet():
        request = AccessRequest.objects.get(pk=world.request.pk)
        signoff = services.signoff_request(
            actor=world.user, access_request=request, official_name="Dean Jones", official_email="dean@uni.edu"
        )
        services.signoff_countersign(token=services.signoff_token(signoff), typed_name="Dean Jones")
        if not world.usable() and (world.grant() is None or world.grant().status != "pending"):
            world.rerun()  # the refused decision, now that the application is countersigned

    return brk, meet


def rule_requirement(world):
    def brk():
        world.policy(require_orcid=False, requirements_timing="after", blocked_countries=[])
        world.policy(require_institutional_email=True, institutional_domains=["uni.example"])

    def meet():
        EmailAddress.objects.create(user=world.user, email="rf@uni.example", verified=True)
        if world.grant() is None:
            world.rerun()
        else:
            services.grants_activate_ready(user=world.user)

    return brk, meet


RULES = {
    "approvals": rule_approvals,
    "answers": rule_answers,
    "signature": rule_signature,
    "cooldown": rule_cooldown,
    "signoff": rule_signoff,
    "requirement": rule_requirement,
}

# Pairs where meeting the rule afterwards has no surface: the grant stays unusable (safe).
NO_WAY_BACK = {
    # An approval given earlier no longer suffices once the policy asks for two, and a decided
    # request takes no further approvals: the grant waits; the holder applies again.
    ("reinstate", "approvals"),
    ("activation", "approvals"),
}
# Pairs that cannot arise: an automatic policy has no reviewers' approvals, and an automatic
# approval happens at submission, so nothing can change between signing and the door.
NOT_APPLICABLE = {("automatic", "approvals"), ("automatic", "answers"), ("automatic", "signature")}


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_grant_is_never_usable_while_a_rule_is_unmet(path, rule, licence):
    if (path, rule) in NOT_APPLICABLE:
        pytest.skip("cannot arise on this path")
    world = World(licence)
    world.rule, world.answers = rule, {}
    brk, meet = RULES[rule](world)
    try:
        PATHS[path](world, brk)
    except DomainError:
        pass  # a clear refusal naming the rule (the cooldown, a missing countersignature)
    assert not world.usable(), f"{path} × {rule}: usable while the rule is unmet"
    if (path, rule) in NO_WAY_BACK:
        return
    try:
        meet()
        if not world.usable() and world.grant() is not None and world.grant().status == "pending":
            if world.grant().waiting_for == ["your intended use", "your signature"]:
                world.sign(**world.answers)  # a direct grant: the researcher's part
        assert world.usable(), f"{path} × {rule}: not usable once the rule holds ({world.grant().waiting_for})"
    finally:
        if getattr(world, "traveller", None):
            world.traveller.stop()
