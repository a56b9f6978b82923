"""Finding transport plugins through the ``gateway.transports`` entry-point group.

The built-ins (``http``, ``filedrop``) are registered there by this distribution, exactly as a deployment registers
its national interface: a class with an ``options_model`` (pydantic) and ``send``/``close``. Only the transport
asked for is imported; one that fails to import is reported with its distribution and version; a loaded object that
does not look like a transport class is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from gateway.delivery.transport import Transport, TransportClass
from gateway.errors import ConfigError

__all__ = ["GROUP", "TransportInfo", "build", "describe", "installed", "load"]

GROUP = "gateway.transports"


class TransportInfo(BaseModel):
    """An installed transport plugin.

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


def _info(ep: EntryPoint, error: str | None = None) -> TransportInfo:
    dist = ep.dist
    return TransportInfo(
        name=ep.name,
        target=ep.value,
        distribution=dist.name if dist else "?",
        version=dist.version if dist else "?",
        error=error,
    )


def installed() -> dict[str, EntryPoint]:
    """Entry points of the installed transports, by name; nothing is imported."""
    return {ep.name: ep for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name)}


def describe() -> list[TransportInfo]:
    """Describe installed transports, trying to load each so that broken ones show their error."""
    out: list[TransportInfo] = []
    for ep in installed().values():
        try:
            _check(ep, ep.load())
        except Exception as exc:  # a broken plugin must not hide the others
            out.append(_info(ep, f"{type(exc).__name__}: {exc}"))
        else:
            out.append(_info(ep))
    return out


def load(name: str) -> TransportClass:
    """Load one transport class by name; raise ``ConfigError`` saying which distribution failed and how."""
    eps = installed()
    if name not in eps:
        raise ConfigError(f"no transport named {name!r} is installed (installed: {', '.join(eps) or 'none'})")
    ep = eps[name]
    try:
        obj = ep.load()
    except Exception as exc:
        info = _info(ep)
        raise ConfigError(
            f"transport {name!r} from {info.distribution} {info.version} failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    return _check(ep, obj)


def build(name: str, options: Mapping[str, Any]) -> Transport:
    """Load a transport by name and build it from raw options (validated by its ``options_model``).

    Raises:
        ConfigError: No such transport, it failed to import, or the options are invalid.
    """
    cls = load(name)
    try:
        validated = cls.options_model.model_validate(dict(options))
    except ValidationError as exc:
        raise ConfigError(f"invalid options of transport {name!r}: {exc}") from exc
    transport = cls(validated)
    if not isinstance(transport, Transport):
        raise ConfigError(f"transport {name!r} built an object without name, send and close")
    return transport


def _check(ep: EntryPoint, obj: object) -> TransportClass:
    model = getattr(obj, "options_model", None)
    ok = (
        isinstance(obj, type)
        and isinstance(model, type)
        and issubclass(model, BaseModel)
        and callable(getattr(obj, "send", None))
        and callable(getattr(obj, "close", None))
    )
    if not ok:
        raise ConfigError(f"entry point {ep.name!r} ({ep.value}) is not a transport class (options_model, send, close)")
    return cast(TransportClass, obj)
