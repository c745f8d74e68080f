"""Apertium pipelines kept running between calls (docs/adr/0048-apertium-pipelines-kept-running.md).

`apertium -f txt <mode>` starts ten or so processes that each load their dictionary or rule file: about
270 ms of CPU before the first word, for a call that then takes a few milliseconds. A pipeline started
here stays up and takes one call after another, the way Apertium's own web service (apertium-apy) runs
its pairs: every stage in null-flush mode (`apertium-wblank-mode -z`), a request written as one stream
ended by a NUL, the answer read up to the NUL the last stage writes back.

The txt deformatter and reformatter the `apertium` script wraps around the mode (`apertium-destxt`,
`apertium-retxt`) are ported to Python here (`deformat`, `reformat`): they run per call and are a few
lines of character rules; the tests compare them with Debian's binaries on the project's buyer texts and
on random strings made of every character the format treats specially.

Each text of a call is its own sentence: the stream is a "." sentence mark, then the texts, separated by a
newline blank after the sentence mark the deformatter closes each text with (removed again by the
reformatter). Before, a batch was one document, and a text that ended without punctuation ran into the
next one: the next text's first words were tagged and transferred as part of the previous sentence.

A pipeline is kept per mode and per process, at most `max_kept` of them (least recently used closed
first), closed after `idle_seconds` unused and restarted after `restart_after` calls (bounds whatever a
long-lived stage accumulates). With `max_kept` 0 every call starts its pipeline and closes it afterwards:
the same code path, the old cost. The Huey worker keeps pipelines (language.tasks sets it at start-up); a
web process translates a reply draft now and then and keeps none unless APERTIUM_KEEP_PIPELINES says so."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import IO

from .base import ProviderError

# The txt format as Debian's apertium 3.8 builds it (apertium/txt-format.xml + deformat.xsl): these
# characters are blanks (runs of them, or any one other than a single space, become a "[...]" superblank;
# "~" is among them in the packaged build), these are escaped with a backslash, and a paragraph break
# (two newlines) ends a sentence: ".[]" goes before its superblank and at the end of the text.
_SPACE = frozenset(" \n\t\r~")
_ESCAPE = frozenset("[]\\/@<>^${}")
_PARAGRAPH = re.compile(r"(?:\n\n|\r\n\r\n)+")
SENTENCE_MARK = ".[]"
# Between two texts of a call: each ends with the deformatter's own sentence mark, then a newline blank.
TEXT_SEPARATOR = "[\n]"


def deformat(text: str) -> str:
    """What `apertium-destxt` writes for `text`."""
    out: list[str] = []
    blank: list[str] = []
    sentence_end = False

    def flush() -> None:
        nonlocal sentence_end
        if sentence_end:
            out.append(SENTENCE_MARK)
            sentence_end = False
        run = "".join(blank)
        blank.clear()
        out.append(f"[{run}]" if len(run) > 1 or (run and run != " ") else run)

    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "\n\r":
            paragraph = _PARAGRAPH.match(text, i)
            if paragraph:
                sentence_end = True
                blank.append(paragraph.group())
                i = paragraph.end()
                continue
        if char in _SPACE:
            blank.append(char)
        elif char in _ESCAPE:
            flush()
            out.append("\\" + char)
        else:
            flush()
            if char != "\0":  # the binary ends a blank at a NUL and writes nothing for it
                out.append(char)
        i += 1
    sentence_end = True
    flush()
    return "".join(out)


def reformat(stream: str) -> str:
    """What `apertium-retxt` writes for a translated stream: superblanks opened, escapes and sentence
    marks removed. (The binary also reads "[@file]" as a file to copy in, for blanks over 8 KiB the
    deformatter puts aside; `deformat` never does that, and this never opens a file.)"""
    out: list[str] = []
    i, n = 0, len(stream)
    while i < n:
        char = stream[i]
        if char == "[":
            if stream.startswith("[\\@", i):
                out.append("@")
                i += 3
            else:
                i += 1
        elif char == "]":
            i += 1
        elif char == "." and stream.startswith(SENTENCE_MARK, i):
            i += 3
        elif char == "\\" and i + 1 < n and stream[i + 1] in _ESCAPE:
            out.append(stream[i + 1])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def encode_texts(texts: list[str]) -> str:
    """One request: a sentence mark (the tagger starts every call after a sentence end, whether the
    pipeline is new or has translated before), then each text deformatted, newline blanks between."""
    return SENTENCE_MARK + TEXT_SEPARATOR.join(deformat(text) for text in texts)


def _mode_script(modes_dir: str, mode: str) -> str:
    tool = shutil.which("apertium-wblank-mode")
    if tool is None:
        raise ProviderError("apertium is not installed (apertium-wblank-mode)", kind="unavailable", permanent=True)
    done = subprocess.run(  # noqa: S603 - fixed argv found on PATH, no shell
        [tool, "-z", f"{modes_dir}/{mode}.mode"], capture_output=True, text=True, timeout=10, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        detail = done.stderr.strip()[:300] or "no pipeline"
        raise ProviderError(f"apertium {mode}: {detail}", kind="unavailable")
    return done.stdout


@dataclass(eq=False)
class Pipeline:
    """One running `mode` pipeline (a bash process and its stages, in their own process group)."""

    mode: str
    modes_dir: str
    process: subprocess.Popen[bytes] = field(init=False)
    stderr: IO[bytes] = field(init=False)
    calls: int = 0
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        script = _mode_script(self.modes_dir, self.mode)
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the pipeline
        # $1 is lt-proc's generation option (-n: no marks on unknown words, as `apertium -u`), $2 the
        # tagger's extra option (none).
        bash = shutil.which("bash") or "/bin/bash"
        self.process = subprocess.Popen(  # noqa: S603 - bash runs the mode file Apertium installed
            [bash, "-c", script, f"apertium-{self.mode}", "-n", ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        os.set_blocking(self.process.stdin.fileno(), False)
        os.set_blocking(self.process.stdout.fileno(), False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def translate(self, stream: str, timeout: float) -> str:
        """Send one deformatted stream, return the translated stream (not reformatted). The caller holds
        `lock`. Raises ProviderError; after an error the pipeline is closed and must not be reused."""
        assert self.process.stdin is not None and self.process.stdout is not None
        data = memoryview(stream.encode("utf-8", "replace") + b"\0")
        received = bytearray()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdin, selectors.EVENT_WRITE)
            selector.register(self.process.stdout, selectors.EVENT_READ)
            try:
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise ProviderError(f"apertium timed out after {timeout}s", kind="timeout")
                    for key, _ in selector.select(left):
                        if key.fileobj is self.process.stdin:
                            written = os.write(self.process.stdin.fileno(), data)
                            data = data[written:]
                            if not data:
                                selector.unregister(self.process.stdin)
                            continue
                        chunk = os.read(self.process.stdout.fileno(), 1 << 16)
                        if not chunk:
                            raise self._failure()
                        received += chunk
                        end = received.find(b"\0")
                        if end >= 0:
                            if end != len(received) - 1:
                                raise ProviderError(f"apertium {self.mode} answered twice", kind="bad_response")
                            self.calls += 1
                            self.last_used = time.monotonic()
                            return received[:end].decode("utf-8", "replace")
            except (BrokenPipeError, ConnectionResetError):
                raise self._failure() from None  # a stage stopped reading: say what it printed
            except ProviderError:
                self.close()
                raise

    def _failure(self) -> ProviderError:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)  # the stages' last words reach stderr
        self.stderr.seek(0)
        detail = self.stderr.read(2000).decode("utf-8", "replace").strip()[:300] or "the pipeline stopped"
        self.close()
        return ProviderError(f"apertium {self.mode} failed: {detail}", kind="unavailable")

    def close(self, *, graceful: bool = False) -> None:
        """Stop the pipeline. Graceful (an idle or used-up pipeline): end its input, so that every stage
        finishes and bash reaps them; otherwise, or if that takes over 2 s, kill the process group."""
        if graceful and self.process.poll() is None and self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=2)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.stderr.close()


def _env_int(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(eq=False)
class PipelinePool:
    """The pipelines one process keeps, by (modes_dir, mode)."""

    max_kept: int = field(default_factory=lambda: _env_int("APERTIUM_KEEP_PIPELINES", 0))
    idle_seconds: float = field(default_factory=lambda: float(_env_int("APERTIUM_PIPELINE_IDLE_SECONDS", 300)))
    restart_after: int = field(default_factory=lambda: _env_int("APERTIUM_PIPELINE_RESTART_AFTER", 1000))
    _kept: OrderedDict[tuple[str, str], Pipeline] = field(default_factory=OrderedDict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _reaper: threading.Thread | None = None
    started: int = 0  # pipelines started by this process (benchmarks and tests read it)

    def configure(self, *, max_kept: int) -> None:
        self.max_kept = max(0, max_kept)
        self._trim()

    def translate(self, modes_dir: str, mode: str, stream: str, timeout: float) -> str:
        if self.max_kept == 0:
            pipeline = self._start(modes_dir, mode)
            try:
                with pipeline.lock:
                    return pipeline.translate(stream, timeout)
            finally:
                pipeline.close(graceful=True)
        key = (modes_dir, mode)
        while True:
            with self._guard:
                found = self._kept.get(key)
                if found is None:
                    found = self._kept[key] = self._start(modes_dir, mode)
                    self._ensure_reaper()
                pipeline = found
                self._kept.move_to_end(key)
                evicted = self._trim_locked()
            for oldest in evicted:
                self._close_when_free(oldest)
            with pipeline.lock:
                if not pipeline.alive() or self._kept.get(key) is not pipeline:
                    # Closed by the reaper or a failure meanwhile, or stopped on its own: take a fresh one.
                    self._drop(key, pipeline)
                    pipeline.close()
                    continue
                try:
                    result = pipeline.translate(stream, timeout)
                except ProviderError:
                    self._drop(key, pipeline)
                    raise
                if pipeline.calls >= self.restart_after > 0:
                    self._drop(key, pipeline)
                    pipeline.close(graceful=True)
                return result

    def _start(self, modes_dir: str, mode: str) -> Pipeline:
        try:
            pipeline = Pipeline(mode, modes_dir)
        except FileNotFoundError as exc:
            raise ProviderError("apertium is not installed (bash)", kind="unavailable", permanent=True) from exc
        self.started += 1
        return pipeline

    def _drop(self, key: tuple[str, str], pipeline: Pipeline) -> None:
        with self._guard:
            if self._kept.get(key) is pipeline:
                del self._kept[key]

    def _trim(self) -> None:
        with self._guard:
            evicted = self._trim_locked()
        for oldest in evicted:
            self._close_when_free(oldest)

    def _trim_locked(self) -> list[Pipeline]:
        evicted: list[Pipeline] = []
        while len(self._kept) > self.max_kept:
            evicted.append(self._kept.popitem(last=False)[1])
        return evicted

    @staticmethod
    def _close_when_free(pipeline: Pipeline) -> None:
        # A call may be running on it in another thread: close once that call is done.
        def close() -> None:
            with pipeline.lock:
                pipeline.close(graceful=True)

        if pipeline.lock.acquire(blocking=False):
            try:
                pipeline.close(graceful=True)
            finally:
                pipeline.lock.release()
        else:
            threading.Thread(target=close, name="apertium-close", daemon=True).start()

    def close_idle(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._guard:
            idle = [key for key, p in self._kept.items() if now - p.last_used >= self.idle_seconds]
            closing = [self._kept.pop(key) for key in idle]
        for pipeline in closing:
            self._close_when_free(pipeline)
        return len(closing)

    def close_all(self) -> None:
        with self._guard:
            closing = list(self._kept.values())
            self._kept.clear()
        for pipeline in closing:
            self._close_when_free(pipeline)

    def kept(self) -> list[Pipeline]:
        with self._guard:
            return list(self._kept.values())

    def _ensure_reaper(self) -> None:
        if self._reaper is not None and self._reaper.is_alive():
            return

        def reap() -> None:
            while True:
                time.sleep(max(1.0, min(60.0, self.idle_seconds / 2)))
                self.close_idle()

        self._reaper = threading.Thread(target=reap, name="apertium-reaper", daemon=True)
        self._reaper.start()

    def _forget_after_fork(self) -> None:
        # A forked child shares the parent's pipes: it must never write to them, nor kill the parent's.
        self._kept = OrderedDict()
        self._guard = threading.Lock()
        self._reaper = None


POOL = PipelinePool()
os.register_at_fork(after_in_child=POOL._forget_after_fork)
