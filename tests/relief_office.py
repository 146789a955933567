"""LibreOffice for tests: convert ledgers the way a real office suite saves them (.xls, .csv)."""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

# Filter options: comma-separated, double-quoted text, UTF-8 (character set 76).
CSV_UTF8 = "csv:Text - txt - csv (StarCalc):44,34,76"


def has_soffice() -> bool:
    return shutil.which("soffice") is not None


def require_soffice() -> None:
    """Skip on a developer machine without LibreOffice; in CI (CI=true) its absence is a failure."""
    if has_soffice():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("soffice is not installed: .ci/run must install libreoffice-calc-nogui")
    pytest.skip("LibreOffice (soffice) is not installed")


def libreoffice_convert(src: Path, fmt: str, outdir: Path, timeout: float = 120) -> Path:
    """`soffice --headless --convert-to fmt` into outdir; returns the converted file.

    fmt is "xlsx", "xls" or CSV_UTF8. Each call gets its own throw-away profile, because two
    soffice processes sharing one profile (parallel test runs) block or fail on its lock.
    """
    src, outdir = Path(src), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / f"{src.stem}.{fmt.split(':', 1)[0]}"
    out.unlink(missing_ok=True)  # never mistake an earlier conversion for this one
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        cmd = [
            "soffice",
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(src),
        ]
        # Its own session, so a timeout can end soffice.bin too, not only the wrapper script.
        # A fixed argument list, no shell: the only input is a path the test wrote.
        proc = subprocess.Popen(  # noqa: S603
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError(f"soffice did not convert {src.name} within {timeout} s") from None
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"soffice could not convert {src.name} to {fmt}: {stdout} {stderr}")
    return out
