"""A PostgreSQL primary and a streaming replica of its own, in a temporary directory, for tests.

``initdb`` and ``pg_basebackup -R`` from Debian's PostgreSQL 15, on free
ports, away from the shared server. PostgreSQL refuses to run as root: when
the tests are root (CI), the servers run as the ``postgres`` user.
"""
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.processes import free_port, wait_for

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(command):
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def run(command, **kwargs):
    return subprocess.run(_as_postgres(command), check=True, capture_output=True, text=True, **kwargs)


@dataclass
class Server:
    data: Path
    port: int

    def url(self, database="store"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self):
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        run([str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.data / "log"), "-w", "start"])

    def stop(self, mode="immediate"):
        subprocess.run(
            _as_postgres([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]), capture_output=True
        )

    def sql(self, statement, database="store"):
        return run([str(BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                    "-tAXc", statement]).stdout.strip()


def available() -> bool:
    return (BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)


class Replication:
    """``with Replication() as (primary, replica):`` both running, database ``store`` on both."""

    def __enter__(self):
        self.root = Path(tempfile.mkdtemp(prefix="store-replication-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.primary = Server(self.root / "primary", free_port())
        self.replica = Server(self.root / "replica", free_port())
        try:
            run([str(BIN / "initdb"), "-D", str(self.primary.data), "-A", "trust", "-U", "postgres", "--no-sync"])
            self.primary.start()
            self.primary.sql("CREATE DATABASE store", database="postgres")
            run([str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
                 "-D", str(self.replica.data), "-R", "-X", "stream", "-c", "fast", "--no-sync"])
            self.replica.start()
            wait_for(lambda: self.replica.sql("SELECT pg_is_in_recovery()") == "t", 30, "the replica did not start")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self.primary, self.replica

    def __exit__(self, *exc):
        self.replica.stop()
        self.primary.stop()
        shutil.rmtree(self.root, ignore_errors=True)
