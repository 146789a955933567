"""Data reaches pages escaped: no `|safe`, no `mark_safe` of data, no inline script anywhere.

Templates are scanned as text, Python through `ast`, our own JavaScript as text. Values go into
pages through `{{ value|json_script:"id" }}` or data-* attributes and are read by the static
scripts under `fangkong/static/js/`; the Content-Security-Policy (script-src 'self') refuses
inline scripts, so an inline one would also be a broken page.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fangkong"
VENDOR = PACKAGE / "static" / "vendor"

# Lines allowed to break a rule below, as "path:line-text-fragment" → why. Keep it empty; an
# entry needs a reason a reviewer accepts (a constant that cannot carry data).
ALLOWLIST: dict[str, str] = {}

# Templates rendered as HTML pages. These are fed to WeasyPrint only (never served as a page), so
# their <style> blocks are not subject to the browser's policy; they are still scanned for |safe.
NOT_A_PAGE = {
    "reports/templates/reports/rollup_pdf.html",
    "accounts/templates/accounts/slips_pdf.html",
}

TEMPLATE_RULES = [
    (re.compile(r"\|\s*safe(seq)?\b"), "|safe / |safeseq"),
    (re.compile(r"\{%\s*autoescape\s+off\s*%\}"), "{% autoescape off %}"),
    (re.compile(r"\{%\s*filter\s+[^%]*\bsafe\b"), "{% filter safe %}"),
]
PAGE_RULES = [
    # An inline <script> (no src=) with code in it; a script element must load a static file.
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    # Inline event handler attributes (onclick=, onsubmit=, …) and htmx's hx-on (it evaluates).
    (re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"<style\b", re.I), "<style> element"),
]
# Markup trusted as-is, and templates compiled from a string (a user's text would be a template).
UNSAFE_CALLS = {
    "mark_safe",
    "SafeString",
    "SafeText",
    "format_html",
    "format_html_join",
    "Template",
    "from_string",
}
JS_RULES = [
    (
        re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write"),
        "HTML built from strings",
    ),
    (re.compile(r"\beval\s*\(|new\s+Function\s*\("), "eval"),
]


def _templates():
    return sorted(p for p in PACKAGE.rglob("templates/**/*") if p.is_file())


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name


def _allowed(path: Path, line: str) -> bool:
    rel = _rel(path)
    return any(key.split(":", 1)[0] == rel and key.split(":", 1)[1] in line for key in ALLOWLIST)


def _scan(path: Path, rules) -> list[str]:
    found = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for pattern, what in rules:
            if pattern.search(line) and not _allowed(path, line):
                found.append(f"{_rel(path)}:{no}: {what}: {line.strip()[:120]}")
    return found


def test_the_scan_sees_the_templates():
    names = {p.relative_to(PACKAGE).as_posix() for p in _templates()}
    assert "reports/templates/reports/rollup.html" in names
    assert "templates/base.html" in names


def test_templates_never_mark_data_safe():
    found = [line for p in _templates() for line in _scan(p, TEMPLATE_RULES)]
    assert not found, "Use json_script or plain {{ value }} instead:\n" + "\n".join(found)


def test_pages_have_no_inline_script():
    pages = [
        p
        for p in _templates()
        if p.suffix == ".html" and p.relative_to(PACKAGE).as_posix() not in NOT_A_PAGE
    ]
    found = [line for p in pages for line in _scan(p, PAGE_RULES)]
    assert not found, (
        "Move scripts and handlers into fangkong/static/js/ (data-* attributes, json_script):\n"
        + "\n".join(found)
    )


def _constant(node: ast.expr) -> bool:
    """A literal string (or an implicit concatenation of them): it cannot carry data."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _constant(node.left) and _constant(node.right)
    return False


def _unsafe_calls(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in UNSAFE_CALLS:
            continue
        if name in {"format_html", "format_html_join"}:
            # format_html escapes its arguments; only the format string must be a constant.
            index = 0 if name == "format_html" else 1
            checked = node.args[index : index + 1]
        else:
            checked = list(node.args) + [k.value for k in node.keywords]
        line = lines[node.lineno - 1]
        if (not checked or not all(_constant(a) for a in checked)) and not _allowed(path, line):
            found.append(f"{_rel(path)}:{node.lineno}: {name}: {line.strip()}")
    return found


def test_python_never_marks_data_safe():
    files = [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]
    found = [line for p in sorted(files) for line in _unsafe_calls(p)]
    assert not found, "Render through a template (autoescaped) instead:\n" + "\n".join(found)


def test_the_python_scan_catches_data(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from django.utils.html import format_html\n"
        "from django.utils.safestring import mark_safe\n"
        "a = mark_safe('<b>fixed</b>')\n"
        "b = mark_safe(name)\n"
        "c = format_html('<b>{}</b>', name)\n"
        "d = format_html(template, name)\n"
        "e = mark_safe(f'<b>{name}</b>')\n"
        "f = Template('{{ x }}')\n"
        "g = engines['django'].from_string(body)\n",
        encoding="utf-8",
    )
    found = _unsafe_calls(sample)
    assert [f.split(": ")[1] for f in found] == [
        "mark_safe",
        "format_html",
        "mark_safe",
        "from_string",
    ]
    assert [int(f.split(":")[1]) for f in found] == [4, 6, 7, 9]


def test_our_scripts_do_not_build_html_from_strings():
    scripts = [
        p for p in PACKAGE.rglob("static/**/*.js") if VENDOR not in p.parents and p.is_file()
    ]
    assert scripts, "no scripts found"
    found = [line for p in sorted(scripts) for line in _scan(p, JS_RULES)]
    assert not found, "Build elements with textContent instead:\n" + "\n".join(found)
