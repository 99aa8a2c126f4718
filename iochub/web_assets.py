"""Browser libraries that generated HTML pages load, kept on this machine so pages work offline.

Great Expectations' Data Docs load Bootstrap, jQuery, Font Awesome, Vega and friends from public
CDNs, which an operations-room network (and this project's machines) cannot reach. ``make setup``
fetches the same releases once from the npm registry (a package registry, like PyPI) into
``.tools/web-assets/``, each tarball checked against the integrity hash npm publishes; then
:func:`localise` copies the files a page needs next to it and points the page at them.

Nothing here is written by hand that a library does: npm tarballs are plain gzip'd tar files and
the rewrite is a string replacement of known URLs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
import shutil
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parents[1] / ".tools" / "web-assets"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # npm's dist.integrity (sha512, base64)
    licence: str

    @property
    def folder(self) -> str:
        return f"{self.name.replace('/', '__')}-{self.version}"

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


PACKAGES = [
    Package(
        "bootstrap",
        "4.3.1",
        "sha512-rXqOmH1VilAt2DyPzluTi2blhk17bO7ef+zLLPlWvG494pDxcM234pJ8wTc/6R40UWizAIIMgxjvxZg5kmsbag==",
        "MIT",
    ),
    Package(
        "jquery",
        "3.7.1",
        "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        "MIT",
    ),
    Package(
        "popper.js",
        "1.12.9",
        "sha512-s0EEi9xiSCdqz9lV4IiVH5yIZnDX/U1t0tCjB+0jXx9jW8lrR7kOpVupiUg175ogqVoudpDXHF1p6dKATCHMeg==",
        "MIT",
    ),
    Package(
        "@fortawesome/fontawesome-free",
        "6.6.0",
        "sha512-60G28ke/sXdtS9KZCpZSHHkCbdsOGEhIUGlwq6yhY74UpTiToIh8np7A8yphhM4BWsvNFtIvLpi4co+h9Mr9Ow==",
        "CC-BY-4.0 AND OFL-1.1 AND MIT",
    ),
    Package(
        "bootstrap-datepicker",
        "1.9.0",
        "sha512-9rYYbaVOheGYxjOr/+bJCmRPihfy+LkLSg4fIFMT9Od8WwWB/MB50w0JO1eBgKUMbb7PFHQD5uAfI3ArAxZRXA==",
        "Apache-2.0",
    ),
    Package(
        "bootstrap-table",
        "1.19.1",
        "sha512-WvV+l1AI/C+zThaKmfHmi/IuayVNB0qdFyEhFx1jyZhO0oLtNJNANkCR3rvJf6Dkh72dsLElxpE/bzK9seEQLA==",
        "MIT",
    ),
    Package(
        "@forevolve/bootstrap-dark",
        "1.1.0",
        "sha512-A3ucpEpxPoTVO490lZZCfjPXxv832l7mm1IxX3bXyxvgwnPGXDLyh7dWrphXKO8YBAu3EswbBEu3VSW8NRMW3A==",
        "MIT",
    ),
    Package(
        "vega",
        "5.33.1",
        "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==",
        "BSD-3-Clause",
    ),
    Package(
        "vega-lite",
        "5.23.0",
        "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
        "BSD-3-Clause",
    ),
    Package(
        "vega-embed",
        "6.29.0",
        "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
        "BSD-3-Clause",
    ),
]
_BY_NAME = {package.name: package for package in PACKAGES}

# Each CDN address Data Docs use → (package, file inside its tarball). The filter-control
# stylesheet is asked for at 1.19.0; 1.19.1 ships the same file.
CDN_FILES: dict[str, tuple[str, str]] = {
    url: (package, inner)
    for url, package, inner in [
        (
            "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css",
            "bootstrap",
            "dist/css/bootstrap.min.css",
        ),
        (
            "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js",
            "bootstrap",
            "dist/js/bootstrap.min.js",
        ),
        (
            "https://code.jquery.com/jquery-3.7.1.min.js",
            "jquery",
            "dist/jquery.min.js",
        ),
        (
            "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js",
            "popper.js",
            "dist/umd/popper.min.js",
        ),
        (
            "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css",
            "@fortawesome/fontawesome-free",
            "css/all.min.css",
        ),
        (
            "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css",
            "bootstrap-datepicker",
            "dist/css/bootstrap-datepicker.min.css",
        ),
        (
            "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js",
            "bootstrap-datepicker",
            "dist/js/bootstrap-datepicker.min.js",
        ),
        (
            "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css",
            "bootstrap-table",
            "dist/bootstrap-table.min.css",
        ),
        (
            "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js",
            "bootstrap-table",
            "dist/bootstrap-table.min.js",
        ),
        (
            "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
            "bootstrap-table",
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
        ),
        (
            "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
            "bootstrap-table",
            "dist/extensions/filter-control/bootstrap-table-filter-control.css",
        ),
        (
            "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
            "bootstrap-table",
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
        ),
        (
            "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",
            "@forevolve/bootstrap-dark",
            "dist/css/bootstrap-prefers-dark.css",
        ),
        (
            "https://cdn.jsdelivr.net/npm/vega@5",
            "vega",
            "build/vega.min.js",
        ),
        (
            "https://cdn.jsdelivr.net/npm/vega-lite@5",
            "vega-lite",
            "build/vega-lite.min.js",
        ),
        (
            "https://cdn.jsdelivr.net/npm/vega-embed@6",
            "vega-embed",
            "build/vega-embed.min.js",
        ),
    ]
}
# Folders a stylesheet reaches by relative path (Font Awesome's fonts).
COMPANIONS = {"@fortawesome/fontawesome-free": ["webfonts"]}
# GX's navbar takes its logo from a bucket; the same images ship in the site's static folder.
GX_IMAGES = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"


class AssetsMissing(Exception):
    """The web assets are not on this machine; the message says how to fetch them."""


def _check(data: bytes, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise ValueError(f"integrity mismatch ({algorithm}): the download is not what npm lists")


def fetch(target: Path = ASSETS_DIR) -> list[str]:
    """Download and unpack every package not yet in ``target``; returns those fetched."""
    fetched = []
    for package in PACKAGES:
        folder = target / package.folder
        if folder.is_dir():
            continue
        log.info("fetching %s %s from the npm registry", package.name, package.version)
        with urllib.request.urlopen(package.tarball, timeout=60) as answer:
            data = answer.read()
        _check(data, package.integrity)
        staging = target / f".{package.folder}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            archive.extractall(staging, filter="data")
        # npm tarballs hold one top folder, usually ``package/``.
        (top,) = list(staging.iterdir())
        top.rename(folder)
        staging.rmdir()
        fetched.append(f"{package.name}@{package.version}")
    return fetched


def localise(site: Path, assets: Path = ASSETS_DIR) -> int:
    """Copy the libraries the HTML pages under ``site`` use into ``site/vendor/`` and point the
    pages at those copies (and GX's logo at the site's own images). Returns pages changed."""
    missing = [p.name for p in PACKAGES if not (assets / p.folder).is_dir()]
    if missing:
        raise AssetsMissing(
            f"web assets missing ({', '.join(missing)}): run `make setup` (it fetches them from "
            "the npm registry); until then the pages need the internet to be styled"
        )
    vendor = site / "vendor"
    local: dict[str, str] = {}
    for url, (name, inner) in CDN_FILES.items():
        package = _BY_NAME[name]
        source = assets / package.folder / inner
        destination = vendor / package.folder / inner
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        for companion in COMPANIONS.get(name, []):
            shutil.copytree(
                assets / package.folder / companion,
                vendor / package.folder / companion,
                dirs_exist_ok=True,
            )
        local[url] = destination.relative_to(site).as_posix()
    changed = 0
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        up = "../" * (len(page.relative_to(site).parts) - 1)
        new = text
        for url, relative in local.items():
            new = new.replace(f'"{url}"', f'"{up}{relative}"')
        new = new.replace(GX_IMAGES, f"{up}static/images/")
        new = _TAG.sub(_without_cdn_attributes, new)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


_TAG = re.compile(r"<(?:script|link)\b[^>]*>")
_CDN_ATTRIBUTES = re.compile(r"""\s+(?:integrity|crossorigin)(?:="[^"]*")?""")


def _without_cdn_attributes(match: re.Match[str]) -> str:
    """A page opened from disk has no origin: the browser refuses a local file loaded with
    ``crossorigin`` (and its ``integrity`` hash was the CDN's). Dropped on our copies only."""
    tag = match.group(0)
    return _CDN_ATTRIBUTES.sub("", tag) if "vendor/" in tag else tag


def main() -> None:
    """``python -m iochub.web_assets``: fetch what is missing (``make setup`` runs it)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    fetched = fetch()
    print(f"web assets: {', '.join(fetched) if fetched else 'all present'} ({ASSETS_DIR})")


if __name__ == "__main__":
    main()
