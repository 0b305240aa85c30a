"""MkDocs hooks: the reference pages' generated parts, made from the code at build time.

A page asks for a part with a marker on a line of its own; the hook puts the part in its place:

- `<!-- generated: cli-options -->`: every option of `mockserver serve`, from the CLI's own table,
  with its environment variable and its default from `Settings`;
- `<!-- generated: operations PREFIX -->`: every operation of the OpenAPI document the server
  serves whose path starts with PREFIX, with its parameters and its documented answers;
- `<!-- generated: fixtures -->`: the shipped fixture files, their records and fields;
- `<!-- generated: mock-defined -->`: the table of mock-defined behaviour, from
  `docs/reference/mock-defined.toml`, each choice beside the vendor's words it stands by.

Nothing here is written by hand: a new option, call or fixture field shows up on the next build.
"""

from __future__ import annotations

import html
import json
import re
import tomllib
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

MARKER = re.compile(r"^<!-- generated: ([a-z-]+)(?: (\S+))? -->$", re.M)
METHODS = ("get", "put", "post", "patch", "delete")


def cell(text: Any) -> str:
    """Return `text` fit for one cell of a Markdown table."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def literal(text: str) -> str:
    """Return `text` fit for one cell, shown as written: no character of it is read as Markdown."""
    return cell(re.sub(r"([\\`*_{}\[\]()#+!])", r"\\\1", text))


def code(text: str) -> str:
    return f"`{text}`"


def cli_options() -> str:
    from mockserver.cli import serve_options
    from mockserver.config import Settings

    defaults = {spec.name: spec.default for spec in fields(Settings)}
    rows = ["| option | environment | default | meaning |", "| --- | --- | --- | --- |"]
    for flag, dest, text in serve_options():
        default = defaults.get(dest)
        if default in (None, ""):
            shown = "none"
        else:
            shown = code(str(default).lower() if isinstance(default, bool) else str(default))
        rows.append(f"| {code(flag)} | {code('MOCKSERVER_' + dest.upper())} | {shown} | {cell(text)} |")
    return "\n".join(rows)


@cache
def openapi_document() -> dict[str, Any]:
    from mockserver.app import create_app
    from mockserver.openapi.document import document

    app = create_app({"store": "memory", "seed": 42})
    with app.app_context():
        return document(app)


def operations(prefix: str) -> str:
    doc = openapi_document()
    out: list[str] = []
    for path, item in doc["paths"].items():
        if not path.startswith(prefix):
            continue
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            out.append(f"### `{method.upper()} {path}`\n")
            summary = operation.get("summary") or operation.get("description") or ""
            if summary:
                out.append(summary.strip() + "\n")
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            if parameters:
                out.append("| parameter | in | required | description |\n| --- | --- | --- | --- |")
                for parameter in parameters:
                    description = parameter.get("description") or parameter.get("schema", {}).get("description", "")
                    required = "yes" if parameter.get("required") else "no"
                    out.append(f"| {code(parameter['name'])} | {parameter['in']} | {required} | {cell(description)} |")
                out.append("")
            body = operation.get("requestBody")
            if body is not None:
                kinds = ", ".join(code(kind) for kind in body.get("content", {}))
                required = "required" if body.get("required") else "optional"
                out.append(f"Request body: {kinds} ({required}).\n")
            out.append("| status | answer |\n| --- | --- |")
            for status, answer in operation.get("responses", {}).items():
                out.append(f"| {status} | {cell(answer.get('description', ''))} |")
            out.append("")
    if not out:
        raise ValueError(f"the OpenAPI document has no path under {prefix!r}")
    return "\n".join(out)


def fixtures() -> str:
    from mockserver.config import shipped_fixtures

    root = shipped_fixtures()
    out: list[str] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        out.append(f"### `{folder.name}/`\n")
        out.append("| file | records | fields of its first record |\n| --- | --- | --- |")
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text())
            records = data if isinstance(data, list) else [data]
            first = records[0] if records and isinstance(records[0], dict) else {}
            names = ", ".join(code(name) for name in first)
            out.append(f"| {code(path.name)} | {len(records)} | {names} |")
        out.append("")
    return "\n".join(out)


MOCK_DEFINED = Path(__file__).parent / "reference" / "mock-defined.toml"
# Where a quote comes from: a vendor's page beside the project, or a section of the fact sheet.
PAGES = {"collect": "Collect, *Send multiple requests*", "insigner": "inSigner, *Bulk Send*"}
VENDORS = {"A": "Collect", "B": "inSigner"}


def quoted_from(where: str) -> str:
    """Name the place a quote of the table of mock-defined behaviour comes from."""
    if where in PAGES:
        return PAGES[where]
    return f"{VENDORS[where[0]]}'s docs, fact sheet §{where}"


def mock_defined_choices() -> list[dict[str, Any]]:
    """The rows of the table of mock-defined behaviour, as `mock-defined.toml` holds them."""
    with MOCK_DEFINED.open("rb") as file:
        return list(tomllib.load(file)["choice"])


def mock_defined() -> str:
    rows = ["| API | behaviour | the vendor's words | choice |", "| --- | --- | --- | --- |"]
    for row in mock_defined_choices():
        if "said" in row:
            words = "<br>".join(f"“{literal(text)}” ({quoted_from(where)})" for where, text in row["said"])
        else:
            words = f"*none*: {cell(row['silent'])}"
        # The behaviour and the choice are Markdown already (code spans, emphasis): only a pipe is escaped.
        api, behaviour, choice = (row[key].replace("|", "\\|") for key in ("api", "behaviour", "choice"))
        rows.append(f"| {api} | {behaviour} | {words} | {choice} |")
    return "\n".join(rows)


PARTS = {
    "cli-options": lambda arg: cli_options(),
    "operations": operations,
    "fixtures": lambda arg: fixtures(),
    "mock-defined": lambda arg: mock_defined(),
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Put each generated part in place of its marker."""

    def part(found: re.Match[str]) -> str:
        name, arg = found.group(1), found.group(2)
        if name not in PARTS:
            raise ValueError(f"{page.file.src_uri}: no generated part {name!r}")
        return PARTS[name](arg)

    return MARKER.sub(part, markdown)
