"""example-check-python: every alerting rule has a runbook_url annotation and a
severity label.

Same behaviour as the Rust, JavaScript and C versions in examples/checks/
(see examples/checks/README.md for the exact verdicts and messages).
Build: componentize-py -d wit -w check componentize app -o example-check-python.wasm
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import host, types

NAME = "example-check-python"


def _invalid(msg: str) -> Err:
    return Err(types.PluginError_InvalidInput(msg))


def _has_text(obj, key: str) -> bool:
    """True when obj is an object whose key holds a non-empty string."""
    return isinstance(obj, dict) and isinstance(obj.get(key), str) and obj[key] != ""


def _text(obj, key: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def judge(rules_text: str) -> types.Verdict:
    """Evaluates a Prometheus /api/v1/rules JSON document."""
    try:
        doc = json.loads(rules_text)
    except ValueError as e:
        raise _invalid(f"params.rules: not valid JSON: {e}")
    data = doc.get("data") if isinstance(doc, dict) else None
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise _invalid("params.rules: expected data.groups to be an array")
    total = missing_runbook = missing_severity = 0
    offenders = []
    for gi, group in enumerate(groups):
        rules = group.get("rules") if isinstance(group, dict) else None
        if not isinstance(rules, list):
            raise _invalid(f"params.rules: data.groups[{gi}].rules: expected an array")
        for rule in rules:
            if not isinstance(rule, dict) or rule.get("type") != "alerting":
                continue
            total += 1
            missing = []
            if not _has_text(rule.get("annotations"), "runbook_url"):
                missing_runbook += 1
                missing.append("runbook_url")
            if not _has_text(rule.get("labels"), "severity"):
                missing_severity += 1
                missing.append("severity")
            if missing:
                offenders.append(
                    f"{_text(group, 'name')}/{_text(rule, 'name')} ({', '.join(missing)})"
                )
    if total == 0:
        kind, message = types.VerdictKind.NO_DATA, "no alerting rules in the rule set"
    elif offenders:
        kind = types.VerdictKind.FAIL
        message = (
            f"{len(offenders)} of {total} alerting rules lack a runbook_url annotation "
            f"or a severity label: {', '.join(offenders)}"
        )
    else:
        kind = types.VerdictKind.PASS
        message = f"all {total} alerting rules have a runbook_url annotation and a severity label"
    return types.Verdict(
        verdict=kind,
        message=message,
        measurements=[
            types.Measurement(name="rules_total", value=float(total)),
            types.Measurement(name="rules_missing_runbook", value=float(missing_runbook)),
            types.Measurement(name="rules_missing_severity", value=float(missing_severity)),
        ],
    )


class WitWorld(wit_world.WitWorld):
    def describe(self) -> types.Descriptor:
        return types.Descriptor(
            name=NAME,
            version="0.1.0",
            kind=types.PluginKind.CHECK,
            capabilities=types.Capabilities(hosts=[], directories=[], config_keys=[], secrets=[]),
            description="Every alerting rule has a runbook_url annotation and a severity label (Python).",
        )

    def evaluate(self, ctx: types.Context) -> types.Verdict:
        try:
            params = json.loads(ctx.params)
        except ValueError:
            params = None
        if not isinstance(params, dict):
            raise _invalid("params: expected a JSON object")
        rules = params.get("rules")
        if not isinstance(rules, str):
            raise _invalid("params.rules: expected a string holding the rule set as JSON")
        verdict = judge(rules)
        host.log(
            host.LogLevel.INFO,
            f"checked {int(verdict.measurements[0].value)} alerting rules",
            [("plugin", NAME)],
        )
        return verdict
