from django.db import migrations, models

GENESIS = "0" * 64


def backfill_chain(apps, schema_editor):
    """Chain the events written before the chain existed, in the order they were written."""
    from accessgate.audit.chain import chain_hash, event_payload

    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    prev_hash, seq = GENESIS, 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        seq += 1
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = chain_hash(prev_hash, event_payload(event))
        AuditEvent.objects.filter(pk=event.pk).update(seq=event.seq, prev_hash=event.prev_hash, hash=event.hash)
        prev_hash = event.hash
    ChainHead.objects.create(id=1, seq=seq, hash=prev_hash)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField(default=0)),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "constraints": [models.CheckConstraint(condition=models.Q(("id", 1)), name="audit_chainhead_single_row")]
            },
        ),
        migrations.AddField("auditevent", "seq", models.PositiveBigIntegerField(null=True)),
        migrations.AddField("auditevent", "prev_hash", models.CharField(max_length=64, default="")),
        migrations.AddField("auditevent", "hash", models.CharField(max_length=64, null=True)),
        migrations.RunPython(backfill_chain, migrations.RunPython.noop),
        migrations.AlterField("auditevent", "seq", models.PositiveBigIntegerField(unique=True)),
        migrations.AlterField("auditevent", "prev_hash", models.CharField(max_length=64)),
        migrations.AlterField("auditevent", "hash", models.CharField(max_length=64, unique=True)),
        migrations.AlterModelOptions("auditevent", {"ordering": ["-seq"]}),
    ]
