"""Finding connector plugins through the ``gateway.connectors`` entry-point group.

Only the connectors asked for are imported. A plugin that fails to import is reported with its distribution
and version and does not stop the others; a loaded object that is not a ``Connector`` subclass is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from gateway.connectors.base import Connector, ConnectorConfig
from gateway.errors import ConfigError

GROUP = "gateway.connectors"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """An installed connector plugin, before or after loading.

    Attributes:
        name: Entry-point name.
        target: ``module:attribute`` it points at.
        distribution: Distribution that provides it.
        version: That distribution's version.
        error: Why it could not be loaded, if it was tried and failed.
    """

    name: str
    target: str
    distribution: str
    version: str
    error: str | None = None


def _info(ep: EntryPoint, error: str | None = None) -> PluginInfo:
    dist = ep.dist
    return PluginInfo(
        name=ep.name,
        target=ep.value,
        distribution=dist.name if dist else "?",
        version=dist.version if dist else "?",
        error=error,
    )


def installed(allow: frozenset[str] | None = None, deny: frozenset[str] = frozenset()) -> dict[str, EntryPoint]:
    """Entry points of installed connectors, filtered by an allow-list and a deny-list; nothing is imported."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    return {n: ep for n, ep in sorted(found.items()) if (allow is None or n in allow) and n not in deny}


def describe(allow: frozenset[str] | None = None, deny: frozenset[str] = frozenset()) -> list[PluginInfo]:
    """Describe installed connectors, trying to load each so that broken ones show their error."""
    out: list[PluginInfo] = []
    for ep in installed(allow, deny).values():
        try:
            _check(ep, ep.load())
        except Exception as exc:  # a broken plugin must not hide the others
            out.append(_info(ep, f"{type(exc).__name__}: {exc}"))
        else:
            out.append(_info(ep))
    return out


def load(name: str) -> type[Connector[ConnectorConfig]]:
    """Load one connector class by name; raise ``ConfigError`` saying which distribution failed and how."""
    eps = installed()
    if name not in eps:
        known = ", ".join(eps) or "none"
        raise ConfigError(f"no connector named {name!r} is installed (installed: {known})")
    ep = eps[name]
    try:
        obj = ep.load()
    except Exception as exc:
        info = _info(ep)
        raise ConfigError(
            f"connector {name!r} from {info.distribution} {info.version} failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    return _check(ep, obj)


def _check(ep: EntryPoint, obj: object) -> type[Connector[ConnectorConfig]]:
    if not (isinstance(obj, type) and issubclass(obj, Connector)):
        raise ConfigError(f"entry point {ep.name!r} ({ep.value}) is not a gateway Connector subclass")
    return obj
