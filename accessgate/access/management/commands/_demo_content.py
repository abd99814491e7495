"""What `seed_demo` creates, as data: the demo's names, licence and attestation texts, model
card, accounts, custom questions, training quiz and the checkpoint each release holds. The
command (seed_demo.py) turns these into rows through the services."""

from typing import Any

from accessgate.access.services import QuestionSpec
from accessgate.accounts.roles import Role
from accessgate.catalog.demo_models import model_files

DEMO_DOMAIN = "demo.accessgate.test"
NAMESPACE, NAME, VERSION = "demo-lab", "frontier-demo-7b", "1.0"
OPEN_NAME = "tiny-demo-1b"  # auto-approved; the demo researcher already has access
SECURE_NAME = "secure-demo-13b"  # auto-approved once identity is verified and two-factor is on
COUNCIL_NAME = "council-demo-70b"  # two approvals (the reviewer and the admin) and custom questions; no files yet
COUNCIL_QUESTIONS = [
    QuestionSpec("project", "Project name", help_text="As on your grant or ethics approval."),
    QuestionSpec(
        "sector", "Sector", kind="single_choice", choices=["Academic", "Non-profit", "Industry", "Government"]
    ),
    QuestionSpec(
        "uses", "Planned uses", kind="multiple_choice", choices=["Evaluation", "Interpretability", "Fine-tuning"]
    ),
    QuestionSpec("ethics", "An ethics board or equivalent approved this work", kind="checkbox"),
    QuestionSpec("country", "Country where the weights will be stored", kind="country"),
    QuestionSpec("start", "Planned start", kind="date", required=False),
    QuestionSpec("lab_url", "Lab or project web page", kind="url", required=False),
    QuestionSpec("plan", "Safety plan", kind="long_text", help_text="Who has access, where the weights live."),
]
DEMO_TOKEN_NAME = "demo curl"
DEMO_REVIEW_TOKEN_NAME = "demo hf review"

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
    "I will use the weights only for the research purpose I describe above.",
    "I will not redistribute the weights or host them for people outside my team.",
    "I will not attempt to remove or circumvent the model's safeguards.",
]

MODEL_CARD = """## Frontier Demo 7B

A *demonstration* model for accessgate. Its files are a genuine, tiny Llama checkpoint
with random weights: real tools load them, but they show how gated downloads work, not
how a language model behaves.

| Property | Value |
|---|---|
| Parameters | 7B (simulated) |
| Context | 8k tokens |
| Licence | Frontier Demo Research Licence 1.0 |

### Intended users
Safety and interpretability researchers at universities and labs.
"""

ACCOUNTS = {
    "researcher": (None, ("Rosalind Franklin", "King's College London", "Research associate", "GB")),
    "reviewer": (Role.REVIEWER, ("Rey Viewer", "accessgate demo", "Reviewer", "GB")),
    "auditor": (Role.AUDITOR, ("Audrey Tor", "accessgate demo", "Auditor", "DE")),
    "admin": (Role.ADMIN, ("Ada Min", "accessgate demo", "Administrator", "FR")),
}


# Each demo release is a genuine tiny Llama checkpoint: random weights in a real format
# (accessgate/catalog/demo_models.py). `--large` adds LARGE_VERSION of the open model.
DEMO_CHECKPOINTS: dict[str, dict[str, Any]] = {
    NAME: {"size": "small", "shards": 2},
    OPEN_NAME: {"size": "tiny", "shards": 2},
    SECURE_NAME: {"size": "tiny", "shards": 1},
}
LARGE_VERSION = "2.0-large"


def demo_files(name: str, *, size: str | None = None, shards: int | None = None) -> dict[str, bytes]:
    checkpoint = DEMO_CHECKPOINTS[name]
    return model_files(
        name=f"{NAMESPACE}/{name}", size=size or checkpoint["size"], shards=shards or checkpoint["shards"]
    )


DEMO_QUIZ_INTRO = "Three questions on the licence's main rules. Valid for a year."
DEMO_QUIZ = [
    ("May you share the weights with a colleague who has no grant?", ["Yes", "No"], 1),
    ("Must you delete the weights when your access ends?", ["Yes", "No"], 0),
    ("May you remove the model's safety mitigations?", ["Yes, for research", "No"], 1),
]
