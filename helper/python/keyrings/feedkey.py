"""A keyring backend that answers for the package feeds feedkey signs in to.

twine, Poetry, pdm and hatch use the keyring library in their own process, so
they never run feedkey's helper the way pip and uv do. This backend runs it
for them: for a service that is an http(s) URL, or Poetry's
``poetry-repository-NAME`` entry of a source with such a URL, it asks the
helper (``--mode creds --output json get``); for anything else it answers
nothing without running anything, and keyring's chainer asks the next backend
(the OS keychain). It never stores or deletes: feedkey owns its credentials.

Standard library only (Python 3.8+): it is imported by every program that
imports keyring once installed, so it must be cheap and must never raise.
"""

import json
import os
import shutil
import subprocess
import sys

from keyring import backend, credentials

__all__ = ["FeedkeyKeyring", "find_helper"]

# Above the OS backends (5) and below keyring's chainer (10), which then asks
# this backend first and the OS keychain for what it does not answer.
PRIORITY = 9.5

_POETRY_PREFIX = "poetry-repository-"
_MAX_ANSWER = 1 << 20  # the helper's JSON answer; anything longer is not it


def _native(path):
    """Whether path is a compiled program (the helper), not a script.

    Python keyring's own ``keyring`` command is a script on Unix; running it
    from here would load this backend again.
    """
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError:
        return False
    return magic in (
        b"\x7fELF",
        b"\xcf\xfa\xed\xfe",  # Mach-O 64-bit
        b"\xce\xfa\xed\xfe",  # Mach-O 32-bit
        b"\xca\xfe\xba\xbe",  # Mach-O universal
    )


def find_helper(environ=None):
    """Return the path of feedkey's helper, or None.

    In order: $FEEDKEY_KEYRING; ``feedkey-keyring`` on PATH (the packages
    install it so); a compiled ``keyring`` on PATH (``feedkey install`` puts
    it there for pip); the ``keyring`` beside ``feedkey`` on PATH.
    """
    environ = os.environ if environ is None else environ
    explicit = environ.get("FEEDKEY_KEYRING")
    if explicit:
        return explicit if os.path.isfile(explicit) else None
    path = environ.get("PATH", os.defpath)
    found = shutil.which("feedkey-keyring", path=path)
    if found:
        return found
    if sys.platform == "win32":
        # Python's keyring.exe is a launcher, compiled too: only feedkey's
        # own directory is trusted to hold ours.
        feedkey = shutil.which("feedkey", path=path)
        candidates = [os.path.join(os.path.dirname(feedkey), "keyring.exe")] if feedkey else []
        local = environ.get("LOCALAPPDATA")
        if local:
            candidates.append(os.path.join(local, "feedkey", "bin", "keyring.exe"))
        for c in candidates:
            if os.path.isfile(c):
                return c
        return None
    for d in path.split(os.pathsep):
        c = os.path.join(d or os.curdir, "keyring")
        if os.path.isfile(c) and os.access(c, os.X_OK) and _native(c):
            return c
    feedkey = shutil.which("feedkey", path=path)
    if feedkey:
        c = os.path.join(os.path.dirname(os.path.realpath(feedkey)), "keyring")
        if os.path.isfile(c) and _native(c):
            return c
    return None


def _is_url(service):
    s = service.lower()
    return s.startswith("https://") or s.startswith("http://")


def _load_toml(path):
    """Parse a TOML file with whatever parser this Python has, else None."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    for name in ("tomllib", "tomli"):
        try:
            mod = __import__(name)
            return mod.loads(data.decode("utf-8"))
        except ImportError:
            continue
        except Exception:  # a broken file is not ours to report
            return None
    try:  # Poetry vendors tomlkit: present in its process on any Python
        import tomlkit

        return tomlkit.parse(data.decode("utf-8")).unwrap()
    except Exception:
        return None


def _poetry_config_dir(environ):
    d = environ.get("POETRY_CONFIG_DIR")
    if d:
        return d
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(environ.get("APPDATA", home), "pypoetry")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support", "pypoetry")
    return os.path.join(environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "pypoetry")


def poetry_source_url(name, environ=None, cwd=None):
    """Return the URL of Poetry's repository or source called name, or None.

    Looked up where Poetry looks: POETRY_REPOSITORIES_<NAME>_URL, the
    ``[repositories.NAME]`` table of Poetry's config.toml, then the
    ``[[tool.poetry.source]]`` entries of the nearest pyproject.toml.
    """
    environ = os.environ if environ is None else environ
    key = "POETRY_REPOSITORIES_" + name.upper().replace("-", "_").replace(".", "_") + "_URL"
    if environ.get(key):
        return environ[key]
    cfg = _load_toml(os.path.join(_poetry_config_dir(environ), "config.toml")) or {}
    repo = (cfg.get("repositories") or {}).get(name)
    if isinstance(repo, dict) and isinstance(repo.get("url"), str):
        return repo["url"]
    d = os.path.abspath(cwd or os.getcwd())
    while True:
        project = os.path.join(d, "pyproject.toml")
        if os.path.isfile(project):
            doc = _load_toml(project) or {}
            for src in ((doc.get("tool") or {}).get("poetry") or {}).get("source") or []:
                if isinstance(src, dict) and src.get("name") == name and isinstance(src.get("url"), str):
                    return src["url"]
            return None
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


class _classproperty:
    """A read-only property of a class, as keyring reads ``priority``."""

    def __init__(self, fget):
        self.fget = fget

    def __get__(self, obj, owner):
        return self.fget(owner)


class FeedkeyKeyring(backend.KeyringBackend):
    """Answers for feedkey's feeds by running feedkey's helper."""

    _helper_path = ()  # not looked up yet

    @classmethod
    def _helper(cls):
        if cls._helper_path == ():
            cls._helper_path = find_helper()
        return cls._helper_path

    @_classproperty
    def priority(cls):
        """Above the OS keychains; raises (keyring: "not viable") without a helper."""
        if cls._helper() is None:
            raise RuntimeError("feedkey's helper is not installed (run `feedkey install`)")
        return PRIORITY

    def _url(self, service):
        if not isinstance(service, str):
            return None
        if _is_url(service):
            return service
        if service.startswith(_POETRY_PREFIX):
            url = poetry_source_url(service[len(_POETRY_PREFIX):])
            if url and _is_url(url):
                return url
        return None

    def _ask(self, service, username):
        url = self._url(service)
        helper = self._helper()
        if url is None or helper is None:
            return None
        argv = [helper, "--mode", "creds", "--output", "json", "get", url]
        if username:
            argv.append(username)
        try:
            # stderr stays the user's: a sign-in prompt shows there. The
            # helper bounds its own waits (a sign-in lasts until its code
            # expires); the timeout is only against a wedged process.
            done = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=1800, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode != 0 or len(done.stdout) > _MAX_ANSWER:
            return None
        try:
            answer = json.loads(done.stdout.decode("utf-8"))
        except ValueError:
            return None
        if not isinstance(answer, dict):
            return None
        user, password = answer.get("username"), answer.get("password")
        if not isinstance(password, str) or not password:
            return None
        return credentials.SimpleCredential(user if isinstance(user, str) else username, password)

    def get_credential(self, service, username):
        """Return feedkey's credential for a feed URL, or None to defer."""
        return self._ask(service, username)

    def get_password(self, service, username):
        """Return feedkey's token for a feed URL, or None to defer."""
        c = self._ask(service, username)
        return c.password if c is not None else None

    def set_password(self, service, username, password):
        """Defer: keyring's chainer then stores it in the next backend."""
        raise NotImplementedError("feedkey stores only its own feeds' credentials")

    def delete_password(self, service, username):
        """Defer: keyring's chainer then deletes it from the next backend."""
        raise NotImplementedError("feedkey deletes its credentials with `feedkey logout`")
