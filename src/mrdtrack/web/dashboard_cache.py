"""The dashboard's cache: computed once per registry version, and once under a crowd.

Computing the dashboard of 100,000 patients takes seconds; serving it must take
milliseconds (shared/spec/performance.md: p95 ≤ 150 ms under 20 concurrent clients).
So its data and figures are kept between requests, keyed by what they depend on:

* the **registry version** — the last audit sequence number
  (:func:`mrdtrack.web.dashboard_data.registry_version`). Every change to the registry
  appends an audit row, so a request that reads a new number knows that everything kept
  is out of date; :meth:`DashboardCache.observe` drops it all. The number is read on
  every request (an index look-up), so a change shows at the next page;
* **today** — "current therapy" is relative to the day;
* the **viewer's scope** — their site, and whether they see de-identified data only;
* the **filter** (:class:`~mrdtrack.web.filters.PatientFilter`, hashable), and for a
  figure its name.

Each kind of entry sits in a bounded :class:`SingleFlightCache`: least recently used
entries go first, and a key being computed is computed by one thread while the others
asking for it wait for that result (a per-key lock), so twenty identical requests on a
cold cache cost one computation, not twenty. A computation that fails is not kept: its
waiters get the same error and the next request tries again.

One :class:`DashboardCache` belongs to one application (:func:`cache_of`): a second
server process keeps its own, which is correct, only colder.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from mrdtrack.errors import InputError

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from mrdtrack.web.cohort import CohortDashboard
    from mrdtrack.web.dashboard_data import RegistrySnapshot

__all__ = ["DashboardCache", "SingleFlightCache", "cache_of"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_STATE_NAME = "mrdtrack_dashboard_cache"
_CREATING = threading.Lock()


class _Pending(Generic[V]):
    """A computation in progress that other threads wait for."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: V | None = None
        self.error: BaseException | None = None

    def wait(self) -> V:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # set before done


@dataclass
class CacheStats:
    """What a cache did: served from memory, computed, waited for another thread."""

    hits: int = 0
    computed: int = 0
    waited: int = 0
    evicted: int = 0


class SingleFlightCache(Generic[K, V]):
    """A bounded LRU map whose missing values are computed once per key, whatever the crowd.

    Parameters
    ----------
    max_entries
        Entries kept; the least recently used goes when one more is stored.
    """

    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise InputError("max_entries", max_entries, "a whole number ≥ 1")
        self.max_entries = max_entries
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._values: OrderedDict[K, V] = OrderedDict()
        self._pending: dict[K, _Pending[V]] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        """The value of ``key``: kept, being computed by another thread, or computed now."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                self.stats.hits += 1
                return self._values[key]
            pending = self._pending.get(key)
            owner = pending is None
            if pending is None:
                pending = self._pending[key] = _Pending()
                self.stats.computed += 1
            else:
                self.stats.waited += 1
        if not owner:
            return pending.wait()
        try:
            value = compute()
        except BaseException as error:
            with self._lock:
                del self._pending[key]
            pending.error = error
            pending.done.set()
            raise
        with self._lock:
            del self._pending[key]
            self._values[key] = value
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)
                self.stats.evicted += 1
        pending.value = value
        pending.done.set()
        return value

    def clear(self) -> None:
        """Forget every kept value (computations in flight still answer their waiters)."""
        with self._lock:
            self._values.clear()


@dataclass
class DashboardCache:
    """The snapshots, dashboards and figures of one application (see the module docstring).

    Attributes
    ----------
    snapshots
        Registry snapshots by ``(version, today)``: one is current; two are kept so that a
        request still reading the previous version does not evict the new one.
    views
        Dashboards by ``(version, today, scope, filter)``.
    figures
        SVG bytes by ``(version, today, scope, filter, name)``.
    payloads
        The API's JSON bytes of each dashboard, by the dashboard's key (encoding the
        curves of 100,000 patients takes tens of milliseconds).
    pages
        The rendered body of each dashboard page, by the dashboard's key.
    """

    max_views: int = 64
    max_figures: int = 192
    snapshots: SingleFlightCache[Hashable, RegistrySnapshot] = field(init=False)
    views: SingleFlightCache[Hashable, CohortDashboard] = field(init=False)
    figures: SingleFlightCache[Hashable, bytes] = field(init=False)
    payloads: SingleFlightCache[Hashable, bytes] = field(init=False)
    pages: SingleFlightCache[Hashable, str] = field(init=False)
    version: int | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.snapshots = SingleFlightCache(2)
        self.views = SingleFlightCache(self.max_views)
        self.figures = SingleFlightCache(self.max_figures)
        self.payloads = SingleFlightCache(self.max_views)
        self.pages = SingleFlightCache(self.max_views)

    def observe(self, version: int) -> None:
        """Note the registry version a request read; a newer one drops everything kept.

        An older number (a request that read it before a change another request has
        already seen) changes nothing: keys carry their version, so what it computes is
        never served as current.
        """
        with self._lock:
            if self.version is not None and version <= self.version:
                return
            self.version = version
            for cache in (self.snapshots, self.views, self.figures, self.payloads, self.pages):
                cache.clear()


def cache_of(app: Starlette) -> DashboardCache:
    """The application's :class:`DashboardCache`, created on first use."""
    cache: DashboardCache | None = getattr(app.state, _STATE_NAME, None)
    if cache is None:
        with _CREATING:
            cache = getattr(app.state, _STATE_NAME, None)
            if cache is None:
                cache = DashboardCache()
                setattr(app.state, _STATE_NAME, cache)
    return cache
