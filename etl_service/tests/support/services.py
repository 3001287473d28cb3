"""Start real services for tests and benchmarks: PostgreSQL 15, moto (AWS) and fakesnow.

Each listens on 127.0.0.1 on a free port, keeps its files in a temp dir, and is stopped by
its context manager.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from etl_service.settings import Settings, SnowflakeSettings


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder, if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server."""

    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root, so run them as the postgres system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _self_signed_certificate(folder: Path, host: str) -> tuple[Path, Path]:
    """A certificate for ``host`` signed by its own key, and the key (PEM files)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)  # the server refuses a key others may read
    return cert_file, key_file


@contextmanager
def postgres_server(*, tls: bool = False) -> Iterator[PostgresServer]:
    """Run a throwaway PostgreSQL cluster (trust auth on 127.0.0.1) for the block; with
    ``tls``, it also accepts TLS connections with a self-signed certificate for 127.0.0.1."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="etl-pg-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    data, log = root / "data", root / "server.log"
    port = free_port()
    run = subprocess.run
    run(
        _as_postgres_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    opts = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    if tls:
        cert_file, key_file = _self_signed_certificate(root, "127.0.0.1")
        if os.geteuid() == 0:
            for path in (cert_file, key_file):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        opts += f" -c ssl=on -c ssl_cert_file={cert_file} -c ssl_key_file={key_file}"
    run(
        _as_postgres_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield PostgresServer("127.0.0.1", port, "postgres")
    finally:
        run(
            _as_postgres_user(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class MotoServer:
    """A running moto server (the local AWS endpoint)."""

    endpoint_url: str
    region: str = "us-east-1"
    access_key: str = "testing"
    secret_key: str = "testing"  # moto accepts any credentials

    def settings(self, **extra: Any) -> Settings:
        """Settings whose AWS access goes to this server (``extra``: any other setting)."""
        return Settings(
            aws_endpoint_url=self.endpoint_url,
            aws_region=self.region,
            aws_access_key_id=SecretStr(self.access_key),
            aws_secret_access_key=SecretStr(self.secret_key),
            **extra,
        )


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    """Run moto's threaded server for the block."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield MotoServer(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@contextmanager
def moto_process() -> Iterator[MotoServer]:
    """Run a moto server, with ``moto_gaps`` filled, in a process of its own for the block.

    Its state starts empty and is nobody else's: in-process servers share moto's backends.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "etl_service.tests.support.moto_gaps", "--port", str(port)]
    )
    try:
        wait_for_port(port, process=process)
        yield MotoServer(f"http://127.0.0.1:{port}")
    finally:
        stop_process(process, timeout_s=30)


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout_s``."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def fakesnow_server() -> Iterator[dict[str, Any]]:
    """Run a fakesnow server (the local Snowflake endpoint); yields connection kwargs."""
    import fakesnow

    with fakesnow.server() as kwargs:
        yield kwargs


def fakesnow_settings(kwargs: dict[str, Any], database: str, **extra: Any) -> SnowflakeSettings:
    """``ETL_SNOWFLAKE__*`` settings that reach the fakesnow server of ``kwargs``."""
    return SnowflakeSettings(
        account=kwargs["account"],
        user=kwargs["user"],
        password=kwargs["password"],
        host=kwargs["host"],
        port=kwargs["port"],
        protocol=kwargs["protocol"],
        database=database,
        **extra,
    )


def wait_for_port(
    port: int, timeout_s: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until something accepts connections on 127.0.0.1:port (or ``process`` exits)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s")
