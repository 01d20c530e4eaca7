"""A throwaway bank mesh for the interop tests: `bank up` in a temporary
directory with its own certificates, its own database names and Redis key
prefix, and OS-chosen ports. Only the process started here is ever stopped
(by its PID), and only the databases and keys named with this run's prefix
are ever dropped, so a developer's `bank_*` databases and a running
`make run` are never touched."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("auth", "account", "transfer", "finance", "analytics")
# The flags of `bank up` this harness needs for isolation.
REQUIRED_UP_FLAGS = ("--database-prefix", "--redis-prefix", "--ephemeral-ports", "--addresses-file", "--admin-base-port")

# Limits: every wait is bounded in time and in polls.
CERTS_TIMEOUT_SECS = 60
ADDRESSES_TIMEOUT_SECS = 60
READY_TIMEOUT_SECS = 180
POLL_INTERVAL_SECS = 0.25
HEALTH_CALL_TIMEOUT_SECS = 2
STOP_GRACE_SECS = 30
REDIS_SCAN_BATCH = 500
REDIS_SCAN_ROUNDS_MAX = 10_000
LOG_TAIL_LINES = 60


class MeshError(RuntimeError):
    pass


def default_bank_binary() -> Path:
    return Path(os.environ.get("BANK_BIN", REPO_ROOT / "target" / "debug" / "bank"))


def _poll(deadline_secs: float):
    """Yields until the deadline, sleeping between polls; bounded by count too."""
    end = time.monotonic() + deadline_secs
    for _ in range(int(deadline_secs / POLL_INTERVAL_SECS) + 1):
        if time.monotonic() >= end:
            return
        yield
        time.sleep(POLL_INTERVAL_SECS)


class Mesh:
    """`bank up` with isolation; use as a context manager."""

    def __init__(
        self,
        bank: Optional[Path] = None,
        database_url: Optional[str] = None,
        redis_url: Optional[str] = None,
        admin_email: str = "admin@pysdk.test",
    ):
        self.bank = Path(bank or default_bank_binary())
        self.database_url = database_url or os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
        )
        self.redis_url = redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
        self.admin_email = admin_email
        # Lower case letters, digits and '_' only: valid in database names.
        self.prefix = f"pysdk_{uuid.uuid4().hex[:12]}"
        self.redis_prefix = f"test:{self.prefix}"
        self.workdir = Path(tempfile.mkdtemp(prefix="bank-pysdk-"))
        self.certs = self.workdir / "certs"
        self.addresses_file = self.workdir / "addresses.json"
        self.log_path = self.workdir / "bank-up.log"
        self.addresses: Dict[str, str] = {}
        self.process: Optional[subprocess.Popen] = None
        self._log = None

    # -- names -------------------------------------------------------------

    @property
    def databases(self) -> List[str]:
        return [f"{self.prefix}_{service}" for service in SERVICES]

    @property
    def gateway(self) -> str:
        return self.addresses["gateway"]

    @property
    def admin_password(self) -> str:
        return (self.certs / "admin.password").read_text().strip()

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> "Mesh":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if not self.bank.exists():
            raise MeshError(f"{self.bank} does not exist: run `cargo build -p bank-cli` first")
        self._check_flags()
        subprocess.run(
            [str(self.bank), "certs", "--dir", str(self.certs)],
            check=True,
            capture_output=True,
            timeout=CERTS_TIMEOUT_SECS,
        )
        self._log = open(self.log_path, "wb")
        command = [
            str(self.bank),
            "up",
            "--certs", str(self.certs),
            "--host", "127.0.0.1",
            "--ephemeral-ports",
            "--admin-base-port", "0",
            "--addresses-file", str(self.addresses_file),
            "--database-url", self.database_url,
            "--database-prefix", self.prefix,
            "--redis-url", self.redis_url,
            "--redis-prefix", self.redis_prefix,
            "--admin-email", self.admin_email,
        ]
        env = dict(os.environ, BANK_LOG=os.environ.get("BANK_LOG", "info"), NO_COLOR="1")
        env.pop("BANK_CONFIG", None)
        self.process = subprocess.Popen(
            command, cwd=self.workdir, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        self._wait_for_addresses()
        self._wait_until_serving()

    def _check_flags(self) -> None:
        help_text = subprocess.run(
            [str(self.bank), "up", "--help"], check=True, capture_output=True, text=True, timeout=30
        ).stdout
        missing = [flag for flag in REQUIRED_UP_FLAGS if flag not in help_text]
        if missing:
            raise MeshError(
                f"`bank up` lacks {', '.join(missing)}: the interop tests need them to run a mesh "
                "isolated from a developer's (own database names, Redis prefix and ports)"
            )

    def _exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def _wait_for_addresses(self) -> None:
        for _ in _poll(ADDRESSES_TIMEOUT_SECS):
            if self._exited():
                raise MeshError(f"bank up exited with {self.process.returncode}\n{self.log_tail()}")
            if self.addresses_file.exists():
                self.addresses = json.loads(self.addresses_file.read_text())
                if "gateway" not in self.addresses:
                    raise MeshError(f"no gateway in {self.addresses_file}: {self.addresses}")
                return
        raise MeshError(f"bank up wrote no addresses in {ADDRESSES_TIMEOUT_SECS} s\n{self.log_tail()}")

    def _wait_until_serving(self) -> None:
        """Until the gateway reports every public service SERVING (it probes each
        backend's health every few seconds)."""
        channel = grpc.insecure_channel(self.gateway)
        health = health_pb2_grpc.HealthStub(channel)
        pending = set(public_services())
        last_error = None
        try:
            for _ in _poll(READY_TIMEOUT_SECS):
                if self._exited():
                    raise MeshError(f"bank up exited with {self.process.returncode}\n{self.log_tail()}")
                for service in sorted(pending):
                    try:
                        reply = health.Check(
                            health_pb2.HealthCheckRequest(service=service), timeout=HEALTH_CALL_TIMEOUT_SECS
                        )
                    except grpc.RpcError as error:
                        last_error = f"{service}: {error.code().name} {error.details()}"
                        continue
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        pending.discard(service)
                    else:
                        last_error = f"{service}: {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}"
                if not pending:
                    return
        finally:
            channel.close()
        raise MeshError(
            f"not SERVING after {READY_TIMEOUT_SECS} s: {sorted(pending)} (last: {last_error})\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stops our `bank up` by PID, then drops this run's databases and keys."""
        errors = []
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # bank up drains, then exits
            try:
                self.process.wait(timeout=STOP_GRACE_SECS)
            except subprocess.TimeoutExpired:
                errors.append(f"bank up (pid {self.process.pid}) ignored SIGTERM for {STOP_GRACE_SECS} s; killed")
                self.process.kill()
                self.process.wait(timeout=STOP_GRACE_SECS)
        if self._log is not None:
            self._log.close()
            self._log = None
        try:
            self._drop_databases()
        except Exception as error:  # reported, then the rest of the cleanup still runs
            errors.append(f"dropping databases {self.databases}: {error}")
        try:
            self._delete_redis_keys()
        except Exception as error:
            errors.append(f"deleting Redis keys {self.redis_prefix}:*: {error}")
        if os.environ.get("BANK_PYSDK_KEEP_WORKDIR"):
            print(f"kept {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if errors:
            raise MeshError("; ".join(errors))

    def _drop_databases(self) -> None:
        import psycopg

        for name in self.databases:
            # Never anything but this run's own names.
            assert re.fullmatch(r"pysdk_[0-9a-f]{12}_[a-z]+", name), name
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=10) as conn:
            for name in self.databases:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _delete_redis_keys(self) -> None:
        import redis

        assert self.redis_prefix.startswith("test:pysdk_")
        client = redis.Redis.from_url(self.redis_url, socket_timeout=10)
        try:
            cursor = 0
            for _ in range(REDIS_SCAN_ROUNDS_MAX):
                cursor, keys = client.scan(cursor=cursor, match=f"{self.redis_prefix}:*", count=REDIS_SCAN_BATCH)
                if keys:
                    client.unlink(*keys)
                if cursor == 0:
                    return
            raise MeshError(f"more than {REDIS_SCAN_ROUNDS_MAX} SCAN rounds")
        finally:
            client.close()

    def log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "--- bank up log (tail) ---\n" + "\n".join(lines[-LOG_TAIL_LINES:])


def public_services() -> List[str]:
    """Every public service of the contract, from the SDK's generated descriptors
    (so it follows proto/): bank.* services not ending in InternalService."""
    return sorted(name for name in all_services() if not name.endswith("InternalService"))


def all_services() -> List[str]:
    return sorted(service_descriptors())


def service_descriptors() -> Dict[str, object]:
    """Every service in the SDK's generated `*_pb2` modules, by full name."""
    import importlib
    import pkgutil

    import bank

    found = {}
    for module_info in pkgutil.walk_packages(bank.__path__, "bank."):
        if module_info.name.endswith("_pb2"):
            module = importlib.import_module(module_info.name)
            for service in module.DESCRIPTOR.services_by_name.values():
                found[service.full_name] = service
    return found
