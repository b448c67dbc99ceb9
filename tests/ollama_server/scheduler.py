"""Which models are loaded, who may run, who waits, and who is turned away — Ollama's scheduler rules.

Runners are keyed by the weights file, as Ollama's are (server/sched.go:110 schedulerModelKey: the
model path), so a model and one created from it share a runner, reloaded when their load-time options
differ. Per runner, OLLAMA_NUM_PARALLEL requests run at once (llama.cpp gets that many slots, each with the
request's num_ctx); up to OLLAMA_MAX_QUEUE more wait; beyond that a request fails with 503. A model
stays loaded for its keep-alive after its last request (0 = unload at once, negative = forever);
changing a load-time option (num_ctx, num_thread) reloads it, and at most OLLAMA_MAX_LOADED_MODELS
stay loaded (the idle one used longest ago is unloaded first).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .config import FOREVER, Settings
from .registry import StoredModel
from .runner import Runner, RunnerOptions

QUEUE_FULL = "server busy, please try again.  maximum pending requests exceeded"


def _key(model: StoredModel) -> str:
    """The scheduler's key: the weights file (server/sched.go:110 schedulerModelKey uses ModelPath)."""
    return str(model.blob)


class QueueFull(RuntimeError):
    """More than OLLAMA_MAX_QUEUE requests would be waiting."""


@dataclass
class Loaded:
    """A loaded model and its bookkeeping (guarded by the scheduler's lock)."""

    model: StoredModel
    runner: Runner
    slots: threading.Semaphore
    refs: int = 0
    expires_at: float = FOREVER
    keep_alive: float = 300.0
    last_used: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Lease:
    """What a request holds while it runs: the runner and how long getting it took (load_duration)."""

    loaded: Loaded
    load_seconds: float


class Scheduler:
    """Loads, shares, queues and unloads runners."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cond = threading.Condition()
        self._loaded: dict[str, Loaded] = {}
        self._loading: set[str] = set()
        self._waiting = 0
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="keepalive-reaper", daemon=True)
        self._reaper.start()

    def options_for(self, model: StoredModel, num_ctx: int | None, num_thread: int | None) -> RunnerOptions:
        ctx = num_ctx if num_ctx and num_ctx > 0 else self.settings.context_length
        trained = model.info.context_length
        if trained:
            ctx = min(ctx, trained)  # Ollama clamps num_ctx to the model's trained context
        return RunnerOptions(
            num_ctx=max(ctx, 256),
            num_parallel=self.settings.num_parallel,
            num_thread=max(num_thread or self.settings.default_threads, 0),
            flash_attn=self.settings.flash_attention,
            kv_cache_type=self.settings.kv_cache_type,
        )

    @contextmanager
    def lease(self, model: StoredModel, options: RunnerOptions, keep_alive: float) -> Iterator[Lease]:
        """Hold one of the model's slots for the duration of a request (loading it first if needed)."""
        start = time.monotonic()
        with self._cond:
            if self._waiting >= self.settings.max_queue:
                raise QueueFull(QUEUE_FULL)
            self._waiting += 1
        loaded: Loaded | None = None
        try:
            loaded = self._acquire_runner(model, options)
            load_seconds = time.monotonic() - start
            loaded.slots.acquire()
        except BaseException:
            with self._cond:
                self._waiting -= 1
                if loaded is not None:
                    loaded.refs -= 1
                    self._cond.notify_all()
            raise
        with self._cond:
            self._waiting -= 1
        try:
            yield Lease(loaded, load_seconds)
        finally:
            loaded.slots.release()
            self._release(loaded, keep_alive)

    def load_only(self, model: StoredModel, options: RunnerOptions, keep_alive: float) -> float:
        """Load (or keep loaded) without running anything; returns seconds taken."""
        with self.lease(model, options, keep_alive) as held:
            return held.load_seconds

    def unload(self, model: StoredModel) -> None:
        """Unload a model's runner now, or as soon as its running requests finish."""
        with self._cond:
            loaded = self._loaded.get(_key(model))
            if loaded is None:
                return
            loaded.keep_alive = 0
            if loaded.refs == 0:
                self._drop(loaded)
            else:
                loaded.expires_at = 0

    def _acquire_runner(self, model: StoredModel, options: RunnerOptions) -> Loaded:
        name = _key(model)
        with self._cond:
            while True:
                current = self._loaded.get(name)
                if current is not None and not current.runner.alive():
                    self._drop(current)
                    current = None
                if name in self._loading:
                    self._cond.wait(0.5)
                    continue
                if current is not None:
                    if current.runner.options == options:
                        current.refs += 1
                        current.expires_at = FOREVER
                        current.last_used = time.monotonic()
                        return current
                    if current.refs == 0:
                        self._drop(current)  # needs a reload with other load-time options
                        continue
                    self._cond.wait(0.5)
                    continue
                if len(self._loaded) >= self.settings.max_loaded_models:
                    idle = [lm for lm in self._loaded.values() if lm.refs == 0]
                    if not idle:
                        self._cond.wait(0.5)
                        continue
                    self._drop(min(idle, key=lambda lm: lm.last_used))
                self._loading.add(name)
                break
        try:
            runner = Runner(
                model.blob,
                model.info.architecture,
                bool(model.info.metadata.get("tokenizer.chat_template")),
                options,
            )
        finally:
            with self._cond:
                self._loading.discard(name)
                self._cond.notify_all()
        loaded = Loaded(model=model, runner=runner, slots=threading.Semaphore(options.num_parallel), refs=1)
        with self._cond:
            self._loaded[name] = loaded
            self._cond.notify_all()
        return loaded

    def _release(self, loaded: Loaded, keep_alive: float) -> None:
        with self._cond:
            loaded.refs -= 1
            loaded.keep_alive = keep_alive
            loaded.last_used = time.monotonic()
            if loaded.refs == 0:
                if keep_alive == 0 or loaded.expires_at == 0:
                    self._drop(loaded)
                else:
                    loaded.expires_at = time.monotonic() + keep_alive
            self._cond.notify_all()

    def _drop(self, loaded: Loaded) -> None:
        # Caller holds the lock; stopping the child takes milliseconds.
        if self._loaded.get(_key(loaded.model)) is loaded:
            del self._loaded[_key(loaded.model)]
        loaded.runner.stop()
        self._cond.notify_all()

    def forget_dead(self, loaded: Loaded) -> None:
        """Drop a runner that died so the next request loads a fresh one."""
        with self._cond:
            if not loaded.runner.alive() and self._loaded.get(_key(loaded.model)) is loaded:
                del self._loaded[_key(loaded.model)]
                self._cond.notify_all()

    def loaded(self) -> list[Loaded]:
        with self._cond:
            return [lm for lm in self._loaded.values() if lm.runner.alive()]

    def _reap(self) -> None:
        while not self._stop.wait(0.25):
            now = time.monotonic()
            with self._cond:
                for lm in list(self._loaded.values()):
                    if lm.refs == 0 and (now >= lm.expires_at or not lm.runner.alive()):
                        self._drop(lm)

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            for lm in list(self._loaded.values()):
                self._drop(lm)
