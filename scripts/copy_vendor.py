"""Copy pinned npm packages (see package.json / package-lock.json) into static files."""

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = {
    "node_modules/htmx.org/dist/htmx.min.js": "htmx.min.js",
    "node_modules/echarts/dist/echarts.min.js": "echarts.min.js",
}


def main() -> None:
    target = ROOT / "fangkong" / "static" / "vendor"
    target.mkdir(parents=True, exist_ok=True)
    for source, name in FILES.items():
        shutil.copyfile(ROOT / source, target / name)
    print(f"copied {len(FILES)} vendor files to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
