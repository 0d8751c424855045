"""Bounded, non-blocking reads of files named by a spec (or of the spec itself).

``lightdsl check`` runs in CI on specs nobody has vetted: every file it reads is a regular file,
opened without blocking (a FIFO would wait for a writer forever), and read at most a fixed
number of bytes in all (a device like /dev/zero, a lying header or a zip's directory cannot
make it read more).
"""

from __future__ import annotations

import errno
import io
import os
import stat

READ_LIMIT = 8 * 2**20  # bytes, in all, that check reads of one data file


class ReadLimit(OSError):
    """A read that would go past its limit, or of a file that is not a regular file."""


def file_kind(path: str) -> str | None:
    """What ``path`` is when it exists but is not a regular file ("a directory", "a FIFO
    (named pipe)", ...), else None. Only stats: never opens, so never blocks."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None  # missing (warned about), or a name the system refuses
    if stat.S_ISREG(mode):
        return None
    return ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


class BoundedFile(io.RawIOBase):
    """A regular file, read-only, that refuses (:class:`ReadLimit`) to hand out more than
    ``limit`` bytes in all, however its reader (zipfile, gzip, csv) asks for them."""

    def __init__(self, path: str, limit: int = READ_LIMIT):
        super().__init__()
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # checked on what was opened: no race
            os.close(fd)
            raise ReadLimit(errno.EINVAL, f"{file_kind(path) or 'not a regular file'}, not a file",
                            path)
        self._file = open(fd, "rb", buffering=0)  # noqa: SIM115 (closed by close())
        self.name, self.limit, self.left = path, limit, limit

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def readinto(self, buffer) -> int:
        if self.left <= 0 and len(buffer):
            raise ReadLimit(errno.EFBIG, f"more than {self.limit:,} bytes", self.name)
        count = self._file.readinto(memoryview(buffer)[:self.left])
        self.left -= count
        return count

    def close(self) -> None:
        if hasattr(self, "_file"):
            self._file.close()
        super().close()


def read_head(path: str, size: int) -> bytes:
    """At most ``size`` bytes from the start of a regular file (ReadLimit if not one)."""
    with BoundedFile(path, size) as handle:
        return handle.read(size)
