"""forbidden-words: an mlgate gate written in Python (built with componentize-py).

Reports every line of the text files under input `paths` that contains one of
the configured words (default: `DO-NOT-SHIP`). Build:

    componentize-py -d wit -w gate componentize app -o forbidden_words.wasm
"""

import hashlib
import json
import os

import wit_world
from componentize_py_types import Err
from wit_world.imports import host
from wit_world.imports.types import (
    Finding,
    GateError,
    GateResult,
    InputSpec,
    Location,
    Metric,
    PluginInfo,
    Rule,
    Severity,
)

RULE = "forbidden-word"
DEFAULT_WORDS = ["DO-NOT-SHIP"]
MAX_FILE_BYTES = 8 << 20

SCHEMA = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "words": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
    }
)


def fingerprint(*parts):
    """Stable across line shifts: rule, path and the word, never the line."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode()
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:32]


def files_under(root):
    """Regular files under `root` (or `root` itself), sorted, no symlinks."""
    if os.path.isfile(root):
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                found.append(path)
    return found


def scan(path, words):
    """Findings for one file: each line holding a forbidden word."""
    if os.path.getsize(path) > MAX_FILE_BYTES:
        return []
    findings = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.decode("utf-8", "replace")
            for word in words:
                if word in line:
                    findings.append(
                        Finding(
                            rule_id=RULE,
                            severity=Severity.HIGH,
                            message=f"`{word}` must not ship",
                            location=Location(path, number, line.index(word) + 1, None),
                            fingerprint=fingerprint(RULE, path, word),
                            properties=[("word", word)],
                        )
                    )
    return findings


class WitWorld(wit_world.WitWorld):
    def describe(self) -> PluginInfo:
        return PluginInfo(
            name="forbidden-words",
            version="0.1.0",
            description="Lines holding a forbidden word (Python example)",
            rules=[
                Rule(
                    RULE,
                    Severity.HIGH,
                    "A file holds a forbidden word",
                    "Remove the marked text before it ships.",
                )
            ],
            inputs=[InputSpec("paths", "Files or a directory to scan", True)],
            config_schema=SCHEMA,
        )

    def run(self, request) -> GateResult:
        try:
            config = json.loads(request.config or "{}")
        except ValueError as e:
            raise Err(GateError("config", f"config is not valid JSON: {e}"))
        unknown = set(config) - {"words"}
        if unknown:
            raise Err(GateError("config", f"unknown config keys: {sorted(unknown)}"))
        words = config.get("words", DEFAULT_WORDS)
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
            raise Err(GateError("config", "`words` must be a non-empty list of strings"))
        inputs = [i for i in request.inputs if i.name == "paths"]
        if not inputs:
            raise Err(GateError("input", "missing required input `paths`"))
        files = files_under(inputs[0].path)
        findings = []
        for done, path in enumerate(files, start=1):
            findings.extend(scan(path, words))
            host.progress(done, len(files))
        host.log(host.LogLevel.INFO, f"scanned {len(files)} file(s)")
        return GateResult(
            findings=findings,
            summary=f"{len(findings)} forbidden word(s) in {len(files)} file(s)",
            metrics=[Metric("files", float(len(files)))],
        )
