"""The Hugging Face client hears the access-over-time refusals in the portal's own words."""

from datetime import timedelta

import pytest
from django.utils import timezone
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import GatedRepoError

from accessgate.access import services as access_services
from accessgate.training.models import Question, Training
from accessgate.training.services import training_quiz_submit
from tests.support.applications import make_policy

pytestmark = pytest.mark.django_db(transaction=True)
REPO = "demo-lab/tiny-demo-1b"


def test_lapsed_training_names_the_training_page(live_server, hf_model, hf_holder, cache_dir):
    model, _ = hf_model
    user, secret = hf_holder
    quiz = Training.objects.create(name="Responsible use", kind="quiz", validity_days=30, pass_mark=100)
    Question.objects.create(training=quiz, text="Share?", choices=["Yes", "No"], correct=1)
    training_quiz_submit(actor=user, training=quiz, answers={quiz.questions.get().pk: 1})
    make_policy(model, model.policy.license, required_trainings=[quiz])
    hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    quiz.records.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(GatedRepoError) as error:
        hf_hub_download(REPO, "model.safetensors", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    assert "Responsible use" in str(error.value) and f"{live_server.url}/training/{quiz.pk}/" in str(error.value)


def test_ended_grant_says_so(live_server, hf_model, hf_holder, cache_dir):
    user, secret = hf_holder
    access_services.grant_end(actor=user, grant=user.grants.get())
    with pytest.raises(GatedRepoError) as error:
        hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    assert "You ended your access" in str(error.value) and "/apply/" in str(error.value)
