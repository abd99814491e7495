"""One way to move a status. Each entity (requests, grants, identity checks, background jobs)
declares its own table of allowed moves; services move through it and nothing else."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from .errors import InvalidTransition

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# A status label in lower case for a refusal's {state}/{verb}, translated when the message is
# built rather than once at import.
lower_label = lazy(lambda label: str(label).lower(), str)


@dataclass(frozen=True)
class Transitions:
    """A table of allowed status moves for one kind of record.

    `verbs` names what moving to a status is called ("approved"), for the refusal message;
    `message` is the refusal, formatted with `noun`, `state` (the current status, as a user
    reads it) and `verb`.
    """

    noun: "StrOrPromise"
    allowed: Mapping[str, frozenset[str]]
    verbs: Mapping[str, "StrOrPromise"]
    message: "StrOrPromise" = gettext_lazy("This {noun} is {state}; it cannot be {verb}.")

    def can(self, current: str, to: str) -> bool:
        return to in self.allowed.get(current, frozenset())

    def sources(self, to: str) -> list[str]:
        """Every status from which `to` may be reached (for conditional UPDATEs)."""
        return sorted(state for state, targets in self.allowed.items() if to in targets)

    def check(self, current: str, to: str, *, state: str | None = None) -> None:
        if not self.can(current, to):
            raise InvalidTransition(
                self.message.format(noun=self.noun, state=state or current, verb=self.verbs.get(to, to))
            )

    def move(self, obj: Any, to: str, *, field: str = "status") -> None:
        """Check the move from `obj`'s current status and set the new one (the caller saves)."""
        display = getattr(obj, f"get_{field}_display", None)
        self.check(getattr(obj, field), to, state=display().lower() if display else None)
        setattr(obj, field, to)
