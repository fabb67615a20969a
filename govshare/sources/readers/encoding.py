"""Text encodings of submitted files: detected (never guessed wrongly) and transcoded to UTF-8 off the main process.

Files come as UTF-8 (with or without BOM), GBK or GB18030, sometimes UTF-16 with a BOM. Detection looks at
the start of the file: BOM (UTF-8, UTF-16); strict UTF-8; strict GB18030 (reported as "GBK" when the sample is
plain GBK); then a sample that is UTF-8 or GB18030 but for a few corrupt bytes (their rows are rejected when read); then
charset-normalizer. A sample that is valid both as UTF-8 and as GB18030 (short samples can be) is read as GBK when
only that reading gives Chinese text (every non-ASCII character a GB2312 character), which is what a short GBK
sample looks like; a UTF-8 reading made of Chinese characters stays UTF-8. (So a short UTF-8 sample whose only
non-ASCII characters are accented Latin letters, as in "José", is read as GBK: a source can set its encoding.)

Decoding GBK costs as much as parsing the CSV, so `TranscodingReader` does it in a child process that writes UTF-8
into a pipe read by pyarrow's CSV reader: decoding overlaps parsing. The child also counts and hashes the source
bytes; their SHA-256 is the load's checksum.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import charset_normalizer
from django.utils.translation import gettext, gettext_noop

from govshare.dataplane.raw import ReadStats, SourceInvalid, SourceUnavailable

UPLOAD_MISSING = gettext_noop("上传的文件“%(name)s”不存在，请重新上传")
UPLOAD_UNREADABLE = gettext_noop("无法读取上传的文件：%(reason)s")
TRANSCODING_FAILED = gettext_noop("文件转码失败：%(reason)s")
SENTENCES = (UPLOAD_MISSING, UPLOAD_UNREADABLE, TRANSCODING_FAILED)

# How much of a file detection and the header look at.
SAMPLE_BYTES = 1 << 20
UTF8 = "UTF-8"
UTF8_BOM = "UTF-8-SIG"
_BOMS = (
    (codecs.BOM_UTF8, UTF8_BOM),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_TRANSCODER = Path(__file__).with_name("_transcode.py")
_PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031
# The pipe is drained in chunks into a queue of at most this many (64 MB ahead of the parser).
_CHUNK_BYTES = 4 << 20
_QUEUED_CHUNKS = 16


def _gb2312_characters() -> frozenset[str]:
    chars: set[str] = set()
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


_CHINESE = _gb2312_characters()
# In a UTF-8 reading only characters of three bytes count as Chinese: the two-byte ones (Greek, Cyrillic, pinyin
# letters, "·") are also what a GBK character looks like when its two bytes happen to be valid UTF-8.
_CHINESE_UTF8 = frozenset(ch for ch in _CHINESE if ord(ch) >= 0x800)
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _decode_start(sample: bytes, codec: str, final: bool) -> str | None:
    """The sample decoded strictly (unless final, a character cut at its end is left out); None if it fails."""
    try:
        return codecs.getincrementaldecoder(codec)("strict").decode(sample, final=final)
    except UnicodeDecodeError:
        return None


def _utf8_reads_as_chinese(text: str) -> bool:
    return all(ch in _CHINESE_UTF8 for ch in text if ord(ch) > 0x7F)


def _gb_reads_as_chinese(text: str) -> bool:
    """Every non-ASCII character a GB2312 one, and none inside a Latin word ("M眉ller" is "Müller" in UTF-8)."""
    for i, ch in enumerate(text):
        if ord(ch) > 0x7F:
            if ch not in _CHINESE:
                return False
            if 0 < i < len(text) - 1 and text[i - 1] in _LETTERS and text[i + 1] in _LETTERS:
                return False
    return True


def _gb_name(sample: bytes, text: str, final: bool) -> str:
    return "GBK" if _decode_start(sample, "gbk", final) == text else "GB18030"


def _bad_characters(sample: bytes, codec: str) -> int:
    return codecs.getincrementaldecoder(codec)("replace").decode(sample, final=False).count("\ufffd")


def _nearly(sample: bytes) -> str | None:
    """UTF-8 or GB18030 when the sample is that encoding but for a few corrupt bytes (at most one in a thousand,
    or one in a small sample): their rows are rejected, the rest of the file is readable."""
    tolerated = max(1, len(sample) // 1000)
    utf8, gb = _bad_characters(sample, "utf-8"), _bad_characters(sample, "gb18030")
    if min(utf8, gb) > tolerated:
        return None
    if utf8 <= gb:
        return UTF8
    gb_text = codecs.getincrementaldecoder("gb18030")("replace").decode(sample, final=False)
    gbk_text = codecs.getincrementaldecoder("gbk")("replace").decode(sample, final=False)
    return "GBK" if gb_text == gbk_text else "GB18030"


def detect_encoding(sample: bytes, *, truncated: bool | None = None) -> str:
    """The encoding of a file from its first bytes: a name Python's codecs know ("UTF-8", "GBK", "GB18030", …).

    `truncated` says whether the sample is only the start of the file (by default: when it is SAMPLE_BYTES long);
    only then may its last character be cut."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    final = len(sample) < SAMPLE_BYTES if truncated is None else not truncated
    as_utf8 = _decode_start(sample, "utf-8", final)
    as_gb = _decode_start(sample, "gb18030", final)
    if as_utf8 is not None:
        if sample.isascii() or as_gb is None or _utf8_reads_as_chinese(as_utf8) or not _gb_reads_as_chinese(as_gb):
            return UTF8
        return _gb_name(sample, as_gb, final)
    if as_gb is not None:
        return _gb_name(sample, as_gb, final)
    if nearly := _nearly(sample):
        return nearly
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise SourceInvalid(gettext("无法识别文件编码：请将文件另存为 UTF-8、GBK 或 GB18030 编码后重新上传"))
    return str(best.encoding).upper()


def python_codec(encoding: str) -> str:
    """The codec that reads a whole file of a detected encoding: GB18030 for "GBK", since it decodes every GBK
    file identically and also the GB18030-only characters a GBK-looking start may be followed by."""
    name = codecs.lookup(encoding).name
    return "gb18030" if name == "gbk" else name


def needs_transcoding(encoding: str) -> bool:
    return codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig")


def decode_sample(sample: bytes, encoding: str) -> str:
    """The start of a file as text (a character cut at the sample's end is left out; bad bytes become U+FFFD)."""
    return codecs.getincrementaldecoder(python_codec(encoding))("replace").decode(sample, final=False)


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except FileNotFoundError as exc:
        raise SourceInvalid(gettext(UPLOAD_MISSING) % {"name": path.name}) from exc
    except OSError as exc:
        raise SourceUnavailable(gettext(UPLOAD_UNREADABLE) % {"reason": exc.strerror or exc}) from exc


# glibc's malloc hands each chunk-sized buffer of the child (read, decoded, encoded: a few MB) back to the kernel
# when it is freed, so every chunk faults in fresh pages: a third of the child's CPU time. These limits keep the freed
# memory for the next chunk (the child holds some 40 MB at most either way). Other C libraries ignore the variable.
_MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=134217728"


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["GLIBC_TUNABLES"] = ":".join(filter(None, [env.get("GLIBC_TUNABLES", ""), _MALLOC_TUNABLES]))
    return env


class TranscodingReader:
    """A file in a non-UTF-8 encoding read as UTF-8 bytes, decoded by a child process writing into a pipe.

    A thread drains the pipe into a bounded queue, so that the child runs ahead of the parser instead of waiting
    for it at every pipe-full (which, on a busy machine, made the two take turns). Undecodable bytes become
    U+FFFD (the CSV reader rejects the rows that hold one). The child counts and hashes the source bytes;
    `finish()` waits for it and puts the figures into the stats."""

    def __init__(
        self,
        path: Path,
        encoding: str,
        stats: ReadStats,
        progress: Callable[[int], None] | None = None,
        *,
        source_per_utf8: float = 1.0,
    ) -> None:
        self._stats = stats
        self._progress = progress
        self._ratio = source_per_utf8
        self._utf8_read = 0
        self._finished = False
        self._stopping = False
        # Whether a U+FFFD (an undecodable byte) went by: until then the rows need no checking.
        self.replaced = False
        self._held = memoryview(b"")
        self._ended = False
        self._chunks: queue.Queue[bytes] = queue.Queue(maxsize=_QUEUED_CHUNKS)
        # The child writes a byte here before the first chunk holding a U+FFFD of its own (see _transcode.py).
        self._flag, flag_out = os.pipe()
        os.set_blocking(self._flag, False)
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - our own script, run by this interpreter
                [sys.executable, "-I", "-S", str(_TRANSCODER), str(path), python_codec(encoding), str(flag_out)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                env=_child_environment(),
                pass_fds=(flag_out,),
            )
        except BaseException:
            os.close(self._flag)
            raise
        finally:
            os.close(flag_out)
        assert self._proc.stdout is not None
        self._out = self._proc.stdout
        with contextlib.suppress(OSError):  # a smaller pipe is only slower
            fcntl.fcntl(self._out.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
        self._pump = threading.Thread(target=self._drain_pipe, name="govshare-transcode-pipe", daemon=True)
        self._pump.start()

    def _drain_pipe(self) -> None:
        """Pipe reads return at most a pipe-full (1 MB); they are joined into chunks of up to _CHUNK_BYTES, so that
        the CSV parser gets blocks of that size (a quarter of the batches, of the Python calls and of the parser's
        per-block work). A smaller chunk goes out at once when the parser has nothing queued (the start)."""
        fd = self._out.fileno()
        ended = False
        while not ended:
            pieces: list[bytes] = []
            size = 0
            while size < _CHUNK_BYTES and not (pieces and self._chunks.empty()):
                try:
                    piece = os.read(fd, _CHUNK_BYTES - size)
                except OSError:
                    piece = b""
                if not piece:
                    ended = True
                    break
                pieces.append(piece)
                size += len(piece)
            chunk = pieces[0] if len(pieces) == 1 else b"".join(pieces)
            if chunk:
                self._put(chunk)
        self._put(b"")

    def _put(self, chunk: bytes) -> None:
        while not self._stopping:
            try:
                self._chunks.put(chunk, timeout=0.1)
                return
            except queue.Full:
                continue

    @property
    def closed(self) -> bool:
        return self._out.closed

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if not self._held and not self._ended:
            chunk = self._chunks.get()
            self._ended = not chunk
            self._note(chunk)
            if size < 0 or size >= len(chunk):
                return chunk  # the usual case (pyarrow asks for a block larger than a chunk): no copy
            self._held = memoryview(chunk)
        size = len(self._held) if size < 0 else size
        data, self._held = bytes(self._held[:size]), self._held[size:]
        return data

    def _note(self, chunk: bytes) -> None:
        if chunk and not self.replaced and self._flag >= 0:
            with contextlib.suppress(BlockingIOError):
                self.replaced = bool(os.read(self._flag, 1))
        self._utf8_read += len(chunk)
        if chunk and self._progress is not None:
            self._progress(int(self._utf8_read * self._ratio))

    def finish(self) -> None:
        """Wait for the child (reading what is left) and record the source's byte count and checksum."""
        if self._finished:
            return
        while self.read(_CHUNK_BYTES):
            pass
        assert self._proc.stderr is not None
        err = self._proc.stderr.read()
        self._proc.wait()
        self._finished = True
        lines = err.decode("utf-8", "replace").strip().splitlines()
        if self._proc.returncode != 0 or not lines:
            reason = lines[-1] if lines else gettext("转码进程异常退出")
            raise SourceUnavailable(gettext(TRANSCODING_FAILED) % {"reason": reason})
        figures = json.loads(lines[-1])
        self._stats.bytes_read = int(figures["bytes"])
        self._stats.sha256 = str(figures["sha256"])

    def close(self) -> None:
        self._stopping = True
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._pump.join(timeout=10)
        self._out.close()
        if self._flag >= 0:  # never twice: the number may be another file's by then
            os.close(self._flag)
            self._flag = -1
        if self._proc.stderr is not None:
            self._proc.stderr.close()
