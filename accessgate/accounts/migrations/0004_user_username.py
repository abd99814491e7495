import re

import django.db.models.functions.text
from django.db import migrations, models

import accessgate.accounts.models


def _base(email: str) -> str:
    # The rule of accounts.models.username_base, frozen here as it was when this ran.
    local = (email or "").split("@", 1)[0].lower()
    return re.sub(r"[^a-z0-9_.-]+", "-", local).strip("._-")[:34] or "user"


def fill_usernames(apps, schema_editor):
    """Give every existing account its handle, oldest account first (it keeps the plain name)."""
    User = apps.get_model("accounts", "User")
    taken = set()
    for user in User.objects.order_by("date_joined", "pk"):
        base = candidate = _base(user.email)
        n = 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate)
        user.username = candidate
        user.save(update_fields=["username"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_token_scopes_and_models"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username",
            field=models.CharField(max_length=40, null=True),
        ),
        migrations.RunPython(fill_usernames, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username",
            field=models.CharField(
                help_text="A stable handle; letters, digits, '_', '.' and '-'.",
                max_length=40,
                unique=True,
                validators=[accessgate.accounts.models.validate_username],
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("username"), name="accounts_user_username_ci"
            ),
        ),
    ]
