// example-check-js: every alerting rule has a runbook_url annotation and a
// severity label.
//
// Same behaviour as the Rust, Python and C versions in examples/checks/ (see
// examples/checks/README.md for the exact verdicts and messages).
// Build: componentize-js app.js --wit wit --world-name check -d http fetch-event -o example-check-js.wasm
import { log } from 'cutover:plugin/host@0.1.3';

const NAME = 'example-check-js';

/** A typed `plugin-error`: componentize-js lowers `payload` as the `err` value. */
class PluginFailure extends Error {
  constructor(tag, message) {
    super(message);
    this.payload = { tag, val: message };
  }
}

const invalid = (msg) => new PluginFailure('invalid-input', msg);

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** True when obj is an object whose key holds a non-empty string. */
const hasText = (obj, key) => isObject(obj) && typeof obj[key] === 'string' && obj[key] !== '';

const text = (obj, key) => (isObject(obj) && typeof obj[key] === 'string' ? obj[key] : '');

/** Evaluates a Prometheus /api/v1/rules JSON document. */
function judge(rulesText) {
  let doc;
  try {
    doc = JSON.parse(rulesText);
  } catch (e) {
    throw invalid(`params.rules: not valid JSON: ${e.message}`);
  }
  const data = isObject(doc) ? doc.data : undefined;
  const groups = isObject(data) ? data.groups : undefined;
  if (!Array.isArray(groups)) {
    throw invalid('params.rules: expected data.groups to be an array');
  }
  let total = 0;
  let missingRunbook = 0;
  let missingSeverity = 0;
  const offenders = [];
  groups.forEach((group, gi) => {
    const rules = isObject(group) ? group.rules : undefined;
    if (!Array.isArray(rules)) {
      throw invalid(`params.rules: data.groups[${gi}].rules: expected an array`);
    }
    for (const rule of rules) {
      if (!isObject(rule) || rule.type !== 'alerting') continue;
      total += 1;
      const missing = [];
      if (!hasText(rule.annotations, 'runbook_url')) {
        missingRunbook += 1;
        missing.push('runbook_url');
      }
      if (!hasText(rule.labels, 'severity')) {
        missingSeverity += 1;
        missing.push('severity');
      }
      if (missing.length > 0) {
        offenders.push(`${text(group, 'name')}/${text(rule, 'name')} (${missing.join(', ')})`);
      }
    }
  });
  let verdict;
  let message;
  if (total === 0) {
    verdict = 'no-data';
    message = 'no alerting rules in the rule set';
  } else if (offenders.length > 0) {
    verdict = 'fail';
    message = `${offenders.length} of ${total} alerting rules lack a runbook_url annotation or a severity label: ${offenders.join(', ')}`;
  } else {
    verdict = 'pass';
    message = `all ${total} alerting rules have a runbook_url annotation and a severity label`;
  }
  return {
    verdict,
    message,
    measurements: [
      { name: 'rules_total', value: total },
      { name: 'rules_missing_runbook', value: missingRunbook },
      { name: 'rules_missing_severity', value: missingSeverity },
    ],
  };
}

export function describe() {
  return {
    name: NAME,
    version: '0.1.0',
    kind: 'check',
    capabilities: { hosts: [], directories: [], configKeys: [], secrets: [] },
    description: 'Every alerting rule has a runbook_url annotation and a severity label (JavaScript).',
  };
}

export function evaluate(ctx) {
  let params;
  try {
    params = JSON.parse(ctx.params);
  } catch {
    params = undefined;
  }
  if (!isObject(params)) throw invalid('params: expected a JSON object');
  if (typeof params.rules !== 'string') {
    throw invalid('params.rules: expected a string holding the rule set as JSON');
  }
  const verdict = judge(params.rules);
  log('info', `checked ${verdict.measurements[0].value} alerting rules`, [['plugin', NAME]]);
  return verdict;
}
