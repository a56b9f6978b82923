"""XML helpers the adapters share: a safe parser, the gateway's XSDs, and short XSD error texts."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

_MAX_REPORTED = 3


def safe_parser() -> etree.XMLParser:
    """An lxml parser that expands no entities, loads no DTD, reaches no network and keeps libxml2's limits."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def xsd_path(name: str) -> Path:
    """Where an XSD of the gateway is: packaged in ``gateway/_schemas/xsd`` in a wheel, else ``schemas/xsd``."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_schemas" / "xsd" / name
    return packaged if packaged.is_file() else package.parent / "schemas" / "xsd" / name


def compile_xsd(name: str) -> etree.XMLSchema:
    """Compile one of the gateway's XSDs (callers cache the result)."""
    return etree.XMLSchema(etree.parse(str(xsd_path(name)), safe_parser()))


def describe(log: etree._ListErrorLog, namespace: str) -> str:
    """The first few errors of a validation, without the namespace noise, and how many more there were."""
    entries = list(log)
    parts = [e.message.replace(f"{{{namespace}}}", "") for e in entries[:_MAX_REPORTED]]
    more = f" (and {len(entries) - _MAX_REPORTED} more)" if len(entries) > _MAX_REPORTED else ""
    return "; ".join(parts) + more
