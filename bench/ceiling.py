"""The practical Python ceiling for service mode: a minimal hand-written raw → canonical loop, exactly-once.

consume → parse (the format's standard-library parser) → dict → Avro (fastavro ``schemaless_writer``) →
transactional produce, with the consumed offsets committed in the same transaction, ``--batch`` records per
transaction (the gateway's service mode commits 500). What it does not do, and the gateway does: the mapping
rules of a connector (it fills the dozen fields a minimal application maps into a template of the event type, taken
from the gateway's own output for a sample record of that type), the validation rules, the envelope's identifiers
and hashing, the dead-letter headers, the case state store. A record it cannot parse goes to the dead-letter topic
as it is.

Standalone on purpose: it imports neither the gateway nor pydantic, so that ``bench/quix_app.py`` reuses its parsers
and mapping in its own virtual environment (quixstreams pins another confluent-kafka). ``bench/ingest.py`` writes
the templates file (``write_templates``) and runs this as a subprocess:

    python bench/ceiling.py --bootstrap 127.0.0.1:29092 --connector de-csv --templates T.json \\
        --raw R --out O --dlq D --group G [--batch 500] [--idle-exit 5]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

Parsed = dict[str, Any]
# Local wall-clock times of the German and Dutch exports; a fixed offset is what a minimal application would do.
_CET = dt.timezone(dt.timedelta(hours=1))
_NS = "{urn:nl:ind:terugkeer:dossier:v1}"
_IDENTITY = "eu.returns.gateway.v1.Identity"


def _de_time(text: str) -> dt.datetime:
    date, _, time_of_day = text.partition(" ")
    day, month, year = date.split(".")
    hour, minute, *second = (int(x) for x in time_of_day.split(":")) if time_of_day else (0, 0)
    return dt.datetime(int(year), int(month), int(day), hour, minute, second[0] if second else 0, tzinfo=_CET)


def parse_de_csv(data: bytes) -> Parsed:
    """A German CSV row (no header: service mode reads one row per message) into the fields the loop maps."""
    f = data.decode("iso-8859-1").rstrip("\r\n").split(";")
    if len(f) < 13 or not f[0]:
        raise ValueError("short row")
    day, month, year = f[9].split(".") if f[9] else ("", "", "")
    return {
        "case": f[0],
        "person": f[1],
        "code": f[2],
        "at": _de_time(f[3]),
        "surname": f[5],
        "forenames": [f[6]] if f[6] else [],
        "birth": (int(year), int(month), int(day)) if year else None,
        "place": f[10] or None,
        "nationalities": [f[12]] if f[12] else [],
    }


def parse_fr_jsonl(data: bytes) -> Parsed:
    """A French JSON line into the fields the loop maps."""
    d = json.loads(data)
    p = d.get("personne") or {}
    born = (p.get("dateNaissance") or "").split("-")
    return {
        "case": d["numeroDossier"],
        "person": d["identifiantPersonne"],
        "code": d["typeEvenement"],
        "at": dt.datetime.fromisoformat(d["horodatage"]),
        "surname": p.get("nom", ""),
        "forenames": list(p.get("prenoms") or []),
        "birth": tuple(int(x) for x in born) + (None,) * (3 - len(born)) if born[0] else None,
        "place": p.get("lieuNaissance"),
        "nationalities": list(p.get("nationalites") or []),
    }


def parse_nl_xml(data: bytes) -> Parsed:
    """A Dutch ``Gebeurtenis`` element into the fields the loop maps."""
    root = ET.fromstring(data)
    body = root[3]
    person = body.find(f"{_NS}Persoon")
    born = (person.findtext(f"{_NS}Geboortedatum") or "").split("-") if person is not None else [""]
    return {
        "case": root.findtext(f"{_NS}Zaaknummer"),
        "person": root.findtext(f"{_NS}VNummer"),
        "code": body.tag[len(_NS) :],
        "at": dt.datetime.fromisoformat(root.findtext(f"{_NS}Tijdstip") or "").replace(tzinfo=_CET),
        "surname": person.findtext(f"{_NS}Geslachtsnaam") if person is not None else None,
        "forenames": [person.findtext(f"{_NS}Voornamen")] if person is not None else [],
        "birth": tuple(int(x) for x in born) if born[0] else None,
        "place": person.findtext(f"{_NS}Geboorteplaats") if person is not None else None,
        "nationalities": [n.text for n in person.iter(f"{_NS}Nationaliteit")] if person is not None else [],
    }


PARSERS: dict[str, Callable[[bytes], Parsed]] = {
    "de-csv": parse_de_csv,
    "fr-jsonl": parse_fr_jsonl,
    "nl-xml": parse_nl_xml,
}


class Mapper:
    """Parsed fields → canonical Avro records, from one template per event-type code (see ``write_templates``)."""

    def __init__(self, templates: Path) -> None:
        spec = json.loads(templates.read_text())
        self.schema = parse_schema(spec["schema"])
        self.header = base64.b64decode(spec["header"])
        self.connector: str = spec["connector"]
        self.templates: dict[str, list[dict[str, Any]]] = {
            code: [self._read(base64.b64decode(v)) for v in values] for code, values in spec["templates"].items()
        }

    def _read(self, value: bytes) -> dict[str, Any]:
        record = schemaless_reader(io.BytesIO(value[10:]), self.schema, None, return_record_name=True)
        if not isinstance(record, dict):
            raise TypeError("a canonical event is a record")
        return record

    def records(self, f: Parsed) -> list[dict[str, Any]]:
        """The canonical Avro records of one parsed raw record (one per event the gateway makes of its type)."""
        out = []
        now = dt.datetime.now(dt.UTC)
        subject = hashlib.blake2b(f"{self.connector}|{f['person']}".encode(), digest_size=16).hexdigest()
        for i, template in enumerate(self.templates[f["code"]]):
            r = dict(template)
            r["case_reference"] = f["case"]
            r["event_id"] = uuid.uuid5(uuid.NAMESPACE_URL, f"{f['case']}|{f['code']}|{f['at'].isoformat()}|{i}")
            r["occurred_at"] = f["at"]
            r["recorded_at"] = now
            r["subject_key"] = subject
            name, payload = r["payload"]
            identity = payload.get("identity")
            if identity is not None and f["surname"]:
                payload = dict(payload)
                named = type(identity) is tuple  # a union of null and the record: the reader named the branch
                identity = dict(identity[1] if named else identity)
                identity["surnames"] = [f["surname"]]
                identity["forenames"] = f["forenames"]
                identity["nationalities"] = f["nationalities"] or identity["nationalities"]
                identity["place_of_birth"] = f["place"]
                if f["birth"] is not None and len(f["birth"]) == 3 and f["birth"][2] is not None:
                    y, m, d = f["birth"]
                    identity["date_of_birth"] = {"year": y, "month": m, "day": d, "precision": "DAY"}
                payload["identity"] = (_IDENTITY, identity) if named else identity
                r["payload"] = (name, payload)
            out.append(r)
        return out

    def encode(self, record: dict[str, Any]) -> bytes:
        """Single-object bytes of a canonical record, through fastavro."""
        buf = io.BytesIO()
        buf.write(self.header)
        schemaless_writer(buf, self.schema, record)
        return buf.getvalue()


def write_templates(
    connector: str, schema: dict[str, Any], header: bytes, samples: dict[str, list[bytes]], path: Path
) -> None:
    """Write the templates file: the expanded canonical schema and, per event-type code, the gateway's events."""
    spec = {
        "connector": connector,
        "schema": schema,
        "header": base64.b64encode(header).decode(),
        "templates": {code: [base64.b64encode(v).decode() for v in values] for code, values in samples.items()},
    }
    path.write_text(json.dumps(spec))


def run(args: argparse.Namespace) -> int:
    """The loop: returns the number of raw records processed."""
    from confluent_kafka import Consumer, Producer

    mapper = Mapper(Path(args.templates))
    parse = PARSERS[args.connector]
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": args.bootstrap,
            "transactional.id": f"{args.group}-{uuid.uuid4().hex[:6]}",
            "linger.ms": 5,
            "compression.codec": "lz4",
        }
    )
    producer.init_transactions()
    consumer.subscribe([args.raw])
    done, idle_since = 0, time.monotonic()
    while time.monotonic() - idle_since < args.idle_exit:
        batch = consumer.consume(args.batch, 0.5)
        batch = [m for m in batch if m.error() is None]
        if not batch:
            continue
        idle_since = time.monotonic()
        producer.begin_transaction()
        for msg in batch:
            value, key = msg.value() or b"", msg.key()
            try:
                encoded = [mapper.encode(r) for r in mapper.records(parse(value))]
            except Exception:  # bad data: the minimal application dead-letters the record as it came
                producer.produce(args.dlq, value, key=key)
                continue
            for e in encoded:
                producer.produce(args.out, e, key=key)
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()), consumer.consumer_group_metadata()
        )
        producer.commit_transaction()
        done += len(batch)
    consumer.close()
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("bootstrap", "connector", "templates", "raw", "out", "dlq", "group"):
        ap.add_argument(f"--{name}", required=True)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--idle-exit", type=float, default=5.0)
    print(run(ap.parse_args()))


if __name__ == "__main__":
    main()
