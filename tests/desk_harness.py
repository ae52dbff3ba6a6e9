"""The desk as its users meet it: a drafted project with one user of each kind, `tarjoman serve`
running as its own process on a free loopback port (stopped by its PID), and Debian's Chromium
driven through chromedriver (no browser download).

Fixtures (imported by conftest): ``desk_drafted`` (the sample drafted in all four languages with
the demo model, once per session), ``desk_root`` (a copy of it with the users below, per
test), ``desk_server`` (the server on it), ``browser`` (a factory of headless Chromium sessions)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pg_cluster import skip_or_fail

REPO = Path(__file__).resolve().parent.parent
DEMO_MODEL = REPO / "sources" / "demo-model"  # drafts that read like translations, in 10 s
PASSWORD = "correct horse battery"
# name → (role, languages)
USERS = {
    "tara": ("translator", "ar,ur"),
    "tom": ("translator", "en,fr"),
    "ed": ("editor", ""),
    "pub": ("publisher", ""),
    "adm": ("admin", ""),
}
PROPOSED = "کارون"  # a term of the sample left undecided in the desk's glossary
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def tarjoman(root, *args, stdin: str | None = None, timeout=600, env=None):
    return subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(root), *args], capture_output=True, text=True,
                          input=stdin, timeout=timeout, env={**os.environ, **(env or {})})


def add_users(root: Path, users: dict[str, tuple[str, str]] = USERS, password: str = PASSWORD) -> None:
    for name, (role, langs) in users.items():
        args = ["user", "add", name, "--role", role] + (["--lang", langs] if langs else [])
        done = tarjoman(root, *args, stdin=password + "\n")
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="session")
def desk_drafted(tmp_path_factory):
    from conftest import SAMPLE, SAMPLE_GLOSSARY

    root = tmp_path_factory.mktemp("desk") / "project"
    (root / "sources").mkdir(parents=True)
    (root / "glossaries").mkdir()
    shutil.copy(SAMPLE, root / "sources" / "sample.docx")
    # The sample's glossary without «کارون» (the river, in ch01): `glossary suggest` proposes it, for an editor to decide.
    rows = SAMPLE_GLOSSARY.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    (root / "glossaries" / "sample.csv").write_text("".join(r for r in rows if not r.startswith(PROPOSED + ",")), encoding="utf-8")
    done = tarjoman(root, "extract", str(root / "sources" / "sample.docx"), "--book", "sample")
    assert done.returncode == 0, done.stderr
    done = tarjoman(root, "draft", "sample", "--model", str(DEMO_MODEL), "--beams", "1")
    assert done.returncode == 0, done.stderr
    done = tarjoman(root, "glossary", "suggest", "sample")
    assert done.returncode == 0 and "1 new proposed" in done.stdout, done.stdout + done.stderr
    add_users(root)
    return root


@pytest.fixture
def desk_root(desk_drafted, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(desk_drafted, copy)
    return copy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DeskServer:
    """`tarjoman serve` on a free port; its output goes to ``log``."""

    def __init__(self, root: Path, *, env: dict | None = None, args: tuple[str, ...] = ()):
        self.root = Path(root)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.root / "desk-server.log"
        self.env = env or {}
        self.args = args
        self.process: subprocess.Popen | None = None

    def start(self) -> "DeskServer":
        handle = open(self.log, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "tarjoman", "--root", str(self.root), "serve", "--port", str(self.port), *self.args],
                                        stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **self.env})
        handle.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the desk exited with {self.process.returncode}: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the desk did not start in 60 s: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def client(self, name: str | None = None, password: str = PASSWORD) -> "Session":
        session = Session(self.url)
        if name is not None:
            session.login(name, password)
        return session

    def __enter__(self) -> "DeskServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Session(httpx.Client):
    """An HTTP client with a desk login: ``csrf`` goes in the header of every change."""

    def __init__(self, url: str):
        super().__init__(base_url=url, timeout=60, follow_redirects=False)
        self.csrf = ""

    def login(self, name: str, password: str = PASSWORD) -> httpx.Response:
        response = self.post("/api/login", json={"name": name, "password": password})
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]
        return response

    def change(self, method: str, url: str, **kwargs) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.request(method, url, headers=headers, **kwargs)


@pytest.fixture
def desk_server(desk_root):
    with DeskServer(desk_root) as server:
        yield server


@pytest.fixture
def browser():
    """A factory of headless Chromium sessions (each its own profile: its own cookies), all quit at the end."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        skip_or_fail(f"the browser tests need Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER})")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def make(width: int = 1300, height: int = 1000):
        options = Options()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}",
                    "--lang=en-US"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(60)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()


@contextmanager
def logged_in(make, server: DeskServer, name: str, password: str = PASSWORD):
    """A browser session logged in through the login form."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = make()
    driver.get(server.url + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 20).until(ec.url_to_be(server.url + "/"))
    yield driver
