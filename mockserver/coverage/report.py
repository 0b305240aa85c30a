"""Coverage documents as JSON, Markdown and JUnit XML, and the merging of several (xdist workers).

Plain functions over GET /__mock/coverage's JSON: the server renders its own counts with them,
and the pytest plugin renders the documents it gathered, without a server.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

MARKDOWN_TYPE = "text/markdown; charset=utf-8"
JUNIT_TYPE = "application/xml"
FORMATS = ("json", "markdown", "junit")


def answers_of(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Yield (api, operation, answer) for every documented answer of `doc`, in its order."""
    for api, found in doc["apis"].items():
        for operation in found["operations"]:
            for answer in operation["answers"]:
                yield api, operation, answer


def summarize(doc: dict[str, Any]) -> dict[str, Any]:
    """Set `doc`'s summary from its answers: documented, covered (count at least 1), percent."""
    answers = [answer for _, _, answer in answers_of(doc)]
    covered = sum(1 for answer in answers if answer["count"] >= 1)
    percent = round(100 * covered / len(answers), 1) if answers else 0.0
    doc["summary"] = {"documented": len(answers), "covered": covered, "percent": percent}
    return doc


def merge(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up several documents of the same APIs (xdist workers' servers) into one."""
    if not docs:
        raise ValueError("no coverage documents to merge")
    merged: dict[str, Any] = {"since": min(doc["since"] for doc in docs), "apis": {}, "undocumented": []}
    counts: dict[tuple[Any, ...], list[int]] = {}
    for doc in docs:
        for api, operation, answer in answers_of(doc):
            total = counts.setdefault((api, operation["method"], operation["path"], answer["status"]), [0, 0])
            total[0] += answer["count"]
            total[1] += answer["injected"]
    for api, found in docs[0]["apis"].items():
        merged["apis"][api] = {
            "operations": [
                {
                    "method": operation["method"],
                    "path": operation["path"],
                    "answers": [
                        {
                            "status": answer["status"],
                            "documented": True,
                            "count": counts[(api, operation["method"], operation["path"], answer["status"])][0],
                            "injected": counts[(api, operation["method"], operation["path"], answer["status"])][1],
                        }
                        for answer in operation["answers"]
                    ],
                }
                for operation in found["operations"]
            ]
        }
    extra: dict[tuple[Any, ...], int] = {}
    for doc in docs:
        for row in doc["undocumented"]:
            key = (row["api"], row["method"], row["path"], row["status"])
            extra[key] = extra.get(key, 0) + row["count"]
    merged["undocumented"] = [
        {"api": api, "method": method, "path": path, "status": status, "count": extra[(api, method, path, status)]}
        for api, method, path, status in sorted(extra)
    ]
    return summarize(merged)


def summary_line(doc: dict[str, Any]) -> str:
    summary = doc["summary"]
    return f"Covered {summary['covered']} of {summary['documented']} documented answers ({summary['percent']}%)."


def to_markdown(doc: dict[str, Any]) -> str:
    """One table row per documented answer, then the summary line."""
    lines = [
        "| API | Operation | Status | Count | Injected | Covered |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for api, operation, answer in answers_of(doc):
        covered = "yes" if answer["count"] else "**no**"
        lines.append(
            f"| {api} | {operation['method']} {operation['path']} | {answer['status']} "
            f"| {answer['count']} | {answer['injected']} | {covered} |"
        )
    return "\n".join(lines) + "\n\n" + summary_line(doc) + "\n"


def to_junit(doc: dict[str, Any]) -> str:
    """JUnit XML: one testsuite per API, one testcase per documented answer; uncovered ones fail."""
    summary = doc["summary"]
    root = ET.Element(
        "testsuites",
        name="mockserver coverage",
        tests=str(summary["documented"]),
        failures=str(summary["documented"] - summary["covered"]),
    )
    for api, found in doc["apis"].items():
        cases = [(operation, answer) for operation in found["operations"] for answer in operation["answers"]]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=api,
            tests=str(len(cases)),
            failures=str(sum(1 for _, answer in cases if not answer["count"])),
            errors="0",
            skipped="0",
        )
        for operation, answer in cases:
            where = f"{operation['method']} {operation['path']}"
            case = ET.SubElement(suite, "testcase", classname=f"{api}.{where}", name=str(answer["status"]), time="0")
            if not answer["count"]:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"{api} {where}: the documented {answer['status']} was never answered",
                    type="uncovered",
                )
                advice = (
                    f"Inject it (a fault rule, or Prefer: code={answer['status']}) to see how the client handles it."
                    if answer["status"] >= 400
                    else "Send one that succeeds."
                )
                failure.text = f"Not answered since {doc['since']}. {advice}"
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{answer['count']} answers, {answer['injected']} of them injected"
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def render(doc: dict[str, Any], fmt: str) -> tuple[str, str]:
    """Return (text, content type) of `doc` in `fmt` (markdown or junit)."""
    if fmt == "markdown":
        return to_markdown(doc), MARKDOWN_TYPE
    if fmt == "junit":
        return to_junit(doc), JUNIT_TYPE
    raise ValueError(f"unknown coverage format {fmt!r}")
