"""``gateway kafka-local``: the project's single-node broker for the demo and tests."""

from __future__ import annotations

import click

from gateway.devservices.local_kafka import LocalKafka


@click.group("kafka-local")
def kafka_local() -> None:
    """Run a single-node Apache Kafka (KRaft) on loopback from Maven Central jars."""


@kafka_local.command()
@click.option("--name", default="default", show_default=True, help="Instance name (own data folder).")
@click.option("--port", default=19092, show_default=True, type=int, help="Client port on 127.0.0.1.")
@click.option("--fresh", is_flag=True, help="Wipe the instance's data first.")
def start(name: str, port: int, fresh: bool) -> None:
    """Fetch the jars if needed, format storage, start the broker and wait until it answers."""
    click.echo(LocalKafka(name=name, port=port).start(fresh=fresh))


@kafka_local.command()
@click.option("--name", default="default", show_default=True)
def stop(name: str) -> None:
    """Stop the broker by its PID."""
    click.echo("stopped" if LocalKafka(name=name).stop() else "not running")


@kafka_local.command()
@click.option("--name", default="default", show_default=True)
@click.option("--port", default=19092, show_default=True, type=int)
def status(name: str, port: int) -> None:
    """Say whether the broker runs and answers."""
    k = LocalKafka(name=name, port=port)
    pid = k.running_pid()
    click.echo(f"pid={pid} answers={k.answers() if pid else False} bootstrap={k.bootstrap}")
