"""The keyword arguments an architecture accepts, worked out when a call passed one it does not know.

A registered builder hands its ``**kwargs`` down (``resnet50`` -> ``build_resnet`` -> the block class), so no
single signature lists them. When the build fails with "unexpected keyword argument", the traceback holds every
function the keywords went through and names the one that refused; each of their parameters is then tried on
the meta device (nothing allocated), and the ones the builder takes are the answer.
"""
from __future__ import annotations

import inspect
import re
from types import FrameType
from typing import Callable

import torch

_UNEXPECTED = re.compile(r"(?P<callee>[\w.]+)\(\) got an unexpected keyword argument '(?P<name>\w+)'")


def unexpected_keyword(exc: TypeError) -> str | None:
    """The refused keyword of an "unexpected keyword argument" TypeError, else None."""
    match = _UNEXPECTED.search(str(exc))
    return match["name"] if match else None


def _named_parameters(fn: Callable) -> dict:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params
            if p.default is not p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _callee(qualname: str, frame: FrameType | None):
    if frame is None:
        return None
    head, *rest = qualname.split(".")
    obj = frame.f_locals.get(head, frame.f_globals.get(head))
    for part in rest:
        obj = getattr(obj, part, None)
    return obj if callable(obj) else None


def _candidates(builder: Callable, exc: TypeError) -> dict:
    """Parameter name -> a valid value, for every function between ``builder`` and the call that failed."""
    found = _named_parameters(builder)
    tb, inside, last = exc.__traceback__, False, None
    while tb is not None:
        frame, code = tb.tb_frame, tb.tb_frame.f_code
        inside = inside or code is builder.__code__
        if inside:
            for name in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
                if name in frame.f_locals:
                    found.setdefault(name, frame.f_locals[name])
            last = frame
        tb = tb.tb_next
    match = _UNEXPECTED.search(str(exc))
    callee = _callee(match["callee"], last) if match else None
    for name, default in (_named_parameters(callee) if callee is not None else {}).items():
        found.setdefault(name, default)
    return found


def builder_keywords(builder: Callable, exc: TypeError, **fixed) -> list[str]:
    """The keyword arguments ``builder`` accepts (each confirmed by a build on the meta device with ``fixed``)."""
    accepted = []
    for name, value in _candidates(builder, exc).items():
        if name in fixed:
            continue
        try:
            with torch.device("meta"):
                builder(**fixed, **{name: value})
        except TypeError:
            continue  # unknown, or already set by the architecture ("multiple values")
        except KeyError as exc:
            if exc.args == (name,):
                continue  # CPython 3.11 reports "multiple values" inside an except block as KeyError(name)
        except Exception:  # noqa: BLE001  (the name is accepted; only this trial value is not)
            pass
        accepted.append(name)
    return sorted(accepted)
