"""Tables of the XML-RPC methods the fake hub exports, and argument binding.

Each ``api_*`` module fills one :class:`MethodTable`; :class:`Registry` merges them. An API
function takes the :class:`~.context.CallContext` as its first, positional-only parameter and
then exactly the parameters the real hub's method takes, so ``inspect.signature`` decides
what the client may send.
"""

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import koji

from .context import CallContext

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ApiMethod:
    """One exported method.

    ``always_writes`` marks methods whose real implementation always commits a change (so a
    successful call always records its call number, even when the fake's state happens to
    look unchanged); for the others the dispatcher records it only if the state changed.

    ``reads_only`` marks methods that never change anything, in the real hub and here: they
    need no rollback. The dispatcher still snapshots the database around them to check
    that they changed nothing, unless the hub was made with ``check_reads=False``
    (benchmarks): then they run with no snapshot at all.
    """

    name: str
    func: Callable[..., Any]
    signature: inspect.Signature
    always_writes: bool = False
    reads_only: bool = False

    def invoke(self, ctx: CallContext, params: Iterable[Any]) -> Any:
        """Call the method with XML-RPC params (a trailing ``__starstar`` struct = kwargs).

        Arguments that do not bind to the signature → 1019 ParameterError.
        """
        args, kwargs = koji.decode_args(*params)
        try:
            bound = self.signature.bind(ctx, *args, **kwargs)
        except TypeError as exc:
            raise koji.ParameterError(f"{self.name}: {exc}") from None
        return self.func(*bound.args, **bound.kwargs)


class MethodTable:
    """The methods one API module exports; use :meth:`method` as a decorator."""

    def __init__(self) -> None:
        self.methods: dict[str, ApiMethod] = {}

    def method(self, name: str, *, always_writes: bool = False,
               reads_only: bool = False) -> Callable[[F], F]:
        """Export the decorated function as XML-RPC method ``name``."""

        def register(func: F) -> F:
            if name in self.methods:
                raise ValueError(f"method {name} exported twice")
            self.methods[name] = ApiMethod(name, func, inspect.signature(func), always_writes,
                                           reads_only)
            return func

        return register


class Registry:
    """All exported methods by name."""

    def __init__(self, tables: Iterable[MethodTable]) -> None:
        self._methods: dict[str, ApiMethod] = {}
        for table in tables:
            for name, entry in table.methods.items():
                if name in self._methods:
                    raise ValueError(f"method {name} exported by two API modules")
                self._methods[name] = entry

    def get(self, name: str | None) -> ApiMethod:
        """The method, else 1000 ``Invalid method: <name>`` as the real hub answers."""
        entry = self._methods.get(name) if name is not None else None
        if entry is None:
            raise koji.GenericError(f"Invalid method: {name}")
        return entry

    def names(self) -> list[str]:
        return sorted(self._methods)
